from __future__ import annotations

import numpy as np
import pydicom
import pytest

from noisymed.data import write_dicom_image
from noisymed.transforms import LoadClassificationImage

STORED = np.arange(12).reshape(3, 4) * 100


def test_write_dicom_image_stores_rows_columns_and_tags(tmp_path):
    path = write_dicom_image(STORED, tmp_path / "sub" / "a.dcm", rescale_slope=2.0, rescale_intercept=-10.0, modality="DX")
    ds = pydicom.dcmread(path)
    assert (ds.Rows, ds.Columns) == (3, 4) and ds.Modality == "DX" and ds.PhotometricInterpretation == "MONOCHROME2"
    assert np.array_equal(ds.pixel_array, STORED) and float(ds.RescaleSlope) == 2.0 and float(ds.RescaleIntercept) == -10.0


def test_loaded_through_monai_with_the_modality_lut_and_monochrome1_inverted(tmp_path):
    load = LoadClassificationImage(spatial_dims=2)
    plain = load(write_dicom_image(STORED, tmp_path / "a.dcm", rescale_slope=2.0, rescale_intercept=-10.0))
    assert plain.shape == (1, 3, 4) and np.array_equal(np.asarray(plain[0]), 2 * STORED - 10)
    inverted = load(write_dicom_image(STORED, tmp_path / "b.dcm", photometric="MONOCHROME1"))
    assert np.array_equal(np.asarray(inverted[0]), STORED.max() + STORED.min() - STORED)


def test_errors(tmp_path):
    with pytest.raises(ValueError, match="must be 2D"):
        write_dicom_image(np.zeros((2, 2, 2)), tmp_path / "c.dcm")
    with pytest.raises(ValueError, match="photometric"):
        write_dicom_image(STORED, tmp_path / "c.dcm", photometric="RGB")
    with pytest.raises(ValueError, match=r"\[0, 65535\]"):
        write_dicom_image(-STORED - 1, tmp_path / "c.dcm")


def test_writing_a_series_keeps_the_process_locale(tmp_path):
    """GDCM's writer sets LC_ALL to "C" (Python's default text encoding becomes ASCII); the writer puts it back."""
    import locale

    import numpy as np

    from noisymed.data import write_dicom_series

    before = locale.setlocale(locale.LC_ALL)
    write_dicom_series(np.zeros((8, 8, 3)), tmp_path / "s", modality="CT")
    assert locale.setlocale(locale.LC_ALL) == before
