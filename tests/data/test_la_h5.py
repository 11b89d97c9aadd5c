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


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"num_labeled": 2.5}, "--num_labeled must be a whole number, got 2.5"),
        ({"num_labeled": "two"}, "--num_labeled must be a whole number, got 'two'"),
        ({"num_labeled": 0}, "--num_labeled must be >= 1, got 0"),
        ({"num_labeled": 2, "num_val": -1}, "--num_val must be >= 0, got -1"),
        ({"num_labeled": 2, "max_unlabeled": 1.5}, "--max_unlabeled must be a whole number, got 1.5"),
    ],
)
def test_counts_must_be_whole_numbers(tiny_la, kwargs, message):
    with pytest.raises(LADataError, match=message):
        la_splits(tiny_la, **kwargs)
    assert len(la_splits(tiny_la, num_labeled="2")["labeled"]) == 2  # the command line's text form


def test_all_empty_labels_are_refused_and_some_empty_warned(tiny_la):
    empty = np.zeros((20, 18, 16), np.uint8)
    write_la_case(tiny_la, "CASE0", label=empty)
    with pytest.warns(UserWarning, match=r"1 of 2 labeled cases have an empty label \(no foreground voxel\): \['CASE0'\]"):
        la_splits(tiny_la, num_labeled=2)
    write_la_case(tiny_la, "CASE1", label=empty)
    with pytest.raises(LADataError, match=r"the labels of all 2 labeled cases are empty .*\['CASE0', 'CASE1'\]"):
        la_splits(tiny_la, num_labeled=2)
    # unlabeled cases' labels are never read, so an empty one there is no concern
    assert [i["case"] for i in la_splits(tiny_la, num_labeled=3)["labeled"]] == ["CASE0", "CASE1", "CASE2"]


def _nifti_files(out):
    return sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())


def test_h5_to_nifti_killed_mid_write_leaves_no_half_file_and_a_rerun_completes(tiny_la, tmp_path, monkeypatch):
    import nibabel as nib

    out = tmp_path / "nifti"
    real_save = nib.save
    calls = {"n": 0}

    def save_then_die(img, filename):
        calls["n"] += 1
        if calls["n"] == 4:  # the 4th file: half of it on disk, then the process is killed
            real_save(img, filename)
            data = open(filename, "rb").read()
            open(filename, "wb").write(data[: len(data) // 2])
            raise KeyboardInterrupt
        real_save(img, filename)

    monkeypatch.setattr(nib, "save", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        la_h5_to_nifti(tiny_la, out)
    monkeypatch.setattr(nib, "save", real_save)
    # three complete files under their final names; the cut one only ever had a temporary name, now removed
    assert _nifti_files(out) == ["imagesTr/CASE0.nii.gz", "imagesTr/CASE1.nii.gz", "labelsTr/CASE0.nii.gz"]
    stamp = (out / "imagesTr" / "CASE0.nii.gz").stat().st_mtime_ns
    la_h5_to_nifti(tiny_la, out)
    assert len(_nifti_files(out)) == 13  # 6 cases x 2 files + datalist.json
    assert (out / "imagesTr" / "CASE0.nii.gz").stat().st_mtime_ns == stamp  # a complete identical file is kept


def test_h5_to_nifti_rebuilds_a_half_written_file_and_refuses_a_different_one(tiny_la, tmp_path):
    import nibabel as nib

    out = tmp_path / "nifti"
    la_h5_to_nifti(tiny_la, out)
    cut = out / "labelsTr" / "CASE2.nii.gz"
    good = cut.read_bytes()
    cut.write_bytes(good[: len(good) // 2])  # what a kill left with the earlier in-place writes
    (out / "imagesTr" / ".CASE3.nii.gz.abc123.tmp.nii.gz").write_bytes(b"leftover")
    with pytest.warns(UserWarning, match=r"CASE2.nii.gz: incomplete: .*; writing it again"):
        la_h5_to_nifti(tiny_la, out)
    assert np.array_equal(np.asarray(nib.load(cut).dataobj), np.asarray(nib.load(_io_bytes(good, tmp_path)).dataobj))
    assert not list((out / "imagesTr").glob(".*"))
    with pytest.raises(FileExistsError, match=r"CASE0.nii.gz already exists \(and 11 more\): .*they differ"):
        la_h5_to_nifti(tiny_la, out, spacing=(1.0, 1.0, 1.0))
    la_h5_to_nifti(tiny_la, out, spacing=(1.0, 1.0, 1.0), overwrite=True)
    assert np.allclose(nib.load(cut).header.get_zooms(), (1.0, 1.0, 1.0))
    with pytest.raises(LADataError, match=r"--spacing must be 3 finite positive numbers in mm"):
        la_h5_to_nifti(tiny_la, out, spacing=(1.0, 0.0, 1.0))


def _io_bytes(data: bytes, tmp_path):
    path = tmp_path / "copy.nii.gz"
    path.write_bytes(data)
    return path
