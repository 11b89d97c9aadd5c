"""The noisy-label bundle's self-supervised pretraining: each objective from pretrain.json, and its backbone
plugged into the training methods with --pretrained, in 2D and 3D (tiny sizes)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from monai.bundle import run as bundle_run

from noisymed.engines import METHODS, SSL_OBJECTIVES
from noisymed.networks import FeatureClassifier
from tests.conftest import exception_messages

CONFIGS = Path(__file__).resolve().parents[2] / "bundles" / "noisy_label_classification" / "configs"
LOGGING = str(CONFIGS / "logging.conf")
TINY = {"widths": [4, 8, 8, 16], "backbone": "resnet10", "num_workers": 0, "batch_size": 8}
SMALL_HEADS = {"hidden_dim": 16, "embedding_dim": 8, "queue_size": 16, "latent_dim": 8}


def _npz(path: Path, shape, n_train=32, n_val=8, seed=0) -> Path:
    """Two classes told apart by which half of the image is bright."""
    rng = np.random.default_rng(seed)

    def make(n):
        labels = np.arange(n) % 2
        images = rng.integers(0, 60, (n, *shape)).astype(np.uint8)
        half = shape[-1] // 2
        for i, y in enumerate(labels):
            images[i, ..., half:] += 150 if y else 0
            images[i, ..., :half] += 0 if y else 150
        return images, labels[:, None]

    (ti, tl), (vi, vl) = make(n_train), make(n_val)
    np.savez(path, train_images=ti, train_labels=tl, val_images=vi, val_labels=vl)
    return path


def _run(config_files, **overrides):
    bundle_run(config_file=[str(CONFIGS / c) for c in config_files], logging_file=LOGGING, **{**TINY, **overrides})


@pytest.fixture(scope="module")
def toy2d(tmp_path_factory):
    return _npz(tmp_path_factory.mktemp("toy2d") / "toy.npz", (16, 16))


@pytest.fixture(scope="module")
def toy3d(tmp_path_factory):
    return _npz(tmp_path_factory.mktemp("toy3d") / "toy3d.npz", (8, 8, 8), n_train=16)


@pytest.mark.parametrize("objective", SSL_OBJECTIVES)
def test_each_objective_pretrains_from_the_bundle_and_loads_into_the_classifier(tmp_path, toy2d, objective):
    _run(
        ["train.json", "pretrain.json"], bundle_root=str(tmp_path), dataset=str(toy2d), pretrain_epochs=1,
        pretrain_objective=objective, pretrain_options=SMALL_HEADS, spatial_size=[16, 16],
    )  # fmt: skip
    saved = torch.load(tmp_path / "models" / "pretrained.pt", weights_only=True)
    assert set(saved) == {"model", "ssl_objective"}
    FeatureClassifier("resnet10", widths=(4, 8, 8, 16)).load_state_dict(saved["model"])  # strict
    # an earlier run's weights are never replaced silently
    with pytest.raises(Exception) as err:
        _run(["train.json", "pretrain.json"], bundle_root=str(tmp_path), dataset=str(toy2d), pretrain_epochs=1,
             pretrain_objective=objective, pretrain_options=SMALL_HEADS, spatial_size=[16, 16])  # fmt: skip
    assert "pretrained.pt already exists" in exception_messages(err.value)


def test_2d_pretrained_backbone_starts_every_training_method(tmp_path, toy2d):
    root = str(tmp_path)
    _run(["train.json", "pretrain.json"], bundle_root=root, dataset=str(toy2d), pretrain_epochs=1,
         pretrain_objective="moco", pretrain_options=SMALL_HEADS, spatial_size=[16, 16])  # fmt: skip
    pretrained = tmp_path / "models" / "pretrained.pt"
    backbone = torch.load(pretrained, weights_only=True)["model"]
    for method in METHODS:
        out = tmp_path / method
        seen = {}
        _run(
            ["train.json"], bundle_root=str(out), dataset=str(toy2d), epochs=1, noise_rate=0.25, method=method,
            pretrained=str(pretrained), spatial_size=[16, 16], learning_rate=0.0,
            method_options={"group_size": 2} if method == "mixup_attention" else {},
        )  # fmt: skip
        trained = torch.load(out / "models" / "checkpoint_final.pt", weights_only=False)["model"]
        # learning rate 0: the trained model's backbone is the pretrained one, weight for weight
        for key, value in backbone.items():
            if key.startswith("backbone.") and "num_batches_tracked" not in key and "running" not in key:
                seen[key] = torch.equal(trained[key], value)
        assert seen and all(seen.values()), method


def test_3d_pretraining_and_training_from_it(tmp_path, toy3d):
    root = str(tmp_path)
    for objective in ("jigsaw", "rotation"):
        _run(["train.json", "pretrain.json"], bundle_root=root, dataset=str(toy3d), pretrain_epochs=1,
             pretrain_objective=objective, pretrain_options=SMALL_HEADS, spatial_size=[8, 8, 8], overwrite=True)  # fmt: skip
    pretrained = tmp_path / "models" / "pretrained.pt"
    saved = torch.load(pretrained, weights_only=True)
    assert saved["ssl_objective"]["head.weight"].shape[0] == 4  # the rotation run replaced the jigsaw one
    _run(["train.json"], bundle_root=str(tmp_path / "ce"), dataset=str(toy3d), epochs=1, method="gce",
         pretrained=str(pretrained), spatial_size=[8, 8, 8], learning_rate=0.0)  # fmt: skip
    trained = torch.load(tmp_path / "ce" / "models" / "checkpoint_final.pt", weights_only=False)["model"]
    assert torch.equal(trained["backbone.conv1.weight"], saved["model"]["backbone.conv1.weight"])
    assert trained["backbone.conv1.weight"].ndim == 5
