"""The noisy-label bundle, run tiny: metadata, network I/O, export, pretrain -> train -> resume -> evaluate -> infer."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import torch
from monai.bundle import ConfigParser, verify_net_in_out
from monai.bundle import run as bundle_run
from PIL import Image

from noisymed.data import write_dicom_image
from noisymed.networks import FeatureClassifier
from tests.conftest import check_model_zoo_layout, check_torchscript_export, exception_messages, parse_error, run_multi_gpu_bundle

BUNDLE = Path(__file__).resolve().parents[2] / "bundles" / "noisy_label_classification"
CONFIGS = BUNDLE / "configs"
TINY = {"widths": [4, 8, 8, 16], "backbone": "resnet10", "num_workers": 0}
LOGGING = str(CONFIGS / "logging.conf")


def test_model_zoo_layout():
    check_model_zoo_layout(BUNDLE, "pretrain.json")


def test_verify_net_in_out_and_torchscript_export(tmp_path):
    verify_net_in_out(net_id="network_def", meta_file=str(CONFIGS / "metadata.json"), config_file=str(CONFIGS / "inference.json"), device="cpu")
    torch.manual_seed(0)
    check_torchscript_export(CONFIGS, FeatureClassifier("resnet18", widths=(16, 32, 64, 128), num_classes=2), torch.rand(2, 1, 28, 28), tmp_path)


def _toy_npz(path: Path, n_train=64, n_val=16, seed=0) -> Path:
    """Two classes a CNN separates quickly: a bright left half (class 0) or right half (class 1), plus noise."""
    rng = np.random.default_rng(seed)

    def make(n):
        labels = np.arange(n) % 2
        images = rng.integers(0, 60, (n, 28, 28)).astype(np.uint8)
        for i, y in enumerate(labels):
            images[i, :, 14:] += 150 if y else 0
            images[i, :, :14] += 0 if y else 150
        return images, labels[:, None]

    (ti, tl), (vi, vl) = make(n_train), make(n_val)
    np.savez(path, train_images=ti, train_labels=tl, val_images=vi, val_labels=vl)
    return path


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    return _toy_npz(tmp_path_factory.mktemp("toy") / "toy.npz")


def _run(config_files, **overrides):
    bundle_run(config_file=[str(CONFIGS / c) for c in config_files], logging_file=LOGGING, **{**TINY, **overrides})


def test_pretrain_train_resume_evaluate_and_infer_png_nifti_dicom(tmp_path, toy):
    root = str(tmp_path)
    _run(["train.json", "pretrain.json"], bundle_root=root, dataset=str(toy), pretrain_epochs=1, batch_size=16)
    pretrained = tmp_path / "models" / "pretrained.pt"
    assert pretrained.is_file()

    _run(
        ["train.json"], bundle_root=root, dataset=str(toy), epochs=2, batch_size=16, noise_rate=0.25,
        method="mixup_attention", pretrained=str(pretrained), learning_rate=0.01,
    )  # fmt: skip
    record = json.loads((tmp_path / "runs" / "noisy_labels_symmetric_exact_0.25_seed0.json").read_text())
    assert record["rate"] == 0.25 and record["num_samples"] == 64
    assert record["realised_rate"] == pytest.approx(16 / 64)  # exact mode: round(0.25 * 32) flips per class
    net = FeatureClassifier("resnet10", widths=(4, 8, 8, 16))
    net.load_state_dict(torch.load(tmp_path / "models" / "model.pt", weights_only=True))  # plain state dict
    full = torch.load(tmp_path / "models" / "checkpoint_final.pt", weights_only=False)
    assert {"model", "optimizer", "trainer"} <= set(full) and full["trainer"]["iteration"] == 8  # 2 epochs of 64 / 16

    _run(["train.json"], bundle_root=root, dataset=str(toy), epochs=3, batch_size=16, noise_rate=0.25, method="mixup_attention", resume=True)
    assert torch.load(tmp_path / "models" / "checkpoint_final.pt", weights_only=False)["trainer"]["iteration"] == 12

    _run(["train.json", "evaluate.json"], bundle_root=root, dataset=str(toy))
    metrics = dict(line.split(",") for line in (tmp_path / "eval" / "metrics.csv").read_text().split())
    assert set(metrics) == {"val_acc", "val_auc"} and 0.0 <= float(metrics["val_acc"]) <= 1.0
    probs = list(csv.reader((tmp_path / "eval" / "probabilities.csv").open()))
    assert probs[0] == ["filename", "0", "1"] and len(probs) == 17

    picture = np.load(toy)["val_images"][1]  # class 1
    Image.fromarray(picture).save(tmp_path / "case.png")
    nib.save(nib.Nifti1Image(picture.astype(np.float32), np.eye(4)), tmp_path / "case.nii.gz")
    write_dicom_image(picture, tmp_path / "case.dcm")
    inputs = [str(tmp_path / source) for source in ("case.png", "case.nii.gz", "case.dcm")]
    _run(["inference.json"], bundle_root=root, input=inputs, classes=["left", "right"], backbone="resnet10", widths=[4, 8, 8, 16])
    rows = list(csv.reader((tmp_path / "output" / "probabilities.csv").open()))
    assert rows[0] == ["filename", "left", "right"] and [Path(r[0]).name for r in rows[1:]] == ["case.png", "case.nii.gz", "case.dcm"]
    values = np.array([[float(v) for v in r[1:]] for r in rows[1:]])
    assert np.allclose(values.sum(1), 1.0, atol=1e-5)
    assert np.allclose(values, values[0], atol=1e-5)  # one picture, three formats, one answer

    # one CSV per run: a rerun refuses before writing anything; --overwrite true replaces the file whole
    before = (tmp_path / "output" / "probabilities.csv").read_text()
    with pytest.raises(Exception) as err:
        _run(["inference.json"], bundle_root=root, input=inputs[0], classes=["a", "b"], backbone="resnet10", widths=[4, 8, 8, 16])
    assert "probabilities.csv already exists" in exception_messages(err.value)
    assert (tmp_path / "output" / "probabilities.csv").read_text() == before
    _run(["inference.json"], bundle_root=root, input=inputs[0], classes=["a", "b"], backbone="resnet10", widths=[4, 8, 8, 16], overwrite=True)
    rows = list(csv.reader((tmp_path / "output" / "probabilities.csv").open()))
    assert rows[0] == ["filename", "a", "b"] and len(rows) == 2
    with pytest.raises(Exception) as err:
        _run(["train.json", "evaluate.json"], bundle_root=root, dataset=str(toy))
    assert "metrics.csv already exists" in exception_messages(err.value) and "--eval_dir" in exception_messages(err.value)



def test_bad_inputs_stop_with_a_named_error(tmp_path, toy):
    parser = ConfigParser()
    parser.read_config(str(CONFIGS / "train.json"))
    parser.update({"bundle_root": str(tmp_path), "dataset": str(tmp_path / "missing.npz")})
    assert "missing.npz: dataset not found" in parse_error(parser, "split")
    parser.update({"dataset": str(toy), "noise_rate": 1.0})
    message = parse_error(parser, "train_files")
    assert "rate" in message and "[0, 1)" in message
    parser.update({"noise_rate": 0.2, "method": "dividemix"})
    assert "method must be one of" in parse_error(parser, "train#trainer")
    inf = ConfigParser()
    inf.read_config(str(CONFIGS / "inference.json"))
    inf.update({"bundle_root": str(tmp_path), "input": str(tmp_path / "nothing.png")})
    assert "nothing.png: input not found" in parse_error(inf, "datalist")


def _train_parser(tmp_path, **overrides):
    parser = ConfigParser()
    parser.read_config(str(CONFIGS / "train.json"))
    parser.update({**TINY, "bundle_root": str(tmp_path), **overrides})
    return parser


def _pngs(folder: Path, n: int) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        Image.fromarray(np.full((8, 8), 10 * i, np.uint8)).save(folder / f"{i}.png")
    return [f"img/{i}.png" for i in range(n)]


def test_bad_labels_and_csvs_are_refused_naming_file_and_rows(tmp_path):
    paths = _pngs(tmp_path / "img", 8)
    table = tmp_path / "labels.csv"

    def message(text, **overrides):
        table.write_bytes(text if isinstance(text, bytes) else text.encode())
        return parse_error(_train_parser(tmp_path, dataset=str(table), **overrides), "split")

    stray = "path,label\n" + "".join(f"{p},{i % 2}\n" for i, p in enumerate(paths[:7])) + f"{paths[7]},7\n"
    assert "labels.csv: class indices [0, 1, 7] skip [2, 3, 4, 5, 6], so label(s) [7] (line 9)" in message(stray)
    assert "labels.csv: the 'label' column mixes class names (e.g. 'normal' on line 2) and class indices (e.g. '1' on line 3)" in message(
        "path,label\n" + f"{paths[0]},normal\n{paths[1]},1\n"
    )
    assert f"labels.csv, line 4: image '{paths[0]}' is already on line 2" in message(
        "path,label\n" + f"{paths[0]},0\n{paths[1]},1\n{paths[0]},1\n"
    )
    assert "labels.csv, line 3: empty 'label' cell" in message("path,label\n" + f"{paths[0]},0\n{paths[1]},\n")
    assert "labels.csv: not UTF-8 text: byte 24 (0xe9, line 2)" in message(f"path,label\n{paths[0]},caf".encode() + b"\xe9\n")
    assert "labels.csv: holds no data row, only the header ['path', 'label']" in message("path,label\n")
    assert "labels.csv: has no column ['label']; its columns are ['path', 'split']" in message(f"path,split\n{paths[0]},train\n")

    train, val = tmp_path / "train.csv", tmp_path / "val.csv"
    train.write_text("path,label\n" + "".join(f"{p},{i % 2}\n" for i, p in enumerate(paths[:6])))
    val.write_text("path,label\n" + f"{paths[6]},0\n{paths[2]},0\n")
    error = parse_error(_train_parser(tmp_path, dataset=str(train), val_dataset=str(val)), "split")
    assert "img/2.png is in the training set" in error and "val.csv): validation would score images the model trained on" in error


def test_a_nan_image_is_refused_at_load_and_a_3d_volume_at_inference(tmp_path):
    paths = _pngs(tmp_path / "img", 6)
    bad = np.zeros((8, 8), np.float32)
    bad[2, 3] = np.nan
    nib.save(nib.Nifti1Image(bad, np.eye(4)), tmp_path / "img" / "nan.nii.gz")
    (tmp_path / "train.csv").write_text("path,label\n" + "".join(f"{p},{i % 2}\n" for i, p in enumerate(paths[:4])) + "img/nan.nii.gz,1\n")
    (tmp_path / "val.csv").write_text(f"path,label\n{paths[4]},0\n{paths[5]},1\n")
    parser = _train_parser(tmp_path, dataset=str(tmp_path / "train.csv"), val_dataset=str(tmp_path / "val.csv"))
    assert "nan.nii.gz: 1 of 64 values are NaN or infinite (the first at (0, 2, 3))" in parse_error(parser, "train#dataset")

    nib.save(nib.Nifti1Image(np.zeros((8, 8, 5), np.float32), np.eye(4)), tmp_path / "volume.nii.gz")
    inf = ConfigParser()
    inf.read_config(str(CONFIGS / "inference.json"))
    inf.update({"bundle_root": str(tmp_path), "input": str(tmp_path / "volume.nii.gz")})
    with pytest.raises(Exception) as err:
        inf.get_parsed_content("dataset")[0]
    assert "volume.nii.gz: a 3D volume of shape (1, 8, 8, 5) (channel first), but this model takes 2D images" in exception_messages(err.value)


def test_training_stops_at_the_first_non_finite_loss_and_saves_no_model(tmp_path, toy):
    with pytest.raises(Exception) as err:
        _run(["train.json"], bundle_root=str(tmp_path), dataset=str(toy), epochs=1, batch_size=16, learning_rate=1e10)
    last = exception_messages(err.value).splitlines()[-1]
    assert last.startswith("loss=nan at iteration 2 (epoch 1, batch 2): training stopped and these weights are not saved")
    assert not (tmp_path / "models" / "model.pt").exists() and not (tmp_path / "models" / "checkpoint_final.pt").exists()


def test_multi_gpu_config_under_torchrun_gloo(tmp_path, toy):
    run_multi_gpu_bundle(
        CONFIGS,
        "--bundle_root", str(tmp_path), "--dataset", str(toy),
        "--backbone", "resnet10", "--widths", "[4,8,8,16]", "--num_workers", "0", "--batch_size", "8",
        "--epochs", "1", "--method", "mixup_attention", "--noise_rate", "0.2",
    )  # fmt: skip
    ckpt = torch.load(tmp_path / "models" / "checkpoint_final.pt", weights_only=False)
    assert ckpt["trainer"]["iteration"] == 4 and not any(k.startswith("module.") for k in ckpt["model"])
