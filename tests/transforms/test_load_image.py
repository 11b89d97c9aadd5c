from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest
import torch
from PIL import Image

from noisymed.data import write_dicom_image, write_dicom_series
from noisymed.transforms import EnsureChannels, EnsureChannelsd, LoadClassificationImage, LoadClassificationImaged

PICTURE = (np.arange(12 * 10).reshape(12, 10) * 2).astype(np.uint8)  # 12 rows, 10 columns, not symmetric


def test_png_dicom_and_array_of_one_picture_load_to_the_same_array(tmp_path):
    Image.fromarray(PICTURE).save(tmp_path / "a.png")
    write_dicom_image(PICTURE, tmp_path / "a.dcm")
    write_dicom_image(PICTURE.max() - PICTURE, tmp_path / "inv.dcm", photometric="MONOCHROME1")
    load = LoadClassificationImage(spatial_dims=2)
    expected = PICTURE[None].astype(np.float32)
    for source in (PICTURE, PICTURE[None], tmp_path / "a.png", str(tmp_path / "a.dcm"), tmp_path / "inv.dcm"):
        out = load(source)
        assert out.dtype == torch.float32 and out.shape == (1, 12, 10), source
        assert np.array_equal(np.asarray(out), expected), source


def test_rgb_png_is_channel_first_and_made_grey(tmp_path):
    Image.fromarray(np.stack([PICTURE, PICTURE, PICTURE], -1)).save(tmp_path / "rgb.png")
    out = LoadClassificationImaged("image")({"image": tmp_path / "rgb.png", "label": 1})
    assert out["image"].shape == (3, 12, 10) and out["label"] == 1
    grey = EnsureChannelsd("image", channels=1)(out)["image"]
    assert grey.shape == (1, 12, 10) and np.allclose(np.asarray(grey[0]), PICTURE)


def test_nifti_2d_and_3d_keep_their_stored_order(tmp_path):
    nib.save(nib.Nifti1Image(PICTURE[..., None].astype(np.float32), np.eye(4)), tmp_path / "slice.nii.gz")
    out = LoadClassificationImage(spatial_dims=2)(tmp_path / "slice.nii.gz")  # (12, 10, 1) -> (1, 12, 10)
    assert out.shape == (1, 12, 10) and np.array_equal(np.asarray(out[0]), PICTURE)
    vol = np.random.default_rng(0).random((6, 5, 4)).astype(np.float32)
    nib.save(nib.Nifti1Image(vol, np.eye(4)), tmp_path / "vol.nii")
    out3 = LoadClassificationImage(spatial_dims=3)(tmp_path / "vol.nii")
    assert out3.shape == (1, 6, 5, 4) and np.allclose(np.asarray(out3[0]), vol)


def test_dicom_series_folder_is_a_3d_image(tmp_path):
    write_dicom_series(np.arange(4 * 3 * 2).reshape(4, 3, 2), tmp_path / "series")
    assert LoadClassificationImage(spatial_dims=3)(tmp_path / "series").shape == (1, 4, 3, 2)


def test_errors(tmp_path):
    load = LoadClassificationImage(2)
    with pytest.raises(FileNotFoundError, match="image not found"):
        load(tmp_path / "missing.png")
    (tmp_path / "x.txt").write_text("no image")
    with pytest.raises(ValueError, match="unsupported image type '.txt'"):
        load(tmp_path / "x.txt")
    with pytest.raises(ValueError, match=r"a 3D volume of shape \(2, 3, 4, 5\) \(channel first\), but this model takes 2D"):
        load(np.zeros((2, 3, 4, 5)))
    with pytest.raises(ValueError, match="spatial_dims must be 2 or 3"):
        LoadClassificationImage(4)


def test_ensure_channels():
    grey = torch.arange(4.0).reshape(1, 2, 2)
    assert torch.equal(EnsureChannels(3)(grey), grey.repeat(3, 1, 1))
    rgba = torch.stack([torch.zeros(2, 2), torch.ones(2, 2), 2 * torch.ones(2, 2), 9 * torch.ones(2, 2)])
    assert torch.allclose(EnsureChannels(1)(rgba), torch.ones(1, 2, 2))  # mean of R, G, B; alpha dropped
    with pytest.raises(ValueError, match="cannot turn an image with 2 channels into 1"):
        EnsureChannels(1)(torch.zeros(2, 2, 2))
    with pytest.raises(ValueError, match="channels must be 1 or 3"):
        EnsureChannels(2)


def test_a_3d_volume_and_a_nan_image_are_refused_naming_the_file(tmp_path):
    nib.save(nib.Nifti1Image(np.zeros((6, 5, 4), np.float32), np.eye(4)), tmp_path / "vol.nii.gz")
    with pytest.raises(ValueError, match=r"vol.nii.gz: a 3D volume of shape \(1, 6, 5, 4\) \(channel first\), but this "
                       r"model takes 2D images; give 2D images \(one slice per file\), or train and run a 3D model"):
        LoadClassificationImaged("image", spatial_dims=2)({"image": str(tmp_path / "vol.nii.gz")})
    picture = PICTURE.astype(np.float32)
    picture[3, 4] = np.nan
    nib.save(nib.Nifti1Image(picture, np.eye(4)), tmp_path / "nan.nii")
    with pytest.raises(ValueError, match=r"nan.nii: 1 of 120 values are NaN or infinite \(the first at \(0, 3, 4\)\)"):
        LoadClassificationImage(2)(tmp_path / "nan.nii")
    with pytest.raises(ValueError, match=r"image of item 7: 1 of 120 values are NaN or infinite"):
        LoadClassificationImaged("image")({"image": picture, "index": 7})
