"""The LA bundle's refusals and outputs (issue 14): bad inputs by name, collision-free masks under the overwrite
policy, model settings recorded at training and adopted or enforced at evaluation and inference."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import torch
from monai.bundle import ConfigParser
from monai.bundle import run as bundle_run

from noisymed.data import ensure_la_demo, write_dicom_image, write_dicom_series
from noisymed.networks import TwoDecoderVNet
from tests.conftest import exception_messages, parse_error

BUNDLE = Path(__file__).resolve().parents[2] / "bundles" / "la_mutual_learning"
CONFIGS = BUNDLE / "configs"
LOGGING = str(CONFIGS / "logging.conf")
SETTINGS = {"pixdim": [1.25, 1.25, 1.25], "patch_size": [16, 16, 16], "features": 4}


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory):
    return ensure_la_demo(tmp_path_factory.mktemp("la_in") / "demo", num_train=3, num_test=1, shape=(32, 32, 32))


@pytest.fixture(scope="module")
def trained(tmp_path_factory, demo_root):
    """A bundle_root trained tiny at pixdim 1.25 mm, patch 16, features 4 (none of them the bundle's defaults)."""
    root = tmp_path_factory.mktemp("la_trained")
    bundle_run(
        config_file=str(CONFIGS / "train.json"), logging_file=LOGGING, bundle_root=str(root), dataset_dir=str(demo_root),
        num_labeled=2, labeled_batch_size=1, unlabeled_batch_size=1, max_iterations=2, val_interval=1, num_workers=0,
        rampup_interval=1, **SETTINGS,
    )  # fmt: skip
    return root


def _nifti(path: Path, shape=(24, 24, 20), spacing=(0.625, 0.625, 0.625), value=None) -> Path:
    data = np.random.default_rng(0).random(shape).astype(np.float32) if value is None else value
    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(nib.Nifti1Image(data, np.diag([*spacing, 1.0][: 4]) if len(shape) >= 3 else np.eye(4)), path)
    return path


def _infer(root: Path, **overrides):
    bundle_run(config_file=str(CONFIGS / "inference.json"), logging_file=LOGGING, bundle_root=str(root), **overrides)


def test_training_records_the_settings_inference_needs(trained):
    recorded = json.loads((trained / "models" / "model_settings.json").read_text())
    assert recorded == {**SETTINGS, "out_channels": 2, "decoder": "a", "network": "TwoDecoderVNet"}
    state = torch.load(trained / "models" / "model.pt", weights_only=True)
    TwoDecoderVNet(features=4).load_state_dict(state)  # model.pt stays the plain state dict


def test_inference_adopts_the_recorded_settings_and_refuses_a_conflicting_override(trained, tmp_path):
    parser = ConfigParser()
    parser.read_config(str(CONFIGS / "inference.json"))
    parser.update({"bundle_root": str(trained)})
    assert parser.get_parsed_content("pixdim") == [1.25, 1.25, 1.25]
    assert parser.get_parsed_content("patch_size") == [16, 16, 16] and parser.get_parsed_content("features") == 4

    source = _nifti(tmp_path / "in" / "case.nii.gz")
    _infer(trained, input=str(source), output_dir=str(tmp_path / "out"))  # no --features 4: it fits
    mask = nib.load(tmp_path / "out" / "case_seg.nii.gz")
    assert mask.shape == (24, 24, 20) and np.allclose(mask.affine, nib.load(source).affine)

    with pytest.raises(Exception) as err:
        _infer(trained, input=str(source), output_dir=str(tmp_path / "out2"), pixdim=[0.625, 0.625, 0.625])
    message = exception_messages(err.value)
    assert "pixdim: trained with [1.25, 1.25, 1.25], this run has [0.625, 0.625, 0.625]" in message
    assert "Drop --pixdim" in message and not (tmp_path / "out2").exists()


def test_evaluation_adopts_the_recorded_settings(trained, demo_root):
    parser = ConfigParser()
    parser.read_config([str(CONFIGS / "train.json"), str(CONFIGS / "evaluate.json")])
    parser.update({"bundle_root": str(trained), "dataset_dir": str(demo_root)})
    assert parser.get_parsed_content("pixdim") == [1.25, 1.25, 1.25]
    assert list(parser.get_parsed_content("validate#inferer").roi_size) == [16, 16, 16]
    with pytest.raises(Exception) as err:
        bundle_run(
            config_file=[str(CONFIGS / "train.json"), str(CONFIGS / "evaluate.json")], logging_file=LOGGING,
            bundle_root=str(trained), dataset_dir=str(demo_root), eval_list="test.list", num_workers=0, features=8,
        )  # fmt: skip
    assert "features: trained with 4, this run has 8" in exception_messages(err.value)


def test_a_model_of_another_width_without_recorded_settings_names_the_option(trained, tmp_path):
    root = tmp_path / "old"
    (root / "models").mkdir(parents=True)
    shutil.copy(trained / "models" / "model.pt", root / "models" / "model.pt")  # saved before settings were recorded
    with pytest.raises(Exception) as err:
        _infer(root, input=str(_nifti(tmp_path / "c.nii.gz")), patch_size=[16, 16, 16])
    message = exception_messages(err.value)
    assert f"{root / 'models' / 'model.pt'}: does not fit the TwoDecoderVNet this config builds" in message
    assert "trained with features 4, this config has 16: pass --features 4" in message


def test_masks_never_collide_and_are_not_replaced_without_overwrite(trained, tmp_path):
    a = _nifti(tmp_path / "site_a" / "case.nii.gz")
    b = _nifti(tmp_path / "site_b" / "case.nii.gz", shape=(20, 24, 22))
    out = tmp_path / "out"
    _infer(trained, input=[str(a), str(b)], output_dir=str(out))
    assert nib.load(out / "site_a" / "case_seg.nii.gz").shape == (24, 24, 20)
    assert nib.load(out / "site_b" / "case_seg.nii.gz").shape == (20, 24, 22)
    stamp = (out / "site_a" / "case_seg.nii.gz").stat().st_mtime_ns
    with pytest.raises(Exception) as err:
        _infer(trained, input=[str(a), str(b)], output_dir=str(out))
    assert "case_seg.nii.gz already exists (and 1 more)" in exception_messages(err.value)
    assert "--overwrite true" in exception_messages(err.value)
    assert (out / "site_a" / "case_seg.nii.gz").stat().st_mtime_ns == stamp
    _infer(trained, input=[str(a), str(b)], output_dir=str(out), overwrite=True)
    assert (out / "site_a" / "case_seg.nii.gz").stat().st_mtime_ns != stamp
    assert not [p for p in out.rglob(".*")]  # no temporary file is left


def test_a_folder_of_volumes_is_segmented_file_by_file(trained, tmp_path):
    for name in ("x.nii.gz", "y.nii.gz"):
        _nifti(tmp_path / "batch" / name)
    _infer(trained, input=str(tmp_path / "batch"), output_dir=str(tmp_path / "out"))
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["x_seg.nii.gz", "y_seg.nii.gz"]


def _first_item_error(tmp_path: Path, source, **overrides) -> str:
    parser = ConfigParser()
    parser.read_config(str(CONFIGS / "inference.json"))
    parser.update({"bundle_root": str(tmp_path), "output_dir": str(tmp_path / "out"), "input": str(source), **overrides})
    with pytest.raises(Exception) as err:
        parser.get_parsed_content("dataset")[0]
    return exception_messages(err.value)


def test_refused_inputs_are_named(tmp_path):
    full = _nifti(tmp_path / "full.nii.gz", shape=(40, 40, 30))
    cut = tmp_path / "cut.nii.gz"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    assert f"{cut}: the file is truncated or corrupt" in _first_item_error(tmp_path, cut)

    values = np.ones((20, 20, 10), np.float32)
    values[:2, 0, 0] = np.nan
    nan = _nifti(tmp_path / "nan.nii.gz", value=values)
    assert f"{nan}: 2 of 4000 voxels are NaN or infinite" in _first_item_error(tmp_path, nan)

    slice_2d = write_dicom_image(np.full((16, 16), 100), tmp_path / "slice.dcm")
    assert "a single 2D slice, not a volume" in _first_item_error(tmp_path, slice_2d)
    one_file = tmp_path / "one_file"
    write_dicom_series(np.ones((16, 16, 1), np.int16), one_file)
    message = _first_item_error(tmp_path, one_file)
    assert str(one_file) in message and "a single 2D slice, not a volume" in message

    dup = tmp_path / "dup"
    files = write_dicom_series(np.ones((16, 16, 4), np.int16), dup, spacing=(1.0, 1.0, 2.0))
    import pydicom

    from noisymed.data import new_dicom_uid

    ds = pydicom.dcmread(files[1])
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = new_dicom_uid()
    ds.InstanceNumber = 9
    ds.save_as(str(dup / "IM0009.dcm"))
    assert "has two slices at the same position, 2 mm along the slice normal" in _first_item_error(tmp_path, dup)

    huge = _nifti(tmp_path / "huge.nii.gz", shape=(100, 100, 40), spacing=(30.0, 30.0, 30.0))
    message = _first_item_error(tmp_path, huge)
    assert f"{huge}: (100, 100, 40) voxels of (30.0, 30.0, 30.0) mm" in message and "177 GB" in message

    four_d = _nifti(tmp_path / "four_d.nii.gz", shape=(10, 10, 10, 3))
    assert f"{four_d}: 3 volumes of shape (10, 10, 10)" in _first_item_error(tmp_path, four_d)
    flat = tmp_path / "flat.nii.gz"
    nib.save(nib.Nifti1Image(np.ones((12, 12), np.float32), np.eye(4)), flat)
    assert f"{flat}: a 2D image (spatial shape (12, 12))" in _first_item_error(tmp_path, flat)


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("pixdim", "abc", "--pixdim must be a list of 3 positive numbers"),
        ("pixdim", [1.0, -1.0, 1.0], "--pixdim must be 3 finite positive numbers in mm"),
        ("patch_size", [16, 16], "--patch_size must have 3 values"),
    ],
)
def test_bad_options_are_named_in_inference(tmp_path, key, value, message):
    source = _nifti(tmp_path / "c.nii.gz")
    parser = ConfigParser()
    parser.read_config(str(CONFIGS / "inference.json"))
    parser.update({"bundle_root": str(tmp_path), "input": str(source), key: value})
    assert message in parse_error(parser, "evaluator")


@pytest.mark.parametrize(
    "key, value, item, message",
    [
        ("num_labeled", 2.5, "split", "--num_labeled must be a whole number, got 2.5"),
        ("pixdim", [0.625, 0.625], "load", "--pixdim must have 3 values"),
        ("pixdim", [0.625, "x", 0.625], "load", "--pixdim must be 3 finite positive numbers in mm"),
        ("patch_size", [16, 16, 0], "train#augmentation", "--patch_size must be 3 whole numbers >= 1"),
    ],
)
def test_bad_options_are_named_in_training(tmp_path, demo_root, key, value, item, message):
    parser = ConfigParser()
    parser.read_config(str(CONFIGS / "train.json"))
    parser.update({"bundle_root": str(tmp_path), "dataset_dir": str(demo_root), key: value})
    assert message in parse_error(parser, item)


def test_all_empty_labels_stop_training(tmp_path, demo_root):
    import h5py

    data = tmp_path / "data"
    shutil.copytree(demo_root, data)
    cases = (data / "train.list").read_text().split()
    for case in cases[:2]:
        with h5py.File(data / case / "mri_norm2.h5", "r+") as f:
            f["label"][...] = 0
    parser = ConfigParser()
    parser.read_config(str(CONFIGS / "train.json"))
    parser.update({"bundle_root": str(tmp_path), "dataset_dir": str(data), "num_labeled": 2})
    assert f"the labels of all 2 labeled cases are empty (no foreground voxel): {cases[:2]}" in parse_error(parser, "split")
