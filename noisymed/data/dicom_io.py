"""Write a 3D array as a DICOM series (one file per slice), for demo data and tests.

The series is written with SimpleITK's GDCM writer. Every slice carries consistent geometry
(ImagePositionPatient, ImageOrientationPatient, PixelSpacing, SliceThickness, SpacingBetweenSlices)
and identity (StudyInstanceUID, SeriesInstanceUID, SOPInstanceUID, InstanceNumber, Modality), so
that a position-sorting reader such as :class:`noisymed.data.SimpleITKReader` rebuilds the volume
and its geometry exactly.
"""

from __future__ import annotations

import datetime
import locale
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import SimpleITK as sitk  # noqa: N813

__all__ = ["write_dicom_series", "write_dicom_image", "new_dicom_uid"]

# SOP classes with an image-plane module, so the geometry tags are kept by readers.
_SOP_CLASS_UIDS = {
    "CT": "1.2.840.10008.5.1.4.1.1.2",  # CT Image Storage
    "MR": "1.2.840.10008.5.1.4.1.1.4",  # MR Image Storage
}
_INT16_MIN, _INT16_MAX = np.iinfo(np.int16).min, np.iinfo(np.int16).max


def new_dicom_uid() -> str:
    """A new globally unique DICOM UID, in the root-less ``2.25.<UUID as integer>`` form.

    Returns:
        the UID string (at most 64 characters).
    """
    from pydicom.uid import generate_uid

    return str(generate_uid(prefix=None))


def _ds(value: float) -> str:
    """Format a number as a DICOM decimal string (DS, at most 16 characters) with the most digits that fit."""
    value = float(value)
    if value == 0.0:
        return "0"
    for digits in range(15, 0, -1):
        text = f"{value:.{digits}g}"
        if len(text) <= 16:
            return text
    raise ValueError(f"cannot format {value!r} as a DICOM decimal string.")


def _as_int16(array: np.ndarray) -> np.ndarray:
    """Round ``array`` to int16, refusing values outside the int16 range (no silent wrap-around)."""
    if array.dtype == np.int16:
        return array
    if array.dtype == bool:
        return array.astype(np.int16)
    if not np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.complexfloating):
        raise TypeError(f"array must hold real numbers, got dtype {array.dtype}.")
    if not np.all(np.isfinite(array)):
        raise ValueError("array holds NaN or infinite values, which int16 DICOM pixel data cannot store.")
    rounded = np.rint(array) if np.issubdtype(array.dtype, np.floating) else array
    lo, hi = rounded.min(), rounded.max()
    if lo < _INT16_MIN or hi > _INT16_MAX:
        raise ValueError(
            f"array values span [{lo}, {hi}] after rounding, outside the int16 range "
            f"[{_INT16_MIN}, {_INT16_MAX}]; rescale the array first."
        )
    return rounded.astype(np.int16)


def _as_direction(direction: Sequence[float] | np.ndarray | None) -> np.ndarray:
    """Validate ``direction`` as an orthonormal 3x3 matrix (columns: world directions of the x, y, z axes)."""
    if direction is None:
        return np.eye(3)
    d = np.asarray(direction, dtype=float)
    if d.size != 9:
        raise ValueError(f"direction must have 9 values (a 3x3 matrix), got {d.size}.")
    d = d.reshape(3, 3)
    if not np.allclose(d.T @ d, np.eye(3), atol=1e-6):
        raise ValueError(f"direction must be an orthonormal 3x3 matrix, got\n{d}.")
    return d


def write_dicom_series(
    array: np.ndarray,
    folder: str | Path,
    spacing: Sequence[float] = (1.0, 1.0, 1.0),
    origin: Sequence[float] = (0.0, 0.0, 0.0),
    direction: Sequence[float] | np.ndarray | None = None,
    series_uid: str | None = None,
    instance_numbers: Sequence[int] | None = None,
    modality: str = "MR",
    description: str = "noisymed",
    study_uid: str | None = None,
    patient_id: str = "NOISYMED",
) -> list[Path]:
    """Write a 3D array as a DICOM series, one int16 file per slice along the last axis.

    The array is given in ``(x, y, z)`` order, as :class:`noisymed.data.SimpleITKReader` returns it:
    ``array[i, j, k]`` is column ``i``, row ``j`` of slice ``k``. The geometry arguments follow
    SimpleITK and DICOM (LPS patient coordinates, millimetres): voxel ``(i, j, k)`` lies at
    ``origin + direction @ (spacing * (i, j, k))``. Reading the folder back with
    ``SimpleITKReader(affine_lps_to_ras=False)`` gives ``affine[:3, :3] == direction @ diag(spacing)``
    and ``affine[:3, 3] == origin``.

    Pixel data are stored as signed 16-bit integers with no rescaling (RescaleSlope 1, RescaleIntercept 0):
    floating-point arrays are rounded to the nearest integer (fractional parts are lost), and values
    outside ``[-32768, 32767]`` after rounding raise ``ValueError`` instead of wrapping around.

    Files are named ``IM<InstanceNumber>.dcm`` (zero-padded) in ``folder``, which is created if needed;
    existing files of the same name are overwritten.

    Args:
        array: 3D array ``(x, y, z)`` of real numbers (or bools).
        folder: output folder.
        spacing: voxel size ``(x, y, z)`` in mm; the z value is also the SliceThickness.
        origin: LPS position (mm) of the centre of voxel ``(0, 0, 0)``.
        direction: orthonormal 3x3 matrix (nested or 9 values, row-major) whose columns are the LPS
            directions of the x, y and z array axes; None for identity.
        series_uid: SeriesInstanceUID; None draws a new one.
        instance_numbers: InstanceNumber of each slice (``len == array.shape[2]``, distinct, positive);
            None numbers the slices ``1..Z`` in position order. Tests use a permutation to write a series
            whose numbering does not follow slice position.
        modality: Modality tag, ``"MR"`` or ``"CT"`` (chooses MR or CT Image Storage as SOP class).
        description: SeriesDescription tag.
        study_uid: StudyInstanceUID; None draws a new one.
        patient_id: PatientID tag (also written as PatientName).

    Returns:
        the written file paths, in slice-position order (slice ``k`` first for ``k = 0..Z-1``).

    Raises:
        ValueError: for a non-3D array, wrong-length or non-positive spacing, a non-orthonormal direction,
            an unknown modality, invalid instance numbers, or values outside the int16 range.
        TypeError: for a non-numeric array.
    """
    arr = np.asarray(array)
    if arr.ndim != 3:
        raise ValueError(f"array must be 3D (x, y, z), got shape {arr.shape}.")
    if len(spacing) != 3 or any(float(s) <= 0 for s in spacing):
        raise ValueError(f"spacing must be 3 positive values, got {tuple(spacing)}.")
    if len(origin) != 3:
        raise ValueError(f"origin must be 3 values, got {tuple(origin)}.")
    modality = modality.upper()
    if modality not in _SOP_CLASS_UIDS:
        raise ValueError(f"modality must be one of {sorted(_SOP_CLASS_UIDS)}, got {modality!r}.")
    n_slices = arr.shape[2]
    if instance_numbers is None:
        numbers = list(range(1, n_slices + 1))
    else:
        numbers = [int(n) for n in instance_numbers]
        if len(numbers) != n_slices or len(set(numbers)) != n_slices or min(numbers) < 1:
            raise ValueError(
                f"instance_numbers must be {n_slices} distinct positive integers (one per slice), got {numbers}."
            )
    rot = _as_direction(direction)
    pixels = _as_int16(arr)

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    series_uid = series_uid or new_dicom_uid()
    study_uid = study_uid or new_dicom_uid()
    frame_uid = new_dicom_uid()
    now = datetime.datetime.now()
    date, time = now.strftime("%Y%m%d"), now.strftime("%H%M%S")

    volume = sitk.GetImageFromArray(np.ascontiguousarray(pixels.transpose(2, 1, 0)))  # (z, y, x) for SimpleITK
    volume.SetSpacing([float(s) for s in spacing])
    volume.SetOrigin([float(o) for o in origin])
    volume.SetDirection(rot.ravel().tolist())
    orientation = "\\".join(_ds(v) for v in (*rot[:, 0], *rot[:, 1]))  # row direction (x), then column (y)

    common = {
        "0008|0016": _SOP_CLASS_UIDS[modality],  # SOPClassUID
        "0008|0020": date,  # StudyDate
        "0008|0021": date,  # SeriesDate
        "0008|0030": time,  # StudyTime
        "0008|0031": time,  # SeriesTime
        "0008|0060": modality,  # Modality
        "0008|103e": description,  # SeriesDescription
        "0010|0010": patient_id,  # PatientName
        "0010|0020": patient_id,  # PatientID
        "0018|0050": _ds(spacing[2]),  # SliceThickness
        "0018|0088": _ds(spacing[2]),  # SpacingBetweenSlices
        "0020|000d": study_uid,  # StudyInstanceUID
        "0020|000e": series_uid,  # SeriesInstanceUID
        "0020|0011": "1",  # SeriesNumber
        "0020|0037": orientation,  # ImageOrientationPatient
        "0020|0052": frame_uid,  # FrameOfReferenceUID
        "0028|1052": "0",  # RescaleIntercept
        "0028|1053": "1",  # RescaleSlope
    }
    writer = sitk.ImageFileWriter()
    writer.KeepOriginalImageUIDOn()  # keep the SOPInstanceUID / SeriesInstanceUID set below
    width = max(4, len(str(max(numbers))))
    paths: list[Path] = []
    # GDCM's DICOM writer sets the process locale to "C" (LC_ALL): Python's default text encoding then becomes
    # ASCII for the rest of the process. The caller's locale is put back when the series is written.
    saved_locale = locale.setlocale(locale.LC_ALL)
    try:
        _write_slices(writer, volume, common, numbers, width, date, time, folder, paths)
    finally:
        locale.setlocale(locale.LC_ALL, saved_locale)
    return paths


def _write_slices(
    writer, volume, common: dict, numbers, width: int, date: str, time: str, folder: Path, paths: list
) -> None:
    """Write each slice of ``volume`` as one DICOM file with the shared and per-slice tags (appends to ``paths``)."""
    n_slices = volume.GetSize()[2]
    for k in range(n_slices):
        slice_img = volume[:, :, k : k + 1]  # a one-slice 3D image keeps the full 3D geometry
        position = volume.TransformIndexToPhysicalPoint((0, 0, k))
        tags = dict(common)
        tags["0008|0018"] = new_dicom_uid()  # SOPInstanceUID
        tags["0020|0013"] = str(numbers[k])  # InstanceNumber
        tags["0020|0032"] = "\\".join(_ds(v) for v in position)  # ImagePositionPatient
        tags["0008|0023"] = date  # ContentDate
        tags["0008|0033"] = time  # ContentTime
        for key, value in tags.items():
            slice_img.SetMetaData(key, value)
        path = folder / f"IM{numbers[k]:0{width}d}.dcm"
        writer.SetFileName(str(path))
        writer.Execute(slice_img)
        paths.append(path)


_SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"  # Secondary Capture Image Storage
_PHOTOMETRIC = ("MONOCHROME1", "MONOCHROME2")


def write_dicom_image(
    array: np.ndarray,
    path: str | Path,
    photometric: str = "MONOCHROME2",
    modality: str = "OT",
    rescale_slope: float = 1.0,
    rescale_intercept: float = 0.0,
    pixel_spacing: Sequence[float] = (1.0, 1.0),
    patient_id: str = "NOISYMED",
) -> Path:
    """Write a 2D array as one uint16 Secondary Capture DICOM file (a radiograph-like single frame).

    ``array`` is the stored pixel data in (rows, columns) order; a reader shows
    ``rescale_slope * array + rescale_intercept``, white-on-black for ``MONOCHROME2`` and inverted for
    ``MONOCHROME1``. Used to make test and demo inputs; no clinical metadata is written.

    Args:
        array: 2D array of integers in [0, 65535] (floats are rounded).
        path: output file (its folder is created).
        photometric: ``"MONOCHROME2"`` or ``"MONOCHROME1"``.
        modality: Modality tag.
        rescale_slope: RescaleSlope tag.
        rescale_intercept: RescaleIntercept tag.
        pixel_spacing: (row, column) spacing in mm.
        patient_id: PatientID tag.

    Returns:
        The written path.

    Raises:
        ValueError: for a non-2D array, values outside the uint16 range or an unknown photometric interpretation.
    """
    import pydicom
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian

    arr = np.rint(np.asarray(array, dtype=np.float64))
    if arr.ndim != 2:
        raise ValueError(f"array must be 2D (rows, columns), got shape {arr.shape}.")
    if arr.size and (arr.min() < 0 or arr.max() > 65535):
        raise ValueError(f"values must be in [0, 65535], got {arr.min()}..{arr.max()}.")
    if photometric not in _PHOTOMETRIC:
        raise ValueError(f"photometric must be one of {_PHOTOMETRIC}, got {photometric!r}.")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = _SECONDARY_CAPTURE
    meta.MediaStorageSOPInstanceUID = new_dicom_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = pydicom.Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = _SECONDARY_CAPTURE, meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = new_dicom_uid(), new_dicom_uid()
    ds.PatientID = ds.PatientName = patient_id
    ds.Modality = modality
    ds.Rows, ds.Columns = arr.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, photometric
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.RescaleSlope, ds.RescaleIntercept = _ds(rescale_slope), _ds(rescale_intercept)
    ds.PixelSpacing = [_ds(pixel_spacing[0]), _ds(pixel_spacing[1])]
    ds.PixelData = np.ascontiguousarray(arr.astype(np.uint16)).tobytes()
    ds.save_as(str(path), enforce_file_format=True)
    return path
