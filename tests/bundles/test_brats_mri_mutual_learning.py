"""The BraTS bundle, run tiny: metadata, network I/O, TorchScript export, the literature's preprocessing,
train/resume/evaluate/infer on generated multi-modal NIfTI, bad inputs, and a short run on real BraTS cases."""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import torch
from monai.bundle import ConfigParser, verify_net_in_out
from monai.bundle import run as bundle_run

from noisymed.networks import TwoDecoderVNet
from tests.brats_cases import AFFINE, SHAPE, write_brats_case, write_brats_h5_case
from tests.conftest import SHARED_DATA, check_model_zoo_layout, check_torchscript_export, exception_messages, parse_error

BUNDLE = Path(__file__).resolve().parents[2] / "bundles" / "brats_mri_mutual_learning"
CONFIGS = BUNDLE / "configs"
BRATS_REAL = SHARED_DATA / "brats2018_wt"
TINY = {"features": 4, "patch_size": [16, 16, 16], "num_workers": 0, "sw_overlap": 0.25}
TWO = ["flair", "t1"]


def test_model_zoo_layout():
    meta = check_model_zoo_layout(BUNDLE)
    assert meta["network_data_format"]["outputs"]["pred"]["channel_def"] == {"0": "background", "1": "whole tumour"}


def test_verify_net_in_out():
    verify_net_in_out(
        net_id="network_def", meta_file=str(CONFIGS / "metadata.json"), config_file=str(CONFIGS / "inference.json"),
        n=1, device="cpu", features=4,
    )  # fmt: skip


def test_ckpt_export_torchscript_equals_eager_two_modalities(tmp_path):
    torch.manual_seed(0)
    net = TwoDecoderVNet(in_channels=2, features=4, decoder="mean")
    check_torchscript_export(CONFIGS, net, torch.randn(1, 2, 16, 16, 16), tmp_path, features=4, decoder="mean", modalities=TWO)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """Five generated cases (FLAIR + T1 + seg) and the SSL4MIS-style lists: 4 train, 1 val, 1 test."""
    root = tmp_path_factory.mktemp("brats_ds")
    for i in range(6):
        write_brats_case(root, f"B{i}", seed=i, modalities=("flair", "t1"))
    (root / "train.txt").write_text("B0\nB1\nB2\nB3\n")
    (root / "val.txt").write_text("B4\n")
    (root / "test.txt").write_text("B5\n")
    return root


def test_preprocessing_is_the_literatures(dataset):
    """Crop to the brain's non-zero box, clip at the 99.9th percentile, z-score over brain voxels; label = seg > 0."""
    parser = ConfigParser()
    parser.read_config(str(CONFIGS / "train.json"))
    parser.update({"dataset_dir": str(dataset), "modalities": TWO, "num_labeled": 2})
    item = parser.get_parsed_content("validate#dataset#data")[0]
    out = parser.get_parsed_content("validate#preprocessing")(item)
    raw = {m: np.asarray(nib.load(dataset / "B4" / f"B4_{m}.nii.gz").dataobj) for m in TWO}
    seg = np.asarray(nib.load(dataset / "B4" / "B4_seg.nii.gz").dataobj)
    box = tuple(slice(int(i.min()), int(i.max()) + 1) for i in np.nonzero(raw["flair"]))
    image, label = out["image"].numpy(), out["label"].numpy()
    assert image.shape == (2, *raw["flair"][box].shape) and label.shape == (1, *image.shape[1:])
    assert np.array_equal(label[0], (seg[box] > 0).astype(np.float32))
    for c, m in enumerate(TWO):
        vol = raw[m][box]
        brain = vol != 0
        clipped = np.minimum(vol, np.percentile(vol, 99.9))
        expected = np.where(brain, (clipped - clipped[brain].mean()) / clipped[brain].std(), 0)
        assert np.allclose(image[c], expected, atol=1e-4)
        assert abs(image[c][brain].mean()) < 1e-5 and abs(image[c][brain].std() - 1) < 1e-4


def test_ssl4mis_h5_layout_through_the_bundle(tmp_path):
    """The h5 files are already z-scored (negative inside the brain): the crop still keeps the whole brain box."""
    import h5py

    for i in range(3):
        write_brats_h5_case(tmp_path, f"BraTS19_{i}", seed=i)
    (tmp_path / "train.txt").write_text("BraTS19_0\nBraTS19_1\n")
    (tmp_path / "val.txt").write_text("BraTS19_2\n")
    parser = ConfigParser()
    parser.read_config(str(CONFIGS / "train.json"))
    parser.update({"dataset_dir": str(tmp_path), "num_labeled": 1})
    item = parser.get_parsed_content("validate#dataset#data")[0]
    out = parser.get_parsed_content("validate#preprocessing")(item)
    with h5py.File(tmp_path / "data" / "BraTS19_2.h5") as f:
        image, label = f["image"][()], f["label"][()]
    box = tuple(slice(int(i.min()), int(i.max()) + 1) for i in np.nonzero(image))
    assert out["image"].shape == (1, *image[box].shape) and np.array_equal(out["label"][0].numpy(), label[box])
    assert np.allclose(out["image"].pixdim, 1.0)  # the h5 files store no spacing: 1 mm, as BraTS


def _train(root: Path, data: Path, **overrides):
    args = {**TINY, "bundle_root": str(root), "dataset_dir": str(data), "modalities": TWO, "num_labeled": 2,
            "max_iterations": 4, "val_interval": 2, "rampup_interval": 1, **overrides}  # fmt: skip
    bundle_run(config_file=[str(CONFIGS / "train.json")], logging_file=str(CONFIGS / "logging.conf"), **args)


def test_train_resume_evaluate_and_infer_in_source_geometry(tmp_path, dataset):
    _train(tmp_path, dataset)
    models = tmp_path / "models"
    net = TwoDecoderVNet(in_channels=2, features=4)
    net.load_state_dict(torch.load(models / "model.pt", map_location="cpu", weights_only=True))
    assert torch.load(models / "checkpoint_final.pt", weights_only=False)["trainer"]["iteration"] == 4

    _train(tmp_path, dataset, resume=True, max_iterations=6)  # resumes at iteration 4, runs to 6
    assert torch.load(models / "checkpoint_final.pt", weights_only=False)["trainer"]["iteration"] == 6

    bundle_run(
        config_file=[str(CONFIGS / "train.json"), str(CONFIGS / "evaluate.json")],
        logging_file=str(CONFIGS / "logging.conf"),
        **{**TINY, "bundle_root": str(tmp_path), "dataset_dir": str(dataset), "modalities": TWO},
    )
    summary = dict(line.split(",") for line in (tmp_path / "eval" / "metrics.csv").read_text().split())
    assert set(summary) == {"dice", "jaccard", "hd95_voxel", "asd_voxel", "hd95_mm", "asd_mm"}
    assert [r.split(",")[0] for r in (tmp_path / "eval" / "dice_raw.csv").read_text().splitlines()[1:]] == ["B5"]

    bundle_run(
        config_file=str(CONFIGS / "inference.json"), logging_file=str(CONFIGS / "logging.conf"),
        **{**TINY, "bundle_root": str(tmp_path), "modalities": TWO, "input": str(dataset / "B5")},
    )  # fmt: skip
    mask = nib.load(tmp_path / "output" / "B5_seg.nii.gz")  # named after the case folder
    assert mask.shape == SHAPE and np.allclose(mask.affine, AFFINE, atol=1e-5)
    values = np.asarray(mask.dataobj)
    assert set(np.unique(values)) <= {0, 1}
    brain = np.asarray(nib.load(dataset / "B5" / "B5_flair.nii.gz").dataobj) != 0
    assert not values[~brain].any()  # outside the brain's box nothing is predicted (the crop is undone by padding)


def test_reruns_are_refused_unless_resumed_or_overwritten(tmp_path, dataset):
    """A second training into models/ stops before writing; --resume true continues. An inference or evaluation
    rerun stops on the earlier outputs; --overwrite true replaces them. A model of another width is refused by name."""
    _train(tmp_path, dataset, max_iterations=2, val_interval=2)
    models = tmp_path / "models"
    before = {p.name: p.stat().st_mtime_ns for p in models.iterdir()}
    with pytest.raises(Exception) as err:
        _train(tmp_path, dataset, max_iterations=2, val_interval=2)
    assert "pass --resume true" in exception_messages(err.value)
    assert {p.name: p.stat().st_mtime_ns for p in models.iterdir()} == before  # nothing written
    _train(tmp_path, dataset, resume=True, max_iterations=4, val_interval=2)
    assert torch.load(models / "checkpoint_final.pt", weights_only=False)["trainer"]["iteration"] == 4
    assert json.loads((models / "model_settings.json").read_text())["modalities"] == TWO

    infer = {"bundle_root": str(tmp_path), "input": str(dataset / "B5"), "sw_overlap": 0.25}  # settings adopted
    bundle_run(config_file=str(CONFIGS / "inference.json"), logging_file=str(CONFIGS / "logging.conf"), **infer)
    mask = tmp_path / "output" / "B5_seg.nii.gz"
    mask.write_bytes(b"an earlier run's mask")
    with pytest.raises(Exception) as err:
        bundle_run(config_file=str(CONFIGS / "inference.json"), logging_file=str(CONFIGS / "logging.conf"), **infer)
    assert str(mask) in exception_messages(err.value) and mask.read_bytes() == b"an earlier run's mask"
    bundle_run(config_file=str(CONFIGS / "inference.json"), logging_file=str(CONFIGS / "logging.conf"), overwrite=True, **infer)
    assert nib.load(mask).shape == SHAPE

    with pytest.raises(Exception) as err:
        bundle_run(config_file=str(CONFIGS / "inference.json"), logging_file=str(CONFIGS / "logging.conf"), **{**infer, "features": 8, "overwrite": True})
    assert "features: trained with 4, this run has 8" in exception_messages(err.value)

    evaluate = {**TINY, "bundle_root": str(tmp_path), "dataset_dir": str(dataset)}
    configs = [str(CONFIGS / "train.json"), str(CONFIGS / "evaluate.json")]
    bundle_run(config_file=configs, logging_file=str(CONFIGS / "logging.conf"), **evaluate)
    with pytest.raises(Exception) as err:
        bundle_run(config_file=configs, logging_file=str(CONFIGS / "logging.conf"), **evaluate)
    assert str(tmp_path / "eval" / "metrics.csv") in exception_messages(err.value)
    bundle_run(config_file=configs, logging_file=str(CONFIGS / "logging.conf"), overwrite=True, **evaluate)


def test_bad_inputs_stop_with_a_named_error(tmp_path, dataset):
    parser = ConfigParser()
    parser.read_config(str(CONFIGS / "train.json"))
    parser.update({"bundle_root": str(tmp_path), "dataset_dir": str(tmp_path / "nowhere")})  # none: the demo set
    assert f"{tmp_path / 'nowhere'}: dataset folder not found" in parse_error(parser, "split")
    parser.update({"dataset_dir": str(dataset), "modalities": ["flair", "t2"], "num_labeled": 2})
    assert f"{dataset / 'B0'}: case B0 lacks the modality file(s) ['B0_t2.nii.gz']" in parse_error(parser, "split")
    parser.update({"modalities": TWO, "num_labeled": 9})
    assert "fewer than num_labeled=9" in parse_error(parser, "split")
    inf = ConfigParser()
    inf.read_config(str(CONFIGS / "inference.json"))
    inf.update({"input": str(dataset / "B5" / "B5_flair.nii.gz"), "modalities": TWO})
    assert "a single file cannot feed a model of 2 modalities" in parse_error(inf, "datalist")


@pytest.mark.skipif(
    not (BRATS_REAL / "sha256sums.txt").is_file(),
    reason=f"real BraTS 2018 cases not found at {BRATS_REAL} (they ship beside the repository in ../shared, not in it)",
)
def test_real_brats_cases_train_and_infer_in_source_geometry(tmp_path):
    cases = sorted(p.name for p in BRATS_REAL.iterdir() if p.is_dir())[:2]
    coarse = {**TINY, "pixdim": [4.0, 4.0, 4.0], "patch_size": [32, 32, 32]}  # batch 1: BatchNorm needs a 2³ bottleneck
    bundle_run(
        config_file=str(CONFIGS / "train.json"), logging_file=str(CONFIGS / "logging.conf"),
        **{**coarse, "bundle_root": str(tmp_path), "dataset_dir": str(BRATS_REAL), "train_list": cases[:1],
           "val_list": cases[1:], "num_labeled": 1, "labeled_batch_size": 1, "unlabeled_batch_size": 0,
           "mutual_loss": None, "max_iterations": 2, "val_interval": 1},
    )  # fmt: skip
    assert (tmp_path / "models" / "model.pt").is_file()
    bundle_run(
        config_file=str(CONFIGS / "inference.json"), logging_file=str(CONFIGS / "logging.conf"),
        **{**coarse, "bundle_root": str(tmp_path), "input": str(BRATS_REAL / cases[1])},
    )  # fmt: skip
    src = nib.load(BRATS_REAL / cases[1] / f"{cases[1]}_flair.nii.gz")
    mask = nib.load(tmp_path / "output" / f"{cases[1]}_seg.nii.gz")
    assert mask.shape == src.shape == (240, 240, 155) and np.allclose(mask.affine, src.affine, atol=1e-4)
