"""Pancreas CT sources: HU from DICOM rescale tags, the label-on-grid check, the literature's crop and preprocessing,
case lists with absent cases, splits, inference inputs; each refusal names its file."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import torch
from monai.data import MetaTensor
from monai.transforms import LoadImaged

from noisymed.data import (
    PancreasDataError,
    check_ct_series,
    pancreas_case_index,
    pancreas_cases,
    pancreas_crop_box,
    pancreas_input_datalist,
    pancreas_splits,
    preprocess_pancreas_case,
    read_ct_case,
    resolve_case_ids,
)
from noisymed.data.sitk_reader import SimpleITKReader
from noisymed.transforms import CheckCTd
from tests.pancreas_cases import ORIGIN, SHAPE, SPACING, ct_like_volume, write_ct_series, write_h5_case, write_label_nifti


@pytest.fixture(scope="module")
def ct_case(tmp_path_factory):
    root = tmp_path_factory.mktemp("ct")
    hu, label = ct_like_volume(3)
    write_ct_series(root / "series", hu)
    write_label_nifti(root / "label.nii.gz", label)
    return root, hu, label


def test_read_ct_case_gives_hu_and_lps_geometry_as_ras(ct_case):
    root, hu, label = ct_case
    image, lab = read_ct_case(root / "series", root / "label.nii.gz")
    assert image.shape == (1, *SHAPE) and np.array_equal(image[0].numpy(), hu.astype(np.float32))  # stored - 1024
    assert np.array_equal(lab[0].numpy(), label)
    expected = np.diag([-SPACING[0], -SPACING[1], SPACING[2], 1.0])  # LPS axes as RAS: x and y negated
    expected[:3, 3] = [-ORIGIN[0], -ORIGIN[1], ORIGIN[2]]
    assert np.allclose(image.affine.numpy(), expected, atol=1e-4) and np.allclose(lab.affine.numpy(), expected, atol=1e-4)


@pytest.mark.parametrize(
    "geometry, what",
    [
        ({"origin": (ORIGIN[0] + 0.7, ORIGIN[1], ORIGIN[2])}, "origin"),
        ({"direction": np.diag([1.0, -1.0, 1.0])}, "direction"),  # a label flipped along y
        ({"spacing": (0.7, 0.7, 1.25)}, "spacing"),
    ],
)
def test_label_off_the_ct_grid_is_refused_naming_both_files(tmp_path, ct_case, geometry, what):
    root, _, label = ct_case
    bad = write_label_nifti(tmp_path / "label_bad.nii.gz", label, **geometry)
    with pytest.raises(PancreasDataError, match=what) as err:
        read_ct_case(root / "series", bad)
    assert str(bad) in str(err.value) and str(root / "series") in str(err.value)


def test_label_of_another_size_is_refused(tmp_path, ct_case):
    root, _, label = ct_case
    bad = write_label_nifti(tmp_path / "label.nii.gz", label[:, :, :-1])
    with pytest.raises(PancreasDataError, match=r"size \(64, 60, 23\) vs the CT's \(64, 60, 24\)"):
        read_ct_case(root / "series", bad)


def test_series_without_hu_rescale_tags_is_refused(tmp_path):
    hu, _ = ct_like_volume(0)
    write_ct_series(tmp_path / "raw", hu, rescale=False)
    with pytest.raises(PancreasDataError, match=r"IM0001\.dcm: lacks the HU rescale tag\(s\) \['RescaleSlope', 'RescaleIntercept'\]"):
        check_ct_series(tmp_path / "raw")
    with pytest.raises(PancreasDataError, match="RescaleSlope"):
        CheckCTd("image")(LoadImaged("image", reader=SimpleITKReader(), image_only=True)(pancreas_input_datalist(tmp_path / "raw")[0]))


def test_mr_series_and_single_slice_are_refused(tmp_path):
    from noisymed.data import write_dicom_series

    write_dicom_series(np.zeros((8, 8, 3)), tmp_path / "mr", modality="MR")
    with pytest.raises(PancreasDataError, match="Modality is 'MR', not 'CT'"):
        check_ct_series(tmp_path / "mr")
    write_ct_series(tmp_path / "one", np.zeros((8, 8, 1), np.int16))
    with pytest.raises(PancreasDataError, match="series has 1 slice; a CT volume"):
        check_ct_series(tmp_path / "one")


def test_input_datalist_expands_folders_and_reads_no_file(tmp_path):
    """Files, a folder of volumes (expanded, name order) and a DICOM series folder; masks planned, not collided;
    a folder that is empty is kept as one (series) input, so MONAI's property checks can resolve it."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for folder in ("a", "b"):
        (tmp_path / folder / "case.nii.gz").write_bytes(b"not read here")
    (tmp_path / "a" / "z.nii.gz").write_bytes(b"not read here")
    items = pancreas_input_datalist([tmp_path / "a", tmp_path / "b" / "case.nii.gz"], output_dir=tmp_path / "out")
    assert [Path(i["image"]).relative_to(tmp_path).as_posix() for i in items] == ["a/case.nii.gz", "a/z.nii.gz", "b/case.nii.gz"]
    assert [i["case"] for i in items] == ["case", "z", "case"]
    assert len({i["output"] for i in items}) == 3
    (tmp_path / "empty").mkdir()
    assert pancreas_input_datalist(tmp_path / "empty")[0]["image"] == str(tmp_path / "empty")
    with pytest.raises(FileNotFoundError, match="input not found"):
        pancreas_input_datalist(tmp_path / "absent.nii.gz")
    with pytest.raises(PancreasDataError, match="no input given"):
        pancreas_input_datalist([])


def test_bad_label_values_and_empty_label_are_refused(tmp_path, ct_case):
    root, _, label = ct_case
    bad = write_label_nifti(tmp_path / "l3.nii.gz", label * 3)
    with pytest.raises(PancreasDataError, match=r"l3\.nii\.gz: label values must be in \[0, 1, 2\], found \[3\]"):
        read_ct_case(root / "series", bad)
    empty = write_label_nifti(tmp_path / "l0.nii.gz", label * 0)
    with pytest.raises(PancreasDataError, match=r"l0\.nii\.gz: the label is empty"):
        read_ct_case(root / "series", empty)


def test_crop_box_is_mc_nets():
    label = np.zeros((200, 150, 5), np.uint8)
    label[50:61, 40:46, 2] = 1  # x 50..60 (width 10), y 40..45 (width 5)
    # x: pad (96 - 10) // 2 = 43 -> [50 - 68, 60 + 68) clipped to [0, 128); y: pad 45 -> [0, 115)
    assert pancreas_crop_box(label) == (slice(0, 128), slice(0, 115))
    label = np.zeros((300, 300, 5), np.uint8)
    label[100:151, 10:201, 0] = 1  # x width 50: pad 23 -> [52, 198); y width 190 > 96: no pad -> [0, 225)
    assert pancreas_crop_box(label) == (slice(52, 198), slice(0, 225))
    assert pancreas_crop_box(label, margin=2, min_size=0) == (slice(98, 152), slice(8, 202))
    with pytest.raises(PancreasDataError, match="empty"):
        pancreas_crop_box(np.zeros((4, 4, 4)))


def test_preprocessing_windows_crops_and_z_scores():
    """At 1 mm already: HU -> clip((HU + 125) / 400, 0, 1), crop x/y around the label, full z, z-score."""
    rng = np.random.default_rng(0)
    hu = rng.uniform(-1000, 1000, (40, 30, 6)).astype(np.float32)
    label = np.zeros((40, 30, 6), np.uint8)
    label[18:22, 10:14, 1:3] = 1
    image = MetaTensor(torch.from_numpy(hu)[None], affine=torch.eye(4, dtype=torch.float64))
    lab = MetaTensor(torch.from_numpy(label)[None], affine=torch.eye(4, dtype=torch.float64))
    out_image, out_label = preprocess_pancreas_case(image, lab, margin=2, min_size=8)
    # x: 18..21, pad (8 - 3) // 2 = 2 -> [18 - 4, 21 + 4) = [14, 25); y: 10..13 -> [6, 17); z whole
    windowed = np.clip((hu[14:25, 6:17] + 125) / 400, 0, 1)
    assert np.allclose(out_image[0].numpy(), (windowed - windowed.mean()) / windowed.std(), atol=1e-4)
    assert np.array_equal(out_label[0].numpy(), label[14:25, 6:17])
    assert np.allclose(out_image.affine.numpy()[:3, 3], [14, 6, 0])  # the crop is recorded in the affine


@pytest.fixture
def prepared(tmp_path):
    """A prepared-layout folder with cases image0001..image0004 and the TCIA-absent image0025 declared."""
    entries = []
    for i in range(1, 5):
        case = f"image{i:04d}"
        for d in ("imagesTr", "labelsTr"):
            (tmp_path / d).mkdir(exist_ok=True)
            nib.save(nib.Nifti1Image(np.zeros((4, 4, 4), np.float32), np.eye(4)), tmp_path / d / f"{case}.nii.gz")
        entries.append({"image": f"imagesTr/{case}.nii.gz", "label": f"labelsTr/{case}.nii.gz", "case": case})
    (tmp_path / "datalist.json").write_text(json.dumps({"training": entries, "absent": {"image0025": "not in TCIA"}}))
    return tmp_path


def test_absent_case_declared_is_skipped_with_its_reason(prepared):
    with pytest.warns(UserWarning, match="case image0025 skipped: not in TCIA"):
        items = pancreas_cases(prepared, ["image0002", "image0025", "image0001"])
    assert [i["case"] for i in items] == ["image0002", "image0001"]
    assert items[0]["image"] == str(prepared / "imagesTr" / "image0002.nii.gz")


def test_listed_case_absent_is_named(prepared):
    (prepared / "train.list").write_text("image0001\nimage0070\n")
    expected = prepared / "imagesTr" / "image0070.nii.gz"
    with pytest.raises(PancreasDataError, match=f"{expected}: case image0070 is listed in {prepared / 'train.list'}"):
        pancreas_cases(prepared, "train.list")
    (prepared / "imagesTr" / "image0003.nii.gz").unlink()
    with pytest.raises(PancreasDataError, match="image0003.nii.gz: the image file of case image0003 is missing"):
        pancreas_cases(prepared, ["image0003"])


def test_splits_first_cases_labeled(prepared):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        split = pancreas_splits(prepared, num_labeled=2, train_list=["image0003", "image0025", "image0001", "image0002"],
                                val_list=["image0004"])  # fmt: skip
    assert [i["case"] for i in split["labeled"]] == ["image0003", "image0001"]
    assert split["unlabeled"] == [{"image": str(prepared / "imagesTr" / "image0002.nii.gz"), "case": "image0002"}]
    assert [i["case"] for i in split["val"]] == ["image0004"]
    split = pancreas_splits(prepared, num_labeled=1, train_list=["image0001", "image0002", "image0003"], num_val=1)
    assert [i["case"] for i in split["val"]] == ["image0003"] and len(split["unlabeled"]) == 1
    with pytest.raises(PancreasDataError, match="fewer than num_labeled=5"):
        pancreas_splits(prepared, num_labeled=5, train_list=["image0001"])
    with pytest.raises(PancreasDataError, match=r"also in the training list: \['image0001'\]"):
        pancreas_splits(prepared, 1, ["image0001", "image0002"], val_list=["image0001"])
    with pytest.raises(PancreasDataError, match="num_labeled must be a whole number"):
        pancreas_splits(prepared, num_labeled=1.5, train_list=["image0001"])


def test_h5_folder_is_read_as_it_is(tmp_path):
    write_h5_case(tmp_path, "image0001")
    write_h5_case(tmp_path, "image0002", seed=1)
    index, absent, layout = pancreas_case_index(tmp_path)
    assert layout == "h5" and absent == {} and sorted(index) == ["image0001", "image0002"]
    assert index["image0002"] == {"image": str(tmp_path / "image0002_norm.h5"), "label": str(tmp_path / "image0002_norm.h5"), "case": "image0002"}
    with pytest.raises(PancreasDataError, match="image0003_norm.h5: case image0003 is listed"):
        pancreas_cases(tmp_path, ["image0003"])


def test_no_dataset_and_neither_layout_are_named(tmp_path):
    with pytest.raises(PancreasDataError, match="set --dataset_dir"):
        pancreas_case_index(None)
    with pytest.raises(PancreasDataError, match="neither a prepared folder"):
        pancreas_case_index(tmp_path)


def test_resolve_case_ids(tmp_path):
    (tmp_path / "a.list").write_text("x1\n\n x2 \n")
    assert resolve_case_ids(tmp_path, "a.list") == (["x1", "x2"], str(tmp_path / "a.list"))
    with pytest.raises(PancreasDataError, match="b.list: case list not found"):
        resolve_case_ids(tmp_path, "b.list", PancreasDataError)
    with pytest.raises(ValueError, match=r"more than once: \['x'\]"):
        resolve_case_ids(tmp_path, ["x", "x"])


def test_values_that_are_not_hu_are_refused(tmp_path, ct_case):
    """Stored values without the intercept (HU + 1024) or a normalised image: no air below -500, refused by name."""
    import SimpleITK as sitk

    from noisymed.data import check_hu_range

    root, hu, label = ct_case
    raw = sitk.GetImageFromArray(np.ascontiguousarray((hu.astype(np.int32) + 1024).transpose(2, 1, 0)))
    sitk.WriteImage(raw, str(tmp_path / "raw.nii.gz"))
    write_label_nifti(tmp_path / "label.nii.gz", label, spacing=(1, 1, 1), origin=(0, 0, 0))
    with pytest.raises(PancreasDataError, match=r"raw\.nii\.gz: does not look like CT in Hounsfield units: its lowest value is 0"):
        read_ct_case(tmp_path / "raw.nii.gz", tmp_path / "label.nii.gz")
    with pytest.raises(PancreasDataError, match=r"raw\.nii\.gz: does not look like CT"):
        CheckCTd("image")(LoadImaged("image", reader=SimpleITKReader(), image_only=True)(pancreas_input_datalist(tmp_path / "raw.nii.gz")[0]))
    check_hu_range(-500.0, "x")  # the limit itself passes
    with pytest.raises(PancreasDataError, match="lowest value is -499"):
        check_hu_range(-499.0, "x")


def test_two_series_are_refused(tmp_path):
    """A patient folder with a second series folder, and a folder mixing two series: each refused, named."""
    from noisymed.data import tcia_series_folder

    hu = np.full((8, 8, 3), -1000, np.int16)
    write_ct_series(tmp_path / "PANCREAS_0001" / "study" / "ct", hu)
    write_ct_series(tmp_path / "PANCREAS_0001" / "study" / "scout", hu)
    with pytest.raises(PancreasDataError, match=r"PANCREAS_0001: DICOM files in 2 folders \(study/ct, study/scout\)"):
        tcia_series_folder(tmp_path / "PANCREAS_0001")
    write_ct_series(tmp_path / "mixed", hu)
    write_ct_series(tmp_path / "mixed2", hu)
    for i, path in enumerate(sorted((tmp_path / "mixed2").iterdir())):
        path.rename(tmp_path / "mixed" / f"other{i}.dcm")
    with pytest.raises(PancreasDataError, match="mixed: holds 2 DICOM series"):
        check_ct_series(tmp_path / "mixed")
