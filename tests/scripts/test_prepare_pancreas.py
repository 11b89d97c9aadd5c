"""scripts/prepare_pancreas.py on generated TCIA (DICOM + label NIfTI), MSD and h5 layouts with known geometry."""

from __future__ import annotations

import json

import nibabel as nib
import numpy as np
import pytest

from scripts.prepare_pancreas import main
from tests.pancreas_cases import ORIGIN, ct_like_volume, write_h5_case, write_msd_case, write_tcia_case


def _world_centroid(mask: np.ndarray, affine: np.ndarray) -> np.ndarray:
    ijk = np.argwhere(mask > 0).mean(axis=0)
    return affine[:3, :3] @ ijk + affine[:3, 3]


@pytest.fixture(scope="module")
def tcia(tmp_path_factory):
    root = tmp_path_factory.mktemp("tcia")
    for n in (1, 2):
        write_tcia_case(root / "Pancreas-CT", root / "labels", n)
    return root


def test_tcia_prepare_keeps_the_label_in_place_and_z_scores(tcia, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["--source", "tcia", "--dataset_dir", str(tcia / "Pancreas-CT"), "--label_dir", str(tcia / "labels"),
            "--output_dir", str(out), "--margin", "4", "--min_size", "0", "--overlay_dir", str(tmp_path / "png")]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "note: image0025 absent" in printed and "wrote 2 cases" in printed
    datalist = json.loads((out / "datalist.json").read_text())
    assert [i["case"] for i in datalist["training"]] == ["image0001", "image0002"]
    assert set(datalist["absent"]) == {"image0025", "image0070"}
    assert datalist["preprocessing"] == {"source": "tcia", "spacing": [1.0, 1.0, 1.0], "window": [-125.0, 275.0], "margin": 4, "min_size": 0}

    source_label = nib.load(tcia / "labels" / "label0001.nii.gz")
    image = nib.load(out / "imagesTr" / "image0001.nii.gz")
    label = nib.load(out / "labelsTr" / "image0001.nii.gz")
    assert np.allclose(image.affine, label.affine) and np.allclose(np.abs(np.diag(image.affine)[:3]), 1.0)
    lab = np.asarray(label.dataobj)
    assert label.get_data_dtype() == np.uint8 and set(np.unique(lab)) == {0, 1}
    # the pancreas is where it was, in world coordinates (resampling 0.7 x 0.7 x 1.5 -> 1 mm moves it < 0.5 mm)
    assert np.allclose(_world_centroid(lab, label.affine), _world_centroid(np.asarray(source_label.dataobj), source_label.affine), atol=0.5)
    # full z: 24 slices of 1.5 mm -> 36 slices of 1 mm, starting at the first slice's position
    assert lab.shape[2] == 36 and np.isclose(image.affine[2, 3], ORIGIN[2])
    # x/y: the label box + 4 voxels each side (no widening with min_size 0), as MC-Net: [lo - 4, hi + 4)
    xs, ys = np.nonzero(lab.any(axis=2))
    assert (xs.min(), ys.min()) == (4, 4) and (lab.shape[0] - 1 - xs.max(), lab.shape[1] - 1 - ys.max()) == (3, 3)
    img = np.asarray(image.dataobj)
    assert abs(img.mean()) < 1e-4 and abs(img.std() - 1) < 1e-3
    # in the window: the pancreas (~110 HU) is brighter than the soft tissue around it (~40 HU)
    assert img[lab > 0].mean() > img[lab == 0].mean()
    import matplotlib.image

    png = matplotlib.image.imread(tmp_path / "png" / "image0001.png")  # the overlay to check by eye: red outline
    assert sorted(p.name for p in (tmp_path / "png").iterdir()) == ["image0001.png", "image0002.png"]
    assert ((png[..., 0] > 0.8) & (png[..., 1] < 0.2) & (png[..., 2] < 0.2)).sum() > 20


def test_error_in_a_later_case_leaves_no_file(tcia, tmp_path, capsys):
    data = tmp_path / "Pancreas-CT"
    import shutil

    shutil.copytree(tcia / "Pancreas-CT", data)
    labels = tmp_path / "labels"
    shutil.copytree(tcia / "labels", labels)
    from tests.pancreas_cases import write_label_nifti

    write_label_nifti(labels / "label0002.nii.gz", ct_like_volume(2)[1], origin=(ORIGIN[0], ORIGIN[1] + 3.0, ORIGIN[2]))
    out = tmp_path / "out"
    argv = ["--source", "tcia", "--dataset_dir", str(data), "--label_dir", str(labels), "--output_dir", str(out),
            "--overlay_dir", str(out / "png")]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"{labels / 'label0002.nii.gz'}: the label does not lie on the CT grid" in err and "origin" in err
    assert not [p for p in out.rglob("*") if p.is_file()]  # image0001's files and PNG were removed again, no datalist


def test_rerun_is_refused_then_replaced_with_overwrite(tmp_path, capsys):
    write_h5_case(tmp_path / "Pancreas_h5", "image0001")
    argv = ["--source", "h5", "--dataset_dir", str(tmp_path / "Pancreas_h5"), "--output_dir", str(tmp_path / "out")]
    assert main(argv) == 0
    datalist = json.loads((tmp_path / "out" / "datalist.json").read_text())
    assert datalist["training"] == [{"image": str(tmp_path / "Pancreas_h5" / "image0001_norm.h5"),
                                     "label": str(tmp_path / "Pancreas_h5" / "image0001_norm.h5"), "case": "image0001"}]  # fmt: skip
    assert main(argv) == 2 and "datalist.json already exists" in capsys.readouterr().err
    write_h5_case(tmp_path / "Pancreas_h5", "image0002")
    assert main([*argv, "--overwrite"]) == 0
    assert len(json.loads((tmp_path / "out" / "datalist.json").read_text())["training"]) == 2


def test_msd_tumour_is_merged_into_the_pancreas(tmp_path):
    _, source = write_msd_case(tmp_path / "Task07_Pancreas", 1)
    assert set(np.unique(source)) == {0, 1, 2}
    (tmp_path / "Task07_Pancreas" / "imagesTr" / "._pancreas_001.nii.gz").write_bytes(b"macOS resource fork")
    out = tmp_path / "out"
    assert main(["--source", "msd", "--dataset_dir", str(tmp_path / "Task07_Pancreas"), "--output_dir", str(out), "--min_size", "16"]) == 0
    lab = np.asarray(nib.load(out / "labelsTr" / "pancreas_001.nii.gz").dataobj)
    assert set(np.unique(lab)) == {0, 1}
    # 1 mm voxels against 0.7 x 0.7 x 1.5 mm: the merged volume is kept (nearest resampling, within 10 %)
    assert abs(lab.sum() - (source > 0).sum() * 0.7 * 0.7 * 1.5) < 0.1 * lab.sum()
    assert json.loads((out / "datalist.json").read_text())["absent"] == {}


def test_missing_label_and_unknown_case_are_named(tcia, tmp_path, capsys):
    argv = ["--source", "tcia", "--dataset_dir", str(tcia / "Pancreas-CT"), "--output_dir", str(tmp_path / "o")]
    assert main(argv) == 2 and "needs --label_dir" in capsys.readouterr().err
    assert main([*argv, "--label_dir", str(tmp_path)]) == 2
    assert f"{tmp_path / 'label0001.nii.gz'}: label file of PANCREAS_0001 not found" in capsys.readouterr().err
    assert main([*argv, "--label_dir", str(tcia / "labels"), "--cases", "image0009"]) == 2
    assert "case image0009 was asked for but is not in the tcia source" in capsys.readouterr().err
