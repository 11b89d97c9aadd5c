"""Read one 2D DICOM image (a radiograph, a slice) the way it is meant to be displayed.

MONAI's ``PydicomReader`` neither applies the modality LUT for every file nor inverts ``MONOCHROME1`` images
(where 0 is white), and its axis order depends on options (see ``PITFALLS.md``). :func:`read_dicom_image`
returns the stored pixel rows and columns in their on-screen order, with RescaleSlope/Intercept applied and
``MONOCHROME1`` inverted, so that a DICOM and a PNG of the same picture give the same array.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
from pydicom.pixels import apply_modality_lut

__all__ = ["read_dicom_image"]


def read_dicom_image(path: str | Path) -> tuple[np.ndarray, dict]:
    """The pixels of a single-frame DICOM file as a float32 (rows, columns) array (channels last for colour).

    Args:
        path: a DICOM file.

    Returns:
        ``(array, meta)`` with ``meta`` holding ``PhotometricInterpretation``, ``Modality``, ``PixelSpacing``
        (row, column spacing in mm, where present) and whether the image was inverted.

    Raises:
        FileNotFoundError: when ``path`` does not exist.
        ValueError: for a file without pixel data or with several frames.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: DICOM file not found.")
    ds = pydicom.dcmread(str(path))
    if "PixelData" not in ds:
        raise ValueError(f"{path}: the DICOM file has no pixel data.")
    if int(getattr(ds, "NumberOfFrames", 1) or 1) > 1:
        raise ValueError(f"{path}: {ds.NumberOfFrames} frames; expected a single 2D image.")
    photometric = str(getattr(ds, "PhotometricInterpretation", "MONOCHROME2"))
    array = np.asarray(apply_modality_lut(ds.pixel_array, ds), dtype=np.float32)
    inverted = photometric == "MONOCHROME1"
    if inverted:
        array = array.max() + array.min() - array
    spacing = [float(v) for v in getattr(ds, "PixelSpacing", [])] or None
    meta = {
        "filename_or_obj": str(path),
        "PhotometricInterpretation": photometric,
        "Modality": str(getattr(ds, "Modality", "")),
        "PixelSpacing": spacing,
        "inverted": inverted,
    }
    return array, meta
