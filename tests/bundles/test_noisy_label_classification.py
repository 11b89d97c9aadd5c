"""The noisy-label bundle, run tiny: metadata, network I/O, export, pretrain -> train -> resume -> evaluate -> infer."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import torch
from monai.bundle import ConfigParser, verify_metadata, verify_net_in_out
from monai.bundle import run as bundle_run
from PIL import Image

from noisymed.data import write_dicom_image
from noisymed.networks import FeatureClassifier
from tests.conftest import check_model_zoo_layout, check_torchscript_export, parse_error, run_multi_gpu_bundle

BUNDLE = Path(__file__).resolve().parents[2] / "bundles" / "noisy_label_classification"
CONFIGS = BUNDLE / "configs"
SCHEMA = Path(__file__).resolve().parents[3] / "shared" / "monai_schema" / "meta_schema_20240725.json"
TINY = {"widths": [4, 8, 8, 16], "backbone": "resnet10", "num_workers": 0}
LOGGING = str(CONFIGS / "logging.conf")


def test_model_zoo_layout():
    check_model_zoo_layout(BUNDLE, "pretrain.json")


@pytest.mark.skipif(not SCHEMA.is_file(), reason=f"MONAI schema copy not found at {SCHEMA} (ships in ../shared)")
def test_verify_metadata(tmp_path):
    schema = tmp_path / "schema.json"
    shutil.copy(SCHEMA, schema)
    verify_metadata(meta_file=str(CONFIGS / "metadata.json"), filepath=str(schema))


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
    for source in ("case.png", "case.nii.gz", "case.dcm"):
        _run(["inference.json"], bundle_root=root, input=str(tmp_path / source), classes=["left", "right"], backbone="resnet10", widths=[4, 8, 8, 16])
    rows = list(csv.reader((tmp_path / "output" / "probabilities.csv").open()))
    assert rows[0] == ["filename", "left", "right"] and [Path(r[0]).name for r in rows[1:]] == ["case.png", "case.nii.gz", "case.dcm"]
    values = np.array([[float(v) for v in r[1:]] for r in rows[1:]])
    assert np.allclose(values.sum(1), 1.0, atol=1e-5)
    assert np.allclose(values, values[0], atol=1e-5)  # one picture, three formats, one answer



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


def test_multi_gpu_config_under_torchrun_gloo(tmp_path, toy):
    run_multi_gpu_bundle(
        CONFIGS, 29547,
        "--bundle_root", str(tmp_path), "--dataset", str(toy),
        "--backbone", "resnet10", "--widths", "[4,8,8,16]", "--num_workers", "0", "--batch_size", "8",
        "--epochs", "1", "--method", "mixup_attention", "--noise_rate", "0.2",
    )  # fmt: skip
    ckpt = torch.load(tmp_path / "models" / "checkpoint_final.pt", weights_only=False)
    assert ckpt["trainer"]["iteration"] == 4 and not any(k.startswith("module.") for k in ckpt["model"])
