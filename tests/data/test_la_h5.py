from __future__ import annotations

import numpy as np
import pytest

from noisymed.data import LADataError, check_la_case, la_cases, la_h5_to_nifti, la_splits, read_case_list
from tests.conftest import LA_H5, requires_la, write_la_case


def test_splits_follow_the_list_order(tiny_la):
    split = la_splits(tiny_la, num_labeled=2, num_val=1)
    assert [i["case"] for i in split["labeled"]] == ["CASE0", "CASE1"]
    assert [i["case"] for i in split["unlabeled"]] == ["CASE2", "CASE3"]
    assert [i["case"] for i in split["val"]] == ["CASE4"]
    assert all("label" not in i for i in split["unlabeled"])
    assert all(i["label"] == i["image"] for i in split["labeled"] + split["val"])
    split = la_splits(tiny_la, num_labeled=3, val_list="test.list")
    assert [i["case"] for i in split["val"]] == ["CASE5"] and len(split["unlabeled"]) == 2


@pytest.mark.parametrize(
    "image, label, message",
    [
        (False, None, "has no 'image'"),
        (None, False, "has no 'label'"),
        (np.zeros((4, 4, 4), np.float32), np.zeros((4, 4, 5), np.uint8), "shape"),
        (np.zeros((4, 4, 4), np.float32), np.full((4, 4, 4), 2, np.uint8), "only 0 and 1"),
        (np.full((4, 4, 4), np.nan, np.float32), np.zeros((4, 4, 4), np.uint8), "NaN"),
        (np.zeros((4, 4), np.float32), np.zeros((4, 4), np.uint8), "3D"),
    ],
)
def test_bad_case_is_named(tmp_path, image, label, message):
    path = write_la_case(tmp_path, "BAD", image=image, label=label)
    with pytest.raises(LADataError, match=message) as err:
        check_la_case(path)
    assert str(path) in str(err.value)


def test_bad_case_stops_the_split_before_training(tiny_la):
    write_la_case(tiny_la, "CASE3", label=np.full((20, 18, 16), 3, np.uint8))
    with pytest.raises(LADataError, match="CASE3"):
        la_splits(tiny_la, num_labeled=4)


def test_unlabeled_cases_need_no_label(tiny_la):
    write_la_case(tiny_la, "CASE4", label=False)
    assert len(la_splits(tiny_la, num_labeled=2)["unlabeled"]) == 3


def test_missing_folder_case_list_and_too_few(tiny_la, tmp_path):
    with pytest.raises(LADataError, match="dataset folder not found"):
        la_splits(tmp_path / "nope")
    with pytest.raises(LADataError, match="case list not found"):
        la_splits(tiny_la, train_list="other.list")
    (tiny_la / "train.list").write_text("CASE0\nMISSING\n")
    with pytest.raises(LADataError, match="MISSING.*not found"):
        la_splits(tiny_la, num_labeled=1)
    (tiny_la / "train.list").write_text("CASE0\nCASE1\n")
    with pytest.raises(LADataError, match="fewer than num_labeled=8"):
        la_splits(tiny_la, num_labeled=8)
    (tiny_la / "train.list").write_text("CASE0\nCASE0\n")
    with pytest.raises(LADataError, match="more than once"):
        read_case_list(tiny_la / "train.list")


def test_validation_cases_must_not_be_training_cases(tiny_la):
    (tiny_la / "test.list").write_text("CASE1\n")
    with pytest.raises(LADataError, match="also in"):
        la_splits(tiny_la, val_list="test.list")


def test_h5_to_nifti(tiny_la, tmp_path):
    import nibabel as nib

    out = tmp_path / "nifti"
    datalist = la_h5_to_nifti(tiny_la, out)
    assert sorted(datalist) == ["test", "train"] and len(datalist["train"]) == 5
    img = nib.load(out / datalist["train"][0]["image"])
    assert np.allclose(img.header.get_zooms(), (0.625, 0.625, 0.625))
    lab = nib.load(out / datalist["train"][0]["label"])
    import h5py

    with h5py.File(tiny_la / "CASE0" / "mri_norm2.h5") as f:
        assert np.array_equal(img.get_fdata(dtype=np.float32), f["image"][()])
        assert np.array_equal(np.asarray(lab.dataobj), f["label"][()])
    assert (out / "datalist.json").is_file()


@requires_la
def test_real_la_cases_pass_the_checks():
    split = la_splits(LA_H5, num_labeled=8, train_list="train48.list", num_val=8)
    assert (len(split["labeled"]), len(split["unlabeled"]), len(split["val"])) == (8, 32, 8)
    assert split["labeled"][0]["case"] == "06SR5RBREL16DQ6M8LWS"  # first line of the standard list
    shape = check_la_case(split["val"][0]["image"])
    assert len(shape) == 3 and shape[2] == 88
    assert len(la_cases(LA_H5, "train48.list", check=False)) == 48
