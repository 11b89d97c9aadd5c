from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.data import MetaTensor
from monai.transforms import Compose
from PIL import Image

from noisymed.data import write_dicom_series
from noisymed.transforms import CheckImage, CheckImaged, check_image, cxr_preprocessing
from tests.conftest import exception_messages


def test_check_image_passes_a_good_image_through():
    img = torch.arange(12.0).reshape(1, 3, 4)
    assert check_image(img) is img
    assert CheckImage(spatial_dims=None)(torch.zeros(1, 2, 2, 2, 2)).shape == (1, 2, 2, 2, 2)
    ints = torch.zeros(1, 3, 4, dtype=torch.int16)  # integer images cannot hold NaN
    assert check_image(ints) is ints


def test_check_image_names_the_shape_and_the_non_finite_values():
    vol = MetaTensor(torch.zeros(1, 8, 8, 5), meta={"filename_or_obj": "/data/ct.nii.gz"})
    with pytest.raises(ValueError, match=r"^/data/ct.nii.gz: a 3D volume of shape \(1, 8, 8, 5\) \(channel first\), "
                       r"but this model takes 2D images; do this\.$"):
        CheckImage(2, hint="do this")(vol)
    img = torch.ones(1, 4, 4)
    img[0, 2, 1], img[0, 3, 3] = float("inf"), float("nan")
    with pytest.raises(ValueError, match=r"^x.png: 2 of 16 values are NaN or infinite \(the first at \(0, 2, 1\)\)"):
        check_image(img, source="x.png")
    assert check_image(img, finite=False) is img
    with pytest.raises(ValueError, match=r"item.png: .* NaN or infinite"):
        CheckImaged("image")({"image": img, "path": "item.png"})
    with pytest.raises(ValueError, match="spatial_dims must be"):
        CheckImage(4)


def test_cxr_preprocessing_refuses_a_volume_naming_the_file(tmp_path):
    write_dicom_series(np.zeros((16, 16, 3), np.int16), tmp_path / "series")
    Image.fromarray(np.zeros((40, 40), np.uint8)).save(tmp_path / "ok.png")
    load = Compose(cxr_preprocessing(32))
    assert load({"image": str(tmp_path / "ok.png")})["image"].shape == (1, 32, 32)
    with pytest.raises(Exception) as err:  # MONAI's Compose wraps the transform's error
        load({"image": str(tmp_path / "series")})
    assert "series: a 3D volume of shape (1, 16, 16, 3)" in exception_messages(err.value)
