"""BraTS sources: challenge layout and SSL4MIS h5 layout → datalists, and every bad input stopping with its file."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from noisymed.data import (
    BraTSDataError,
    H5Reader,
    SimpleITKReader,
    brats_case_ids,
    brats_cases,
    brats_input_datalist,
    brats_layout,
    brats_modalities,
    brats_reader,
    brats_splits,
    check_brats_case,
)
from tests.brats_cases import AFFINE, brats_like_volumes, write_brats_case, write_brats_h5_case
from tests.conftest import SHARED_DATA

BRATS_REAL = SHARED_DATA / "brats2018_wt"
requires_brats = pytest.mark.skipif(
    not (BRATS_REAL / "sha256sums.txt").is_file(),
    reason=f"real BraTS 2018 cases not found at {BRATS_REAL} (they ship beside the repository in ../shared, not in it)",
)


@pytest.fixture(scope="module")
def challenge(tmp_path_factory):
    root = tmp_path_factory.mktemp("brats")
    for i in range(5):
        write_brats_case(root, f"BraTS_{i:03d}", seed=i)
    return root


def test_generated_case_has_every_brats_label():
    images, seg = brats_like_volumes(0)
    assert set(np.unique(seg)) == {0, 1, 2, 4}
    assert (images["flair"][seg > 0] > 0).all()  # the tumour lies in the brain


def test_modalities():
    assert brats_modalities("flair") == ("flair",)
    assert brats_modalities(["t2", "flair"]) == ("t2", "flair")
    with pytest.raises(BraTSDataError, match=r"unknown modalities \['dwi'\]"):
        brats_modalities(["flair", "dwi"])
    with pytest.raises(BraTSDataError, match="more than once"):
        brats_modalities(["t1", "t1"])
    with pytest.raises(BraTSDataError, match="at least one"):
        brats_modalities([])


def test_challenge_layout_items_in_modality_order(challenge):
    assert brats_layout(challenge) == "challenge"
    assert brats_case_ids(challenge, None) == [f"BraTS_{i:03d}" for i in range(5)]
    (item,) = brats_cases(challenge, ["BraTS_001"], modalities=["t2", "flair"])
    folder = challenge / "BraTS_001"
    assert item == {
        "image": [str(folder / "BraTS_001_t2.nii.gz"), str(folder / "BraTS_001_flair.nii.gz")],
        "label": str(folder / "BraTS_001_seg.nii.gz"),
        "case": "BraTS_001",
    }
    (flair_only,) = brats_cases(challenge, ["BraTS_001"], with_label=False)
    assert flair_only == {"image": str(folder / "BraTS_001_flair.nii.gz"), "case": "BraTS_001"}
    assert check_brats_case(item) == (40, 44, 36)
    assert isinstance(brats_reader(challenge, "image"), SimpleITKReader)


def test_splits_labeled_first_validation_last(challenge):
    (challenge / "train.txt").write_text("BraTS_003\nBraTS_000\nBraTS_001\nBraTS_002\n")
    split = brats_splits(challenge, num_labeled=1, num_val=1)
    names = {k: [i["case"] for i in v] for k, v in split.items()}
    assert names == {"labeled": ["BraTS_003"], "unlabeled": ["BraTS_000", "BraTS_001"], "val": ["BraTS_002"]}
    assert "label" not in split["unlabeled"][0] and "label" in split["val"][0]
    first4 = [f"BraTS_{i:03d}" for i in range(4)]
    split = brats_splits(challenge, 2, train_list=first4, val_list=["BraTS_004"], max_unlabeled=1)
    assert [i["case"] for i in split["unlabeled"]] == ["BraTS_002"] and [i["case"] for i in split["val"]] == ["BraTS_004"]
    with pytest.raises(BraTSDataError, match=r"also in the training list: \['BraTS_004'\]"):
        brats_splits(challenge, 2, train_list=None, val_list=["BraTS_004"], check=False)
    with pytest.raises(BraTSDataError, match="fewer than num_labeled=9"):
        brats_splits(challenge, 9, val_list=None, check=False)
    with pytest.raises(BraTSDataError, match="set --dataset_dir"):
        brats_splits(None)
    with pytest.raises(BraTSDataError, match=f"{challenge / 'val.txt'}: case list not found"):
        brats_splits(challenge, 1)


def test_missing_modality_names_the_case_and_file(tmp_path):
    write_brats_case(tmp_path, "C1", modalities=("flair", "t1"))
    with pytest.raises(BraTSDataError) as err:
        brats_cases(tmp_path, ["C1"], modalities=["flair", "t1ce"])
    assert "case C1 lacks the modality file(s) ['C1_t1ce.nii.gz']" in str(err.value) and str(tmp_path / "C1") in str(err.value)


def test_seg_values_outside_brats_labels(tmp_path):
    _, seg = brats_like_volumes(0)
    seg[seg == 1] = 3
    write_brats_case(tmp_path, "C2", seg=seg)
    with pytest.raises(BraTSDataError, match=r"C2_seg\.nii\.gz: label values must be in \[0, 1, 2, 4\], found \[3\]"):
        brats_cases(tmp_path, ["C2"])
    # unlabeled cases are not judged by their label
    assert brats_cases(tmp_path, ["C2"], with_label=False)[0]["case"] == "C2"


def test_empty_brain_mask(tmp_path):
    write_brats_case(tmp_path, "C3", images={"flair": np.zeros((40, 44, 36), np.float32)})
    with pytest.raises(BraTSDataError, match=r"C3_flair\.nii\.gz: the brain mask \(non-zero voxels\) is empty"):
        brats_cases(tmp_path, ["C3"])


def test_listed_but_absent_case(tmp_path):
    write_brats_case(tmp_path, "C4")
    (tmp_path / "train.txt").write_text("C4\nC5\n")
    with pytest.raises(BraTSDataError, match=f"{tmp_path / 'C5'}: case C5 is listed but its folder is absent"):
        brats_cases(tmp_path, "train.txt")


def test_2d_image_and_mismatched_shapes(tmp_path):
    write_brats_case(tmp_path, "C6")
    nib.save(nib.Nifti1Image(np.ones((40, 44), np.float32), AFFINE), tmp_path / "C6" / "C6_flair.nii.gz")
    with pytest.raises(BraTSDataError, match=r"C6_flair\.nii\.gz: a BraTS image must be a 3D volume, got shape \(40, 44\)"):
        brats_cases(tmp_path, ["C6"])
    write_brats_case(tmp_path, "C7")
    nib.save(nib.Nifti1Image(np.ones((40, 44, 30), np.float32), AFFINE), tmp_path / "C7" / "C7_t1.nii.gz")
    with pytest.raises(BraTSDataError, match=r"C7_t1\.nii\.gz: shape \(40, 44, 30\) differs"):
        brats_cases(tmp_path, ["C7"], modalities=["flair", "t1"])


def test_non_finite_and_truncated_image(tmp_path):
    images, _ = brats_like_volumes(0)
    bad = images["flair"].copy()
    bad[20, 20, 20] = np.nan
    write_brats_case(tmp_path, "C8", images={"flair": bad})
    with pytest.raises(BraTSDataError, match=r"C8_flair\.nii\.gz: has 1 NaN or infinite values"):
        brats_cases(tmp_path, ["C8"])
    write_brats_case(tmp_path, "C9")
    path = tmp_path / "C9" / "C9_flair.nii.gz"
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    with pytest.raises(BraTSDataError, match=r"C9_flair\.nii\.gz: not a readable NIfTI file"):
        brats_cases(tmp_path, ["C9"])


def test_ssl4mis_h5_layout(tmp_path):
    for i in range(3):
        write_brats_h5_case(tmp_path, f"BraTS19_{i}", seed=i)
    (tmp_path / "train.txt").write_text("BraTS19_0\nBraTS19_1\n")
    (tmp_path / "val.txt").write_text("BraTS19_2\n")
    assert brats_layout(tmp_path) == "h5"
    split = brats_splits(tmp_path, num_labeled=1)
    h5 = str(tmp_path / "data" / "BraTS19_0.h5")
    assert split["labeled"] == [{"image": h5, "label": h5, "case": "BraTS19_0"}]
    assert [i["case"] for i in split["unlabeled"]] == ["BraTS19_1"] and [i["case"] for i in split["val"]] == ["BraTS19_2"]
    reader = brats_reader(tmp_path, "label")
    assert isinstance(reader, H5Reader) and reader.dataset == "label" and reader.spacing == (1.0, 1.0, 1.0)
    with pytest.raises(BraTSDataError, match="holds FLAIR only"):
        brats_cases(tmp_path, None, modalities=["flair", "t1"])
    (tmp_path / "test.txt").write_text("BraTS19_7\n")
    with pytest.raises(BraTSDataError, match=r"BraTS19_7\.h5: case BraTS19_7 is listed but its file is absent"):
        brats_cases(tmp_path, "test.txt")


def test_inference_inputs(tmp_path):
    folder = write_brats_case(tmp_path, "C10", modalities=("flair", "t1"))
    flair = folder / "C10_flair.nii.gz"
    assert brats_input_datalist(str(folder), ["flair", "t1"]) == [
        {"image": [str(flair), str(folder / "C10_t1.nii.gz")], "case": "C10"}
    ]
    assert brats_input_datalist(str(folder)) == [{"image": str(flair), "case": "C10"}]
    assert brats_input_datalist([str(flair)]) == [{"image": str(flair), "case": "C10_flair"}]
    with pytest.raises(BraTSDataError, match=r"lacks the modality file\(s\) \['C10_t2\.nii\.gz'\]"):
        brats_input_datalist(str(folder), ["flair", "t2"])
    with pytest.raises(BraTSDataError, match="a single file cannot feed a model of 2 modalities"):
        brats_input_datalist(str(flair), ["flair", "t1"])
    with pytest.raises(BraTSDataError, match="nothing.nii.gz: input not found"):
        brats_input_datalist(str(tmp_path / "nothing.nii.gz"))
    flat = tmp_path / "flat.nii.gz"
    nib.save(nib.Nifti1Image(np.ones((40, 44), np.float32), AFFINE), flat)
    with pytest.raises(BraTSDataError, match=r"flat\.nii\.gz: a BraTS image must be a 3D volume, got shape \(40, 44\)"):
        brats_input_datalist(str(flat))
    with pytest.raises(BraTSDataError, match="no input given"):
        brats_input_datalist(None)


@requires_brats
def test_real_brats2018_cases():
    cases = brats_case_ids(BRATS_REAL, None)
    assert len(cases) == 7 and cases[0] == "Brats18_CBICA_AOO_1"
    split = brats_splits(BRATS_REAL, num_labeled=1, train_list=cases[:3], val_list=None, num_val=1, modalities=["flair", "t1"])
    assert [len(split[k]) for k in ("labeled", "unlabeled", "val")] == [1, 1, 1]
    assert all(len(i["image"]) == 2 and i["image"][0].endswith("_flair.nii.gz") for i in split["labeled"])
    with pytest.raises(BraTSDataError, match=r"lacks the modality file\(s\) \['Brats18_CBICA_AOO_1_t1ce\.nii\.gz'\]"):
        brats_cases(BRATS_REAL, None, modalities=["flair", "t1ce"], check=False)


def test_grade_subfolders_and_list_beside_the_run(tmp_path, monkeypatch):
    write_brats_case(tmp_path / "HGG", "H1", modalities=("flair",))
    write_brats_case(tmp_path / "LGG", "L1", modalities=("flair",))
    assert brats_case_ids(tmp_path, None) == ["H1", "L1"]
    (item,) = brats_cases(tmp_path, ["L1"], check=False)
    assert item["image"] == str(tmp_path / "LGG" / "L1" / "L1_flair.nii.gz")
    run_dir = tmp_path / "bundle"
    (run_dir / "splits").mkdir(parents=True)
    (run_dir / "splits" / "train.txt").write_text("L1\nH1\n")
    monkeypatch.chdir(run_dir)  # a list the dataset does not hold is read relative to the working folder
    assert brats_case_ids(tmp_path, "splits/train.txt") == ["L1", "H1"]
    with pytest.raises(BraTSDataError, match=f"{tmp_path / 'splits' / 'val.txt'}: case list not found"):
        brats_case_ids(tmp_path, "splits/val.txt")


def test_shipped_ssl4mis_split_lists():
    splits = Path(__file__).resolve().parents[2] / "bundles" / "brats_mri_mutual_learning" / "splits"
    lists = {name: brats_case_ids(splits, f"{name}.txt") for name in ("train", "val", "test")}
    assert {k: len(v) for k, v in lists.items()} == {"train": 250, "val": 25, "test": 60}
    assert not set(lists["train"]) & set(lists["val"]) and not set(lists["train"] + lists["val"]) & set(lists["test"])


def test_inference_masks_are_named_after_the_case_and_an_earlier_one_is_refused(tmp_path):
    a = write_brats_case(tmp_path / "site_a", "C1", modalities=("flair",))
    b = write_brats_case(tmp_path / "site_b", "C1", modalities=("flair",))  # the same case name at another site
    out = tmp_path / "out"
    items = brats_input_datalist([str(a), str(b / "C1_flair.nii.gz")], output_dir=out)
    assert [i["output"] for i in items] == [str(out / "site_a" / "C1_seg.nii.gz"), str(out / "site_b" / "C1" / "C1_flair_seg.nii.gz")]
    (out / "site_a").mkdir(parents=True)
    (out / "site_a" / "C1_seg.nii.gz").write_bytes(b"earlier")
    with pytest.raises(FileExistsError, match="C1_seg.nii.gz"):
        brats_input_datalist([str(a), str(b)], output_dir=out)
    assert brats_input_datalist([str(a)], output_dir=out, overwrite=True)[0]["output"] == str(out / "C1_seg.nii.gz")
    assert "output" not in brats_input_datalist(str(a))[0]
