from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest
import torch
from monai.data import MetaTensor

from noisymed.transforms import SaveMaskd


def _pred(values):
    affine = torch.tensor([[0.5, 0, 0, 10.0], [0, 0.7, 0, -5.0], [0, 0, 2.0, 3.0], [0, 0, 0, 1]], dtype=torch.float64)
    return MetaTensor(torch.as_tensor(values)[None].float(), affine=affine, meta={"filename_or_obj": "in.nii.gz"})


def test_writes_the_planned_path_with_geometry_and_leaves_no_temporary_file(tmp_path):
    arr = (np.arange(60).reshape(5, 4, 3) % 2).astype(np.uint8)
    target = tmp_path / "out" / "sub" / "case_seg.nii.gz"
    SaveMaskd(keys="pred")({"pred": _pred(arr), "output": str(target)})
    img = nib.load(target)
    assert np.array_equal(np.asarray(img.dataobj), arr) and img.get_data_dtype() == np.uint8
    assert np.allclose(img.affine[:3, :3], np.diag([0.5, 0.7, 2.0])) and np.allclose(img.affine[:3, 3], [10, -5, 3])
    assert sorted(p.name for p in target.parent.iterdir()) == ["case_seg.nii.gz"]


def test_an_existing_mask_is_kept_unless_overwrite(tmp_path):
    target = tmp_path / "case_seg.nii.gz"
    target.write_bytes(b"earlier result")
    with pytest.raises(FileExistsError, match="case_seg.nii.gz already exists"):
        SaveMaskd(keys="pred")({"pred": _pred(np.ones((3, 3, 3))), "output": str(target)})
    assert target.read_bytes() == b"earlier result"
    SaveMaskd(keys="pred", overwrite="true")({"pred": _pred(np.ones((3, 3, 3))), "output": str(target)})
    assert np.asarray(nib.load(target).dataobj).sum() == 27


def test_a_failed_write_leaves_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "case_seg.nii.gz"
    target.write_bytes(b"earlier result")

    def die(self, filename, verbose=False):
        with open(filename, "wb") as f:
            f.write(b"half")
        raise KeyboardInterrupt  # a kill mid-write

    monkeypatch.setattr("monai.data.NibabelWriter.write", die)
    with pytest.raises(KeyboardInterrupt):
        SaveMaskd(keys="pred", overwrite=True)({"pred": _pred(np.ones((3, 3, 3))), "output": str(target)})
    assert target.read_bytes() == b"earlier result" and [p.name for p in tmp_path.iterdir()] == ["case_seg.nii.gz"]


def test_no_planned_path_is_named():
    with pytest.raises(KeyError, match="no output path under 'output'"):
        SaveMaskd(keys="pred")({"pred": _pred(np.ones((3, 3, 3)))})
    with pytest.raises(ValueError, match="saves one key"):
        SaveMaskd(keys=["a", "b"])
