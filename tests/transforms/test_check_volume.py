from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.data import MetaTensor

from noisymed.transforms import CheckVolume, CheckVolumed


def _image(shape, spacing=(1.0, 1.0, 1.0), name="vol.nii.gz", fill=0.0):
    affine = torch.diag(torch.tensor([*spacing, 1.0], dtype=torch.float64))
    return MetaTensor(torch.full(shape, fill), affine=affine, meta={"filename_or_obj": name})


def test_a_good_volume_passes_unchanged():
    img = _image((1, 10, 12, 8), spacing=(0.625, 0.625, 1.25))
    out = CheckVolumed(keys="image", pixdim=(0.625, 0.625, 0.625))({"image": img})["image"]
    assert out is img


@pytest.mark.parametrize(
    "shape, message",
    [
        ((1, 10, 12), r"vol.nii.gz: a 2D image \(spatial shape \(10, 12\)\); this bundle segments 3D volumes"),
        ((3, 10, 12, 8), r"vol.nii.gz: 3 volumes of shape \(10, 12, 8\) \(a 4D image, shape \(10, 12, 8, 3\)\); the model takes 1"),
        ((1, 10, 12, 1), r"vol.nii.gz: spatial shape \(10, 12, 1\) has 1 voxel\(s\) along axis 2: a single 2D slice"),
    ],
)
def test_wrong_rank_channels_or_a_single_slice_are_refused(shape, message):
    with pytest.raises(ValueError, match=message):
        CheckVolume()(_image(shape))


def test_non_finite_voxels_are_counted():
    img = _image((1, 4, 4, 4))
    img[0, 0, 0, 0], img[0, 1, 1, 1], img[0, 2, 2, 2] = float("nan"), float("inf"), -float("inf")
    with pytest.raises(ValueError, match=r"vol.nii.gz: 3 of 64 voxels are NaN or infinite"):
        CheckVolume()(img)


def test_the_resampled_size_is_estimated_before_resampling():
    # 100 x 100 x 40 voxels of 30 mm at 0.625 mm: 4800 x 4800 x 1920 = 44,236,800,000 voxels, 177 GB as float32
    img = _image((1, 100, 100, 40), spacing=(30.0, 30.0, 30.0))
    with pytest.raises(ValueError) as err:
        CheckVolume(pixdim=(0.625, 0.625, 0.625))(img)
    message = str(err.value)
    assert "(4800, 4800, 1920) grid, 44,236,800,000 voxels (177 GB per float32 copy)" in message
    assert "over the limit of 268,435,456" in message and "vol.nii.gz" in message
    # the same grid at its own spacing is fine, and the limit is a parameter: 64 voxels is the edge
    CheckVolume(pixdim=(30.0, 30.0, 30.0))(img)
    small = _image((1, 4, 4, 4))
    CheckVolume(pixdim=(1.0, 1.0, 1.0), max_voxels=64)(small)
    with pytest.raises(ValueError, match=r"\(8, 8, 8\) grid, 512 voxels"):
        CheckVolume(pixdim=(0.5, 0.5, 0.5), max_voxels=64)(small)


def test_a_degenerate_header_is_refused():
    img = _image((1, 4, 4, 4), spacing=(1.0, 0.0, 1.0))
    with pytest.raises(ValueError, match=r"vol.nii.gz: the header gives voxel size \(1.0, 0.0, 1.0\) mm"):
        CheckVolume()(img)


def test_bad_arguments_name_the_option():
    with pytest.raises(ValueError, match="--pixdim must have 3 values"):
        CheckVolume(pixdim=(1.0, 1.0))
    with pytest.raises(ValueError, match="--max_resampled_voxels must be a whole number"):
        CheckVolume(max_voxels="many")
    assert np.isclose(CheckVolume(pixdim=[1, 2, 3]).pixdim, [1.0, 2.0, 3.0]).all()
