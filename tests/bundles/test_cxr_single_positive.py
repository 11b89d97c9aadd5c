"""The CXR single-positive bundle, run tiny: metadata, network I/O, export, train (MPC) / resume / evaluate,
inference on PNG and DICOM (MONOCHROME1), and the multi-GPU config under torchrun (gloo)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from monai.bundle import ConfigParser, verify_net_in_out
from monai.bundle import run as bundle_run
from PIL import Image

from noisymed.data import ensure_cxr_demo, write_dicom_image, write_dicom_series
from noisymed.networks import SinglePositiveClassifier
from tests.conftest import check_model_zoo_layout, check_torchscript_export, exception_messages, parse_error, run_multi_gpu_bundle

BUNDLE = Path(__file__).resolve().parents[2] / "bundles" / "cxr_single_positive"
CONFIGS = BUNDLE / "configs"
TINY = {"image_size": 32, "batch_size": 4, "num_workers": 0, "val_fraction": 0.25}


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """DenseNet121 on 2 shared cores: two OpenMP threads under load are ~30x slower than one."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_model_zoo_layout():
    meta = check_model_zoo_layout(BUNDLE)
    assert len(meta["network_data_format"]["outputs"]["pred"]["channel_def"]) == 15


def test_verify_net_in_out_and_torchscript_export(tmp_path):
    verify_net_in_out(net_id="network_def", meta_file=str(CONFIGS / "metadata.json"), config_file=str(CONFIGS / "inference.json"), n=1, device="cpu")
    torch.manual_seed(0)
    check_torchscript_export(CONFIGS, SinglePositiveClassifier(num_classes=15), torch.rand(2, 1, 64, 64), tmp_path)


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory):
    return ensure_cxr_demo(tmp_path_factory.mktemp("cxr") / "demo", num_images=24, size=32)


def _train(root: Path, data: Path, **overrides):
    args = {**TINY, "bundle_root": str(root), "dataset_dir": str(data), "max_epochs": 2, **overrides}
    bundle_run(config_file=[str(CONFIGS / "train.json")], logging_file=str(CONFIGS / "logging.conf"), **args)


def test_train_resume_evaluate_and_infer_png_and_dicom(tmp_path, demo_root):
    _train(tmp_path, demo_root, method="mpc", rampup_epochs=1)
    models = tmp_path / "models"
    net = SinglePositiveClassifier(num_classes=15)
    net.load_state_dict(torch.load(models / "model.pt", map_location="cpu", weights_only=True))  # plain state dict
    full = torch.load(models / "checkpoint_final.pt", map_location="cpu", weights_only=False)
    assert {"model", "optimizer", "trainer", "lr_scheduler"} <= set(full)
    iterations = full["trainer"]["iteration"]
    assert iterations == 2 * (18 // 4)  # 24 demo images, 6 (3 patients) for validation, batch 4, drop_last
    labels = json.loads((tmp_path / "labels" / "single_positive_seed0.json").read_text())
    assert labels["num_images"] == 18 and labels["hidden_positives"] == labels["true_positives"] - 9
    assert any((tmp_path / "runs").iterdir())  # TensorBoard events

    _train(tmp_path, demo_root, method="mpc", rampup_epochs=1, resume=True, max_epochs=3)
    assert torch.load(models / "checkpoint_final.pt", weights_only=False)["trainer"]["iteration"] == iterations // 2 * 3

    bundle_run(
        config_file=[str(CONFIGS / "train.json"), str(CONFIGS / "evaluate.json")],
        logging_file=str(CONFIGS / "logging.conf"),
        **{**TINY, "bundle_root": str(tmp_path), "dataset_dir": str(demo_root)},
    )
    summary = dict(line.split(",") for line in (tmp_path / "eval" / "metrics.csv").read_text().split())
    assert set(summary) == {"val_map", "val_auroc"} and 0.0 <= float(summary["val_map"]) <= 1.0
    report = json.loads((tmp_path / "eval" / "per_class.json").read_text())
    assert report["map"] == pytest.approx(float(summary["val_map"]), abs=1e-4)
    assert "Hernia" in report["excluded_ap"]  # the demo has no Hernia: excluded and listed, not NaN
    rows = list(csv.reader((tmp_path / "eval" / "predictions.csv").open()))
    assert len(rows) == 1 + 6 and rows[0][0] == "id" and rows[0][1] == "score:Atelectasis" and len(rows[0]) == 1 + 2 * 14
    assert all(Path(r[0]).name.endswith(".png") for r in rows[1:])
    labels_in_csv = np.asarray([r[15:] for r in rows[1:]], float)
    assert labels_in_csv.sum(axis=0)[0] == report["positives"]["Atelectasis"]

    png = demo_root / "images" / "00000000_001.png"
    pixels = np.asarray(Image.open(png)).astype(np.uint16)
    write_dicom_image((255 - pixels) * 4, tmp_path / "same.dcm", photometric="MONOCHROME1", modality="DX")
    bundle_run(
        config_file=str(CONFIGS / "inference.json"), logging_file=str(CONFIGS / "logging.conf"),
        bundle_root=str(tmp_path), image_size=32, input=[str(png), str(tmp_path / "same.dcm")],
    )  # fmt: skip
    rows = list(csv.reader(open(tmp_path / "output" / "predictions.csv")))
    assert rows[0][0] == "filename" and rows[0][1] == "Atelectasis" and rows[0][-1] == "No Finding" and len(rows[0]) == 16
    assert [Path(r[0]).name for r in rows[1:]] == ["00000000_001.png", "same.dcm"]
    png_p, dcm_p = (np.asarray(r[1:], float) for r in rows[1:])
    assert ((png_p >= 0) & (png_p <= 1)).all() and np.allclose(png_p, dcm_p, atol=1e-4)  # MONOCHROME1 inverted

    # one CSV per run: a rerun refuses before writing anything; --overwrite true replaces the file whole
    infer = {"config_file": str(CONFIGS / "inference.json"), "logging_file": str(CONFIGS / "logging.conf"),
             "bundle_root": str(tmp_path), "image_size": 32, "input": str(png)}  # fmt: skip
    with pytest.raises(Exception) as err:
        bundle_run(**infer)
    assert "predictions.csv already exists" in exception_messages(err.value)
    assert len(list(csv.reader(open(tmp_path / "output" / "predictions.csv")))) == 3
    bundle_run(**infer, overwrite=True)
    assert [Path(r[0]).name for r in csv.reader(open(tmp_path / "output" / "predictions.csv"))][1:] == ["00000000_001.png"]
    with pytest.raises(Exception) as err:
        bundle_run(
            config_file=[str(CONFIGS / "train.json"), str(CONFIGS / "evaluate.json")],
            logging_file=str(CONFIGS / "logging.conf"),
            **{**TINY, "bundle_root": str(tmp_path), "dataset_dir": str(demo_root)},
        )
    assert "metrics.csv already exists (and 2 more)" in exception_messages(err.value)


def test_bad_label_tables_and_a_volume_are_refused_by_name(tmp_path, demo_root):
    data = tmp_path / "data"
    shutil.copytree(demo_root, data)
    lines = (data / "labels.csv").read_text().splitlines()
    drop = lines[0].split(",").index("split")
    (data / "labels.csv").write_text("\n".join(",".join(c for i, c in enumerate(r.split(",")) if i != drop) for r in lines) + "\n")
    parser = ConfigParser()
    parser.read_config(str(CONFIGS / "train.json"))
    parser.update({**TINY, "bundle_root": str(tmp_path), "dataset_dir": str(data)})
    assert "labels.csv: has no column ['split']" in parse_error(parser, "datalist")
    (data / "labels.csv").write_text(lines[0] + "\n")
    assert "labels.csv: holds no data row" in parse_error(parser, "datalist")
    (data / "labels.csv").write_bytes(lines[0].encode() + b"\n\x81\n")
    assert f"labels.csv: not UTF-8 text: byte {len(lines[0]) + 1} (0x81, line 2)" in parse_error(parser, "datalist")

    write_dicom_series(np.zeros((16, 16, 4), np.int16), tmp_path / "ct_series")
    inf = ConfigParser()
    inf.read_config(str(CONFIGS / "inference.json"))
    inf.update({"bundle_root": str(tmp_path), "image_size": 32, "input": str(tmp_path / "ct_series")})
    with pytest.raises(Exception) as err:
        inf.get_parsed_content("dataset")[0]
    assert "ct_series: a 3D volume of shape (1, 16, 16, 4) (channel first), but this model takes 2D images" in exception_messages(err.value)


@pytest.mark.parametrize("method", ["full", "role", "ll_ct"])
def test_methods_from_overrides(tmp_path, demo_root, method):
    _train(tmp_path, demo_root, method=method, max_epochs=1, seed=3)
    parser = ConfigParser()
    parser.read_config(str(CONFIGS / "train.json"))
    parser.update({**TINY, "bundle_root": str(tmp_path), "dataset_dir": str(demo_root), "method": method, "seed": 3})
    assert parser.get_parsed_content("label_key") == ("full_label" if method == "full" else "label")
    assert (tmp_path / "labels" / "single_positive_seed3.json").is_file() and (tmp_path / "models" / "model.pt").is_file()


def test_cross_validation_fold_overrides(tmp_path, demo_root):
    from noisymed.labels import grouped_kfold_split

    val_ids = []
    for fold in range(3):
        parser = ConfigParser()
        parser.read_config(str(CONFIGS / "train.json"))
        parser.update({**TINY, "bundle_root": str(tmp_path), "dataset_dir": str(demo_root), "num_folds": 3, "fold": fold})
        split = parser.get_parsed_content("split")
        assert split == grouped_kfold_split(parser.get_parsed_content("datalist"), 3, fold, seed=0)
        assert parser.get_parsed_content("labels_file").endswith(f"labels/single_positive_seed0_fold{fold}of3.json")
        assert len(parser.get_parsed_content("train_data")) == len(split["train"])  # each fold draws its own file
        val_ids += [item["image"] for item in split["val"]]
    assert sorted(val_ids) == sorted(item["image"] for item in parser.get_parsed_content("datalist"))
    assert len(list((tmp_path / "labels").glob("single_positive_seed0_fold*of3.json"))) == 3


def test_multi_gpu_config_under_torchrun_gloo(tmp_path, demo_root):
    run_multi_gpu_bundle(
        CONFIGS,
        "--bundle_root", str(tmp_path), "--dataset_dir", str(demo_root), "--method", "mpc",
        "--image_size", "32", "--batch_size", "4", "--max_epochs", "1", "--num_workers", "0",
    )  # fmt: skip
    ckpt = torch.load(tmp_path / "models" / "checkpoint_final.pt", weights_only=False)
    assert ckpt["trainer"]["iteration"] == 2  # 18 training images over 2 ranks: 9 each, batch 4, drop_last
    assert not any(k.startswith("module.") for k in ckpt["model"])
