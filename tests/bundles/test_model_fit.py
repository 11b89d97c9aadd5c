"""For the 2D bundles: the training settings recorded beside model.pt are adopted at inference, a contradicting
option is refused, and a model.pt of another bundle or width is refused with the file and the cause named."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from monai.bundle import ConfigParser
from monai.bundle import run as bundle_run
from PIL import Image

from noisymed.data import ensure_cxr_demo
from noisymed.networks import TwoDecoderVNet
from tests.conftest import exception_messages

BUNDLES = Path(__file__).resolve().parents[2] / "bundles"
NOISY = BUNDLES / "noisy_label_classification" / "configs"
CXR = BUNDLES / "cxr_single_positive" / "configs"


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _run(configs: Path, names, **overrides):
    bundle_run(config_file=[str(configs / n) for n in names], logging_file=str(configs / "logging.conf"), **overrides)


def _error(configs: Path, names, **overrides) -> str:
    with pytest.raises(Exception) as err:
        _run(configs, names, **overrides)
    return exception_messages(err.value)


@pytest.fixture(scope="module")
def noisy_root(tmp_path_factory):
    """A noisy-label bundle_root trained one epoch on a 3-class toy set with a small ResNet."""
    tmp = tmp_path_factory.mktemp("noisy_fit")
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (30, 28, 28)).astype(np.uint8)
    labels = (np.arange(30) % 3)[:, None]
    np.savez(tmp / "toy.npz", train_images=images[:24], train_labels=labels[:24], val_images=images[24:], val_labels=labels[24:])
    _run(
        NOISY, ["train.json"], bundle_root=str(tmp), dataset=str(tmp / "toy.npz"), epochs=1, batch_size=8,
        backbone="resnet10", widths=[4, 8, 8, 16], num_workers=0,
    )  # fmt: skip
    Image.fromarray(images[0]).save(tmp / "case.png")
    return tmp


def test_noisy_settings_are_recorded_and_adopted(noisy_root):
    recorded = json.loads((noisy_root / "models" / "model_settings.json").read_text())
    assert recorded == {
        "classes": ["0", "1", "2"], "num_classes": 3, "spatial_dims": 2, "spatial_size": [28, 28], "in_channels": 1,
        "backbone": "resnet10", "widths": [4, 8, 8, 16], "network": "FeatureClassifier",
    }  # fmt: skip
    # inference without repeating backbone, widths or classes: they come from the record
    _run(NOISY, ["inference.json"], bundle_root=str(noisy_root), input=str(noisy_root / "case.png"))
    header = (noisy_root / "output" / "probabilities.csv").read_text().splitlines()[0]
    assert header == "filename,0,1,2"
    # evaluation, too (backbone and widths from the record; classes and sizes from the data, checked against it)
    _run(NOISY, ["train.json", "evaluate.json"], bundle_root=str(noisy_root), dataset=str(noisy_root / "toy.npz"), num_workers=0)


def test_noisy_contradicting_option_is_refused(noisy_root, tmp_path):
    message = _error(NOISY, ["inference.json"], bundle_root=str(noisy_root), input=str(noisy_root / "case.png"), output_dir=str(tmp_path), widths=[8, 16, 16, 32])
    assert "widths: trained with [4, 8, 8, 16], this run has [8, 16, 16, 32]" in message and "Drop --widths" in message
    message = _error(NOISY, ["inference.json"], bundle_root=str(noisy_root), input=str(noisy_root / "case.png"), output_dir=str(tmp_path), classes=["a", "b"])
    assert "num_classes: trained with 3, this run has 2" in message


def test_noisy_model_without_record_of_another_width(noisy_root, tmp_path):
    (tmp_path / "models").mkdir()
    shutil.copy(noisy_root / "models" / "model.pt", tmp_path / "models" / "model.pt")
    message = _error(
        NOISY, ["inference.json"], bundle_root=str(tmp_path), input=str(noisy_root / "case.png"), classes=["0", "1", "2"],
        backbone="resnet10", widths=[8, 16, 16, 32],
    )  # fmt: skip
    assert f"{tmp_path / 'models' / 'model.pt'}: does not fit the FeatureClassifier this config builds" in message
    assert "trained with widths [4, 8, 8, 16], this config has [8, 16, 16, 32]: pass --widths [4, 8, 8, 16]" in message


def test_a_model_of_another_bundle_is_named(noisy_root, tmp_path):
    (tmp_path / "models").mkdir()
    torch.save(TwoDecoderVNet(features=4).state_dict(), tmp_path / "models" / "model.pt")
    message = _error(NOISY, ["inference.json"], bundle_root=str(tmp_path), input=str(noisy_root / "case.png"))
    assert "does not fit the FeatureClassifier this config builds" in message and "file keys the network lacks" in message
    assert "trained by another bundle or with other network options" in message
    (tmp_path / "models" / "model_settings.json").write_text(json.dumps({"network": "TwoDecoderVNet", "features": 4}))
    message = _error(CXR, ["inference.json"], bundle_root=str(tmp_path), input=str(noisy_root / "case.png"))
    assert "is a TwoDecoderVNet (per " in message and "but this config builds a SinglePositiveClassifier" in message


def test_cxr_settings_are_recorded_adopted_and_enforced(tmp_path):
    demo = ensure_cxr_demo(tmp_path / "demo", num_images=12, size=32)
    _run(CXR, ["train.json"], bundle_root=str(tmp_path), dataset_dir=str(demo), max_epochs=1, image_size=32, batch_size=4, num_workers=0, val_fraction=0.25)
    recorded = json.loads((tmp_path / "models" / "model_settings.json").read_text())
    assert recorded["image_size"] == 32 and recorded["network"] == "SinglePositiveClassifier"
    assert recorded["label_source"] == "nih_subset" and recorded["classes"][-1] == "No Finding" and len(recorded["classes"]) == 15
    parser = ConfigParser()
    parser.read_config(str(CXR / "inference.json"))
    parser.update({"bundle_root": str(tmp_path)})
    assert parser.get_parsed_content("image_size") == 32 and parser.get_parsed_content("classes") == recorded["classes"]
    png = next((demo / "images").glob("*.png"))
    message = _error(CXR, ["inference.json"], bundle_root=str(tmp_path), input=str(png), image_size=64)
    assert "image_size: trained with 32, this run has 64" in message
