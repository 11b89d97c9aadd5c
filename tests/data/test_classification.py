from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from noisymed.data import csv_datalist, folder_classes, folder_datalist, write_dicom_series


def write_png(path, value=0, size=(6, 5)):
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full(size, value, np.uint8)).save(path)
    return path


def write_nifti(path, value=0.0, shape=(4, 5, 3)):
    import nibabel as nib

    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(nib.Nifti1Image(np.full(shape, value, np.float32), np.eye(4)), path)
    return path


@pytest.fixture
def class_folders(tmp_path):
    """``root/{normal,pneumonia,zz_other}`` with PNG, NIfTI, a nested image, a DICOM series and ignored files."""
    root = tmp_path / "set"
    write_png(root / "pneumonia" / "b.png", 20)
    write_png(root / "pneumonia" / "a.PNG", 10)
    write_nifti(root / "normal" / "c.nii.gz", 1.0)
    write_png(root / "normal" / "sub" / "d.png", 30)
    (root / "normal" / "notes.txt").write_text("not an image")
    (root / "normal" / ".hidden.png").write_bytes(b"")
    write_dicom_series(np.zeros((4, 4, 3), np.int16), root / "zz_other" / "series1")
    (root / ".cache").mkdir()
    return root


def test_folder_classes_sorted(class_folders):
    assert folder_classes(class_folders) == ["normal", "pneumonia", "zz_other"]


def test_folder_datalist(class_folders):
    items = folder_datalist(class_folders)
    rel = [(str(Path(d["image"]).relative_to(class_folders)), d["label"], d["class_name"])
           for d in items]
    assert rel == [
        ("normal/c.nii.gz", 0, "normal"),
        ("normal/sub/d.png", 0, "normal"),
        ("pneumonia/a.PNG", 1, "pneumonia"),
        ("pneumonia/b.png", 1, "pneumonia"),
        ("zz_other/series1", 2, "zz_other"),  # the series folder is one image
    ]
    assert all(type(d["image"]) is str for d in items)
    (class_folders / "zz_other" / "e.png").write_bytes(b"")
    only_png = folder_datalist(class_folders, extensions=("png",), dicom_series=False)  # no dot, any case
    assert [Path(d["image"]).name for d in only_png] == ["d.png", "a.PNG", "b.png", "e.png"]
    (class_folders / "zz_other" / "e.png").unlink()
    with pytest.raises(ValueError, match="zz_other' holds no image"):
        folder_datalist(class_folders, extensions=(".png",), dicom_series=False)


def test_folder_datalist_with_given_classes(tmp_path):
    write_png(tmp_path / "val" / "pneumonia" / "x.png")
    items = folder_datalist(tmp_path / "val", classes=["normal", "pneumonia"])  # the val set lacks 'normal'
    assert [(d["label"], d["class_name"]) for d in items] == [(1, "pneumonia")]
    assert folder_datalist(tmp_path / "val")[0]["label"] == 0
    with pytest.raises(ValueError, match=r"class folders \['pneumonia'\] are not in classes \['a', 'b'\]"):
        folder_datalist(tmp_path / "val", classes=["a", "b"])
    with pytest.raises(ValueError, match="distinct"):
        folder_datalist(tmp_path / "val", classes=["pneumonia", "pneumonia"])


def test_extensionless_dicom_files_make_a_series(tmp_path):
    files = write_dicom_series(np.zeros((4, 4, 2), np.int16), tmp_path / "a" / "s")
    for f in files:
        f.rename(f.with_suffix(""))
    assert [d["image"] for d in folder_datalist(tmp_path)] == [str(tmp_path / "a" / "s")]


def test_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="dataset folder not found"):
        folder_datalist(tmp_path / "nope")
    with pytest.raises(ValueError, match="has no class subfolder"):
        folder_classes(tmp_path)
    write_png(tmp_path / "a" / "x.png")
    (tmp_path / "b").mkdir()
    with pytest.raises(ValueError, match="class folder 'b' holds no image"):
        folder_datalist(tmp_path)
    with pytest.raises(ValueError, match="extensions must be"):
        folder_datalist(tmp_path, extensions=".png")


def test_csv_with_integer_labels(tmp_path):
    write_png(tmp_path / "img" / "a.png")
    write_nifti(tmp_path / "img" / "b.nii.gz")
    other = write_png(tmp_path / "elsewhere" / "c.png")
    csv = tmp_path / "lists" / "train.csv"
    csv.parent.mkdir()
    csv.write_text(f"path,label,extra\n../img/a.png,2,x\n../img/b.nii.gz, 0 ,y\n{other},1,z\n")
    items = csv_datalist(csv)
    assert [d["label"] for d in items] == [2, 0, 1]
    assert [d["class_name"] for d in items] == ["2", "0", "1"]
    assert items[0]["image"] == str(csv.parent / "../img/a.png") and items[2]["image"] == str(other)
    named = csv_datalist(csv, classes=["cat", "dog", "owl"])
    assert [d["class_name"] for d in named] == ["owl", "cat", "dog"]
    with pytest.raises(ValueError, match="line 2: class index 2 is not in 0..1"):
        csv_datalist(csv, classes=["cat", "dog"])


def test_csv_with_class_names(tmp_path):
    for n in "abcd":
        write_png(tmp_path / f"{n}.png")
    csv = tmp_path / "l.csv"
    csv.write_text("file,finding\na.png,pneumonia\nb.png,normal\nc.png,pneumonia\nd.png,effusion\n", encoding="utf-8-sig")
    items = csv_datalist(csv, image_col="file", label_col="finding")
    assert [d["label"] for d in items] == [2, 1, 2, 0]  # sorted: effusion, normal, pneumonia
    assert [d["class_name"] for d in items] == ["pneumonia", "normal", "pneumonia", "effusion"]
    items = csv_datalist(csv, image_col="file", label_col="finding", classes=["normal", "pneumonia", "effusion"])
    assert [d["label"] for d in items] == [1, 0, 1, 2]
    with pytest.raises(ValueError, match="line 5: unknown class 'effusion'; classes are \\['normal', 'pneumonia'\\]"):
        csv_datalist(csv, image_col="file", label_col="finding", classes=["normal", "pneumonia"])
    with pytest.raises(ValueError, match="distinct"):
        csv_datalist(csv, image_col="file", label_col="finding", classes=["a", "a"])


def test_csv_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="CSV file not found"):
        csv_datalist(tmp_path / "none.csv")
    write_png(tmp_path / "a.png")
    csv = tmp_path / "l.csv"
    csv.write_text("image,label\na.png,0\n")
    with pytest.raises(ValueError, match=r"has no column \['path'\]; its columns are \['image', 'label'\]"):
        csv_datalist(csv)
    csv.write_text("path,label\n")
    with pytest.raises(ValueError, match="holds no data row"):
        csv_datalist(csv)
    csv.write_text("path,label\na.png,0\nmissing.png,1\n")
    with pytest.raises(ValueError, match="l.csv, line 3: image 'missing.png' not found"):
        csv_datalist(csv)
    csv.write_text("path,label\na.png,0\na.png,\n")
    with pytest.raises(ValueError, match="line 3: empty 'label' cell"):
        csv_datalist(csv)
    csv.write_text("path,label\na.png,-1\n")
    with pytest.raises(ValueError, match="line 2: class index -1"):
        csv_datalist(csv)


def test_items_load_through_monai_readers(class_folders):
    from monai.data import NibabelReader, PILReader
    from monai.transforms import LoadImaged

    items = {d["image"].rsplit("/", 1)[-1]: d for d in folder_datalist(class_folders)}
    png = LoadImaged("image", reader=PILReader(), ensure_channel_first=True)(items["b.png"])
    assert tuple(png["image"].shape) == (1, 5, 6) and float(png["image"].max()) == 20 and png["label"] == 1
    nii = LoadImaged("image", reader=NibabelReader(), ensure_channel_first=True)(items["c.nii.gz"])
    assert tuple(nii["image"].shape) == (1, 4, 5, 3) and float(nii["image"].mean()) == 1.0 and nii["label"] == 0


def test_csv_refuses_a_stray_integer_label(tmp_path):
    for n in range(6):
        write_png(tmp_path / f"{n}.png")
    csv = tmp_path / "l.csv"
    csv.write_text("path,label\n0.png,0\n1.png,1\n2.png,7\n3.png,1\n4.png,0\n5.png,7\n")
    with pytest.raises(ValueError, match=r"l.csv: class indices \[0, 1, 7\] skip \[2, 3, 4, 5, 6\], so label\(s\) \[7\] "
                       r"\(lines 4, 7\) would train a model of 8 classes, 5 of them without an image"):
        csv_datalist(csv)
    # declared classes are the way to keep empty classes on purpose
    items = csv_datalist(csv, classes=[str(i) for i in range(8)])
    assert [d["label"] for d in items] == [0, 1, 7, 1, 0, 7]


def test_csv_refuses_mixed_names_and_indices(tmp_path):
    for n in range(3):
        write_png(tmp_path / f"{n}.png")
    csv = tmp_path / "l.csv"
    csv.write_text("path,label\n0.png,normal\n1.png,1\n2.png,pneumonia\n")
    with pytest.raises(ValueError, match=r"l.csv: the 'label' column mixes class names \(e.g. 'normal' on line 2\) "
                       r"and class indices \(e.g. '1' on line 3\)"):
        csv_datalist(csv)
    with pytest.raises(ValueError, match="mixes class names"):
        csv_datalist(csv, classes=["normal", "pneumonia"])


def test_csv_refuses_an_image_listed_twice(tmp_path):
    write_png(tmp_path / "img" / "a.png")
    write_png(tmp_path / "img" / "b.png")
    csv = tmp_path / "l.csv"
    csv.write_text("path,label\nimg/a.png,0\nimg/b.png,1\n./img/../img/a.png,1\n")
    with pytest.raises(ValueError, match=r"l.csv, line 4: image './img/../img/a.png' is already on line 2"):
        csv_datalist(csv)


def test_csv_names_blank_cells_encoding_and_header_only_files(tmp_path):
    write_png(tmp_path / "a.png")
    csv = tmp_path / "l.csv"
    csv.write_text("path,label\na.png, \n")
    with pytest.raises(ValueError, match=r"l.csv, line 2: empty 'label' cell; fill it in or remove the row"):
        csv_datalist(csv)
    csv.write_bytes(b"path,label\na.png,caf\xe9\n")
    with pytest.raises(ValueError, match=r"l.csv: not UTF-8 text: byte 20 \(0xe9, line 2\)"):
        csv_datalist(csv)
    csv.write_text("path,label\n")
    with pytest.raises(ValueError, match="l.csv: holds no data row, only the header"):
        csv_datalist(csv)
