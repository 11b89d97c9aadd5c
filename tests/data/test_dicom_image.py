from __future__ import annotations

import numpy as np
import pytest

from noisymed.data import read_dicom_image, write_dicom_image

STORED = np.arange(12).reshape(3, 4) * 100


def test_monochrome2_applies_the_modality_lut_in_row_column_order(tmp_path):
    path = write_dicom_image(STORED, tmp_path / "a.dcm", rescale_slope=2.0, rescale_intercept=-10.0)
    array, meta = read_dicom_image(path)
    assert array.dtype == np.float32 and array.shape == (3, 4)
    assert np.array_equal(array, 2 * STORED - 10) and meta["inverted"] is False
    assert meta["PhotometricInterpretation"] == "MONOCHROME2" and meta["PixelSpacing"] == [1.0, 1.0]


def test_monochrome1_is_inverted_within_its_range(tmp_path):
    path = write_dicom_image(STORED, tmp_path / "b.dcm", photometric="MONOCHROME1")
    array, meta = read_dicom_image(path)
    assert meta["inverted"] is True
    assert np.array_equal(array, STORED.max() + STORED.min() - STORED)  # 0 (white in MONOCHROME1) -> brightest


def test_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="DICOM file not found"):
        read_dicom_image(tmp_path / "none.dcm")
    with pytest.raises(ValueError, match="must be 2D"):
        write_dicom_image(np.zeros((2, 2, 2)), tmp_path / "c.dcm")
    with pytest.raises(ValueError, match="photometric"):
        write_dicom_image(STORED, tmp_path / "c.dcm", photometric="RGB")
    with pytest.raises(ValueError, match=r"\[0, 65535\]"):
        write_dicom_image(-STORED - 1, tmp_path / "c.dcm")
