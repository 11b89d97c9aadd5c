from __future__ import annotations

from pathlib import Path

import pytest

from noisymed.data import image_datalist, segmentation_datalist


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


def test_image_datalist(tmp_path):
    f = _touch(tmp_path / "a.nii.gz")
    assert image_datalist(str(f)) == [{"image": str(f)}]
    with pytest.raises(ValueError, match="no input given"):
        image_datalist([])
    with pytest.raises(FileNotFoundError, match="b.nii.gz: input not found"):
        image_datalist([f, tmp_path / "b.nii.gz"])


def test_one_input_writes_beside_the_output_dir_root(tmp_path):
    f = _touch(tmp_path / "in" / "case.nii.gz")
    dicom = tmp_path / "in" / "series1"
    _touch(dicom / "IM0001.dcm")
    out = tmp_path / "out"
    assert segmentation_datalist(f, out) == [{"image": str(f), "output": str(out / "case_seg.nii.gz")}]
    assert segmentation_datalist(str(dicom), out)[0]["output"] == str(out / "series1_seg.nii.gz")
    assert segmentation_datalist(_touch(tmp_path / "x.mha"), out, postfix="mask")[0]["output"] == str(
        out / "x_mask.nii.gz"
    )


def test_inputs_with_one_base_name_never_share_a_mask(tmp_path):
    a = _touch(tmp_path / "site_a" / "case.nii.gz")
    b = _touch(tmp_path / "site_b" / "sub" / "case.nii.gz")
    c = _touch(tmp_path / "site_a" / "other.nii")
    out = tmp_path / "out"
    items = segmentation_datalist([a, b, c], out)
    assert [i["output"] for i in items] == [
        str(out / "site_a" / "case_seg.nii.gz"),
        str(out / "site_b" / "sub" / "case_seg.nii.gz"),
        str(out / "site_a" / "other_seg.nii.gz"),
    ]
    with pytest.raises(ValueError, match=r"case.nii.gz and .*case.nii.gz would both write .*case_seg.nii.gz"):
        segmentation_datalist([a, a], out)
    twin = _touch(tmp_path / "site_a" / "case.nii")
    with pytest.raises(ValueError, match="would both write"):
        segmentation_datalist([a, twin], out)


def test_a_folder_of_volumes_is_expanded_and_a_dicom_folder_is_one_series(tmp_path):
    folder = tmp_path / "batch"
    names = ["b.nii.gz", "a.nii.gz", "c.mha"]
    for n in names:
        _touch(folder / n)
    _touch(folder / "notes.txt")
    out = tmp_path / "out"
    items = segmentation_datalist(folder, out)
    assert [Path(i["image"]).name for i in items] == ["a.nii.gz", "b.nii.gz", "c.mha"]
    assert [Path(i["output"]).name for i in items] == ["a_seg.nii.gz", "b_seg.nii.gz", "c_seg.nii.gz"]
    series = tmp_path / "series"
    _touch(series / "IM0001.dcm")
    _touch(series / "IM0002.dcm")
    assert segmentation_datalist(series, out) == [{"image": str(series), "output": str(out / "series_seg.nii.gz")}]


def test_existing_masks_are_refused_before_anything_is_written(tmp_path):
    a, b = _touch(tmp_path / "in" / "a.nii.gz"), _touch(tmp_path / "in" / "b.nii.gz")
    out = tmp_path / "out"
    _touch(out / "b_seg.nii.gz")
    with pytest.raises(
        FileExistsError, match=r"b_seg.nii.gz already exists: .*pass another --output_dir, or pass --overwrite true"
    ):
        segmentation_datalist([a, b], out)
    assert len(segmentation_datalist([a, b], out, overwrite="true")) == 2


def test_2d_inputs_from_folders_and_a_monai_datalist(tmp_path):
    a = _touch(tmp_path / "site_a" / "img.png")
    b = _touch(tmp_path / "site_b" / "img.png")
    _touch(tmp_path / "site_b" / "notes.txt")
    series = _touch(tmp_path / "series" / "IM0001.dcm")  # DICOM files: a series, one input (not its slices)
    _touch(tmp_path / "series" / "IM0002.dcm")
    found = image_datalist([tmp_path / "site_a", tmp_path / "site_b", tmp_path / "series"], expand=(".png", ".dcm"))
    assert found == [{"image": str(a)}, {"image": str(b)}, {"image": str(series.parent)}]
    assert image_datalist(tmp_path / "site_a") == [{"image": str(tmp_path / "site_a")}]  # no expand: one input
    datalist = tmp_path / "lists" / "datalist.json"
    datalist.parent.mkdir()
    datalist.write_text('{"testing": ["../site_a/img.png", {"image": "%s", "id": 7}]}' % b)
    assert image_datalist(datalist) == [
        {"image": str(datalist.parent / "../site_a/img.png")},
        {"image": str(b), "id": 7},
    ]
    with pytest.raises(ValueError, match="given twice"):
        image_datalist([datalist, a])
    datalist.write_text('{"training": []}')
    with pytest.raises(ValueError, match="a MONAI datalist with a 'testing' list is expected, found \\['training'\\]"):
        image_datalist(datalist)
    datalist.write_text('{"testing": ["missing.png"]}')
    with pytest.raises(FileNotFoundError, match="missing.png: listed in"):
        image_datalist(datalist)


def test_expand_volume_folder(tmp_path):
    from noisymed.data import expand_volume_folder

    b, a = _touch(tmp_path / "vols" / "b.nii.gz"), _touch(tmp_path / "vols" / "a.MHA")
    _touch(tmp_path / "vols" / "notes.txt")
    _touch(tmp_path / "vols" / "deeper" / "c.nii")  # only files directly in the folder
    assert expand_volume_folder(tmp_path / "vols") == [a, b]
    series = _touch(tmp_path / "series" / "IM0001.dcm").parent
    assert expand_volume_folder(str(series)) == [series]  # no volume file: one DICOM series
    assert expand_volume_folder(a) == [a]
