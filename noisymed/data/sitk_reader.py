"""A MONAI image reader built on SimpleITK: single image files and DICOM series sorted by slice position.

MONAI's ``PydicomReader`` orders a DICOM series by InstanceNumber and stacks every series found in a
folder into one volume; its ``ITKReader`` needs the large ``itk`` package. :class:`SimpleITKReader`
reads with SimpleITK (already a dependency), sorts DICOM slices by their position along the slice
normal (GDCM), refuses folders holding several series unless one is picked, and returns arrays and
metadata in ``ITKReader``'s conventions, so it is a drop-in reader for ``LoadImage``/``LoadImaged``.
"""

from __future__ import annotations

import re
import warnings
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import SimpleITK as sitk  # noqa: N813
from monai.config import PathLike
from monai.data import ImageReader
from monai.data.utils import orientation_ras_lps
from monai.utils import MetaKeys, SpaceKeys, ensure_tuple

__all__ = ["SimpleITKReader", "FailedRead", "DEFAULT_DICOM_TAGS", "SITK_SUFFIXES", "list_dicom_series"]

#: DICOM tags copied into the metadata of DICOM inputs, as ``meta name -> "gggg|eeee"`` (SimpleITK's key form).
DEFAULT_DICOM_TAGS: dict[str, str] = {
    "Modality": "0008|0060",
    "StudyInstanceUID": "0020|000d",
    "SeriesInstanceUID": "0020|000e",
    "SeriesDescription": "0008|103e",
    "PatientID": "0010|0020",
}

#: File name endings :meth:`SimpleITKReader.verify_suffix` accepts (lower case). Folders are always accepted.
SITK_SUFFIXES: tuple[str, ...] = (
    ".nii",
    ".nii.gz",
    ".img",
    ".hdr",
    ".mha",
    ".mhd",
    ".nrrd",
    ".nhdr",
    ".dcm",
    ".dicom",
    ".ima",
    ".gipl",
    ".gipl.gz",
    ".vtk",
    ".mnc",
    ".mrc",
    ".hdf5",
    ".tif",
    ".tiff",
    ".png",
    ".jpg",
    ".jpeg",
    ".bmp",
)

_FLOAT_PIXEL_IDS = frozenset({sitk.sitkFloat32, sitk.sitkFloat64, sitk.sitkVectorFloat32, sitk.sitkVectorFloat64})
_DICOM_KEY = re.compile(r"^[0-9a-fA-F]{4}\|[0-9a-fA-F]{4}$")
_SOP_CLASS_UID = "0008|0016"
_SERIES_UID = "0020|000e"
_POSITION = "0020|0032"
_SPACING_REL_TOL = 1e-3  # relative slice-gap deviation above which a series is reported as non-uniform
_NIFTI_SUFFIXES = (".nii", ".nii.gz", ".hdr", ".img", ".img.gz", ".hdr.gz")


def list_dicom_series(folder: PathLike) -> dict[str, list[str]]:
    """The DICOM series found directly in ``folder`` (subfolders are not searched).

    Args:
        folder: a folder of DICOM files.

    Returns:
        ``{SeriesInstanceUID: file names}``, each list sorted by slice position (GDCM's order).

    Raises:
        FileNotFoundError: if ``folder`` does not exist or is not a folder.
    """
    path = Path(folder)
    if not path.is_dir():
        raise FileNotFoundError(f"{path}: no such folder.")
    uids = sitk.ImageSeriesReader.GetGDCMSeriesIDs(str(path))
    return {uid: list(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(path), uid)) for uid in uids}


def _slice_positions(reader: sitk.ImageSeriesReader, image: sitk.Image) -> list[float] | None:
    """Position (mm) of each slice of a series along the slice normal, in reading order; None where unknown."""
    n_files = len(reader.GetFileNames())
    if n_files < 2 or image.GetDimension() != 3:
        return None
    normal = np.asarray(image.GetDirection(), dtype=float).reshape(3, 3)[:, 2]
    positions = []
    for i in range(n_files):
        if not reader.HasMetaDataKey(i, _POSITION):
            return None  # no ImagePositionPatient (e.g. secondary capture): nothing to check
        try:
            position = [float(v) for v in reader.GetMetaData(i, _POSITION).split("\\")]
        except ValueError:
            return None  # malformed ImagePositionPatient: leave the judgement to GDCM/ITK
        positions.append(float(np.dot(normal, position)))
    return positions


def _slice_spacing_deviation(positions: list[float] | None, image: sitk.Image) -> float:
    """Largest deviation (mm) of the gaps between consecutive slice positions from the volume's z spacing."""
    if not positions:
        return 0.0
    gaps = np.abs(np.diff(positions))
    return float(np.max(np.abs(gaps - image.GetSpacing()[2])))


def _check_distinct_positions(folder: Path, series_uid: str, files: Sequence[str], positions: list[float]) -> None:
    """Refuse a series with two slices at one position (GDCM would then report a spacing of a fraction of a mm)."""
    order = np.argsort(positions, kind="stable")
    sorted_pos = np.asarray(positions)[order]
    same = np.flatnonzero(np.abs(np.diff(sorted_pos)) < 1e-4)
    if same.size:
        k = int(same[0])
        names = [Path(files[int(order[k])]).name, Path(files[int(order[k + 1])]).name]
        more = f" ({same.size} duplicated positions in all)" if same.size > 1 else ""
        raise ValueError(
            f"{folder}: DICOM series {series_uid} has two slices at the same position, {sorted_pos[k]:.4g} mm along "
            f"the slice normal ({names[0]} and {names[1]}){more}; a volume cannot be rebuilt from it. Remove the "
            "duplicated files or export the series again."
        )


def _check_nifti(path: Path) -> None:
    """Read a NIfTI file's voxels with nibabel: SimpleITK zero-fills a truncated file and reads NaN/Inf as 0.

    Raises:
        ValueError: for a truncated or corrupt file, or one holding NaN or infinite voxel values.
    """
    import nibabel as nib
    from nibabel.filebasedimages import ImageFileError

    try:
        data = np.asanyarray(nib.load(str(path)).dataobj)
    except (EOFError, OSError, ValueError, zlib.error, ImageFileError) as err:
        raise ValueError(
            f"{path}: the file is truncated or corrupt ({type(err).__name__}: {str(err).strip()}); "
            "SimpleITK would read the missing part as zeros. Copy or export the file again."
        ) from err
    if np.issubdtype(data.dtype, np.floating) or np.issubdtype(data.dtype, np.complexfloating):
        bad = int(data.size - np.count_nonzero(np.isfinite(data)))
        if bad:
            raise ValueError(
                f"{path}: {bad} of {data.size} voxels are NaN or infinite (SimpleITK would read them as 0); "
                "replace them with a valid value before segmenting."
            )


class FailedRead:
    """What :meth:`SimpleITKReader.read` returns for a failed read when ``defer_errors`` is set.

    :meth:`SimpleITKReader.get_data` raises :attr:`error`.

    Args:
        error: the exception the read raised.
    """

    def __init__(self, error: BaseException) -> None:
        self.error = error

    def __repr__(self) -> str:
        return f"FailedRead({self.error!r})"


class SimpleITKReader(ImageReader):
    """Load images with SimpleITK: any single file it reads, or a DICOM series given as a folder.

    Single files: NIfTI (``.nii``/``.nii.gz``), MetaImage (``.mha``/``.mhd``), NRRD, a single (possibly
    multi-frame) DICOM file, and the other formats SimpleITK registers. A single 2D DICOM slice is read
    as a 3D volume with one slice, keeping its position in the affine.

    Folders: read as one DICOM series. The files are grouped by SeriesInstanceUID and each series is
    sorted by slice position along the slice normal (GDCM), not by InstanceNumber, so the volume, its
    spacing and its affine are right even when the numbering does not follow the slice order.
    A folder holding several series is refused unless ``series_uid`` picks one, and so is a series with two
    slices at one position (GDCM would read it on a grid of a fraction of the true spacing). Only files
    directly in the folder are considered.

    The conventions are those of MONAI's ``ITKReader`` (with the default ``reverse_indexing=False``):

    - array axes are in ``(x, y, z)`` order (SimpleITK's ``GetArrayFromImage`` gives ``(z, y, x)``);
    - ``affine[:d, :d] = direction @ diag(spacing)``, ``affine[:d, d] = origin`` (``d`` = spatial rank,
      at most 3), converted from SimpleITK's LPS world to RAS when ``affine_lps_to_ras`` is True, which
      makes it equal to ``NibabelReader``'s affine for the same NIfTI file;
    - metadata keys ``affine``, ``original_affine``, ``spatial_shape``, ``original_channel_dim``,
      ``space`` and ``spacing`` (``filename_or_obj`` is added by ``LoadImage``, as for every reader);
    - scalar images have ``original_channel_dim = "no_channel"`` (``EnsureChannelFirst`` adds a channel);
      multi-component (RGB, vector) images put the components on a last axis with
      ``original_channel_dim = -1``, which ``EnsureChannelFirst`` moves to the front as the channel dim;
      a 4D scalar image (e.g. a 4D NIfTI) likewise uses its 4th axis as the channel;
    - a list of files is stacked as channels (first axis), with the first file's metadata; all must
      share one affine and spatial shape.

    DICOM inputs additionally get the tags named in ``dicom_tags`` (from the first slice of a series)
    as string metadata, ``""`` where a tag is absent, so every DICOM input has the same keys.

    Example::

        LoadImaged(keys="image", reader=SimpleITKReader())      # then EnsureChannelFirstd(keys="image")
        LoadImage(reader=SimpleITKReader, series_uid="1.2.3")   # pick one series of a folder

    Args:
        series_uid: SeriesInstanceUID to read from a folder holding several series; None requires
            the folder to hold exactly one. Ignored for file inputs.
        affine_lps_to_ras: convert the affine from LPS (SimpleITK/DICOM) to RAS (NIfTI, MONAI default),
            and set ``space`` accordingly.
        dicom_tags: ``meta name -> "gggg|eeee"`` tags to copy into the metadata of DICOM inputs;
            None for :data:`DEFAULT_DICOM_TAGS`, ``{}`` for none.
        output_pixel_type: a SimpleITK pixel type (e.g. ``sitk.sitkFloat32``) to read as; None keeps
            the stored one.
        defer_errors: let :meth:`read` return a :class:`FailedRead` instead of raising, and :meth:`get_data`
            raise the error. ``LoadImage``/``LoadImaged`` given ``reader=...`` catch any exception raised
            by a reader's ``read`` and silently try MONAI's default readers next; for a folder,
            ``PydicomReader`` then succeeds by stacking every series in it into one volume, sorted by
            InstanceNumber. Errors raised from ``get_data`` are not caught, so with the default (True) a
            missing path, an empty folder or an ambiguous series reaches the caller as the exception
            documented in :meth:`read`. Set False to have :meth:`read` raise directly.
        check_values: refuse what SimpleITK reads silently wrong or what no model can use: a truncated or
            corrupt NIfTI file (SimpleITK zero-fills the missing part; the voxels are read again with nibabel
            to find out), NaN or infinite voxel values (SimpleITK's NIfTI reader turns them into 0), both
            with the file named. False skips these checks and the second read.

    Raises:
        TypeError: for a ``dicom_tags`` value that is not a ``"gggg|eeee"`` string.
    """

    def __init__(
        self,
        series_uid: str | None = None,
        affine_lps_to_ras: bool = True,
        dicom_tags: Mapping[str, str] | None = None,
        output_pixel_type: int | None = None,
        defer_errors: bool = True,
        check_values: bool = True,
    ) -> None:
        super().__init__()
        tags = dict(DEFAULT_DICOM_TAGS if dicom_tags is None else dicom_tags)
        for name, tag in tags.items():
            if not isinstance(tag, str) or not _DICOM_KEY.match(tag):
                raise TypeError(f"dicom_tags[{name!r}] must be a 'gggg|eeee' tag string, got {tag!r}.")
        self.series_uid = series_uid
        self.affine_lps_to_ras = affine_lps_to_ras
        self.dicom_tags = {name: tag.lower() for name, tag in tags.items()}
        self.output_pixel_type = output_pixel_type
        self.defer_errors = defer_errors
        self.check_values = check_values

    def verify_suffix(self, filename: Sequence[PathLike] | PathLike) -> bool:
        """Whether every name is a folder (a DICOM series) or ends with one of :data:`SITK_SUFFIXES`.

        DICOM files without an extension are not recognised here; pass the reader explicitly
        (``LoadImage(reader=SimpleITKReader())``) to read them.

        Args:
            filename: file name or a list of file names.

        Returns:
            True if this reader should handle all of them.
        """
        names = ensure_tuple(filename)
        return len(names) > 0 and all(Path(f"{n}").is_dir() or f"{n}".lower().endswith(SITK_SUFFIXES) for n in names)

    def read(self, data: Sequence[PathLike] | PathLike, **kwargs: Any) -> sitk.Image | list[sitk.Image] | FailedRead:
        """Read one image per name: a file with ``sitk.ImageFileReader``, a folder as a DICOM series.

        Args:
            data: a path or a list of paths (files or DICOM folders).
            kwargs: ``series_uid`` or ``output_pixel_type`` to override the constructor's for this call.

        Returns:
            a ``SimpleITK.Image``, or a list of them for a list of paths; with ``defer_errors`` (the default),
            a :class:`FailedRead` holding the error below instead of raising it (:meth:`get_data` raises it).

        Raises:
            TypeError: for any other keyword argument (never deferred).
            FileNotFoundError: for a missing path, or a folder with no DICOM series in it.
            ValueError: for a folder with several series and no (or an unknown) ``series_uid``, a series with two
                slices at one position, and (with ``check_values``) a truncated NIfTI file or NaN/Inf voxels.
            RuntimeError: if SimpleITK cannot read a file.
        """
        unknown = set(kwargs) - {"series_uid", "output_pixel_type"}
        if unknown:
            raise TypeError(f"SimpleITKReader.read() got unexpected keyword arguments {sorted(unknown)}.")
        series_uid = kwargs.get("series_uid", self.series_uid)
        pixel_type = kwargs.get("output_pixel_type", self.output_pixel_type)
        try:
            return self._read_all(ensure_tuple(data), series_uid, pixel_type)
        except (FileNotFoundError, ValueError, RuntimeError) as err:
            if not self.defer_errors:
                raise
            return FailedRead(err)

    def _read_all(self, names: tuple, series_uid: str | None, pixel_type: int | None) -> sitk.Image | list[sitk.Image]:
        if not names:
            raise ValueError("SimpleITKReader.read() needs at least one path.")
        images = []
        for name in names:
            path = Path(f"{name}").expanduser()
            if path.is_dir():
                images.append(self._read_series(path, series_uid, pixel_type))
            elif path.exists():
                images.append(self._read_file(path, pixel_type))
            else:
                raise FileNotFoundError(f"{path}: no such file or folder.")
        return images if len(names) > 1 else images[0]

    def get_data(self, img: sitk.Image | Sequence[sitk.Image]) -> tuple[np.ndarray, dict]:
        """The array in ``(x, y, z[, channel])`` order and its metadata (see the class docstring).

        Args:
            img: a ``SimpleITK.Image`` or a list of them (stacked as channels on a new first axis), or the
                :class:`FailedRead` that :meth:`read` returned for a failed read.

        Returns:
            ``(array, meta)``.

        Raises:
            FileNotFoundError, ValueError, RuntimeError: the error of a :class:`FailedRead` (see :meth:`read`).
            ValueError: for images of more than 4 dimensions, or 4D multi-component images.
            RuntimeError: for a list of images whose affines or spatial shapes differ.
        """
        if isinstance(img, FailedRead):
            raise img.error
        images = list(img) if isinstance(img, (list, tuple)) else [img]
        arrays, metas = [], []
        for image in images:
            arr, meta = self._array_and_meta(image)
            arrays.append(arr)
            metas.append(meta)
        meta = metas[0]
        if len(arrays) == 1:
            return arrays[0], meta
        for other in metas[1:]:
            if not np.allclose(other[MetaKeys.AFFINE], meta[MetaKeys.AFFINE], atol=1e-5):
                raise RuntimeError(
                    "images stacked as channels must share one affine, got\n"
                    f"{meta[MetaKeys.AFFINE]}\nand\n{other[MetaKeys.AFFINE]}."
                )
            if not np.array_equal(other[MetaKeys.SPATIAL_SHAPE], meta[MetaKeys.SPATIAL_SHAPE]):
                raise RuntimeError(
                    "images stacked as channels must share one spatial shape, got "
                    f"{tuple(meta[MetaKeys.SPATIAL_SHAPE])} and {tuple(other[MetaKeys.SPATIAL_SHAPE])}."
                )
        if any(m[MetaKeys.ORIGINAL_CHANNEL_DIM] != "no_channel" for m in metas):
            if not all(m[MetaKeys.ORIGINAL_CHANNEL_DIM] == -1 for m in metas):
                raise RuntimeError("cannot stack images with and without a channel axis as channels.")
            return np.concatenate(arrays, axis=-1), meta
        meta[MetaKeys.ORIGINAL_CHANNEL_DIM] = 0
        return np.stack(arrays, axis=0), meta

    # ------------------------------------------------------------------ reading

    def _read_file(self, path: Path, pixel_type: int | None) -> sitk.Image:
        reader = sitk.ImageFileReader()
        reader.SetFileName(str(path))
        if pixel_type is not None:
            reader.SetOutputPixelType(pixel_type)
        try:
            image = reader.Execute()
        except RuntimeError as err:
            raise RuntimeError(f"{path}: SimpleITK cannot read this file ({str(err).strip()}).") from err
        if self.check_values:
            if path.name.lower().endswith(_NIFTI_SUFFIXES):
                _check_nifti(path)  # after SimpleITK, which names a file it cannot read at all
            self._check_finite(image, path)
        return image

    @staticmethod
    def _check_finite(image: sitk.Image, source: Path) -> None:
        if image.GetPixelID() not in _FLOAT_PIXEL_IDS:
            return
        arr = sitk.GetArrayViewFromImage(image)
        bad = int(arr.size - np.count_nonzero(np.isfinite(arr)))
        if bad:
            raise ValueError(f"{source}: {bad} of {arr.size} voxel values are NaN or infinite; replace them first.")

    def _read_series(self, folder: Path, series_uid: str | None, pixel_type: int | None) -> sitk.Image:
        series = list_dicom_series(folder)
        if not series:
            raise FileNotFoundError(
                f"{folder}: no DICOM series in this folder (only files directly in it are searched, not subfolders)."
            )
        listing = ", ".join(f"{uid} ({len(files)} files)" for uid, files in series.items())
        if series_uid is None:
            if len(series) > 1:
                raise ValueError(f"{folder}: holds {len(series)} DICOM series: {listing}; pick one with series_uid=...")
            series_uid = next(iter(series))
        elif series_uid not in series:
            raise ValueError(f"{folder}: has no DICOM series {series_uid!r}; it holds: {listing}.")
        files = series[series_uid]

        reader = sitk.ImageSeriesReader()
        reader.SetFileNames(files)
        reader.MetaDataDictionaryArrayUpdateOn()  # per-slice tags, for the spacing check and dicom_tags
        reader.LoadPrivateTagsOff()
        if pixel_type is not None:
            reader.SetOutputPixelType(pixel_type)
        try:
            image = reader.Execute()
        except RuntimeError as err:
            raise RuntimeError(
                f"{folder}: SimpleITK cannot read DICOM series {series_uid} ({str(err).strip()})."
            ) from err
        positions = _slice_positions(reader, image)
        if positions is not None:
            _check_distinct_positions(folder, series_uid, files, positions)
        if self.check_values:
            self._check_finite(image, folder)
        deviation = _slice_spacing_deviation(positions, image)
        if deviation > _SPACING_REL_TOL * image.GetSpacing()[2]:
            warnings.warn(
                f"{folder}: DICOM series {series_uid} has non-uniform slice spacing or missing slices "
                f"(slice gaps deviate by up to {deviation:.4g} mm from the mean spacing "
                f"{image.GetSpacing()[2]:.4g} mm); the volume is read on a regular grid, "
                "so its geometry is approximate.",
                stacklevel=3,
            )

        # The series reader leaves the image's own dictionary empty: copy the wanted tags of the first slice.
        for tag in (_SOP_CLASS_UID, _SERIES_UID, *self.dicom_tags.values()):
            if reader.HasMetaDataKey(0, tag):
                image.SetMetaData(tag, reader.GetMetaData(0, tag))
        image.SetMetaData(_SERIES_UID, series_uid)
        return image

    # ------------------------------------------------------------------ conversion

    def _array_and_meta(self, image: sitk.Image) -> tuple[np.ndarray, dict]:
        dim = image.GetDimension()
        n_comp = image.GetNumberOfComponentsPerPixel()
        if dim > 4 or (dim == 4 and n_comp > 1):
            raise ValueError(
                f"SimpleITKReader reads images of up to 3 spatial dimensions plus one channel axis, got a "
                f"{dim}D image with {n_comp} components per pixel."
            )
        arr = sitk.GetArrayFromImage(image)  # (z, y, x[, component])
        arr = arr.transpose(*reversed(range(dim)), *range(dim, arr.ndim))  # (x, y, z[, component])

        rank = min(dim, 3)
        spacing = np.asarray(image.GetSpacing(), dtype=float)
        origin = np.asarray(image.GetOrigin(), dtype=float)
        direction = np.asarray(image.GetDirection(), dtype=float).reshape(dim, dim)
        affine = np.eye(rank + 1)
        affine[:rank, :rank] = direction[:rank, :rank] @ np.diag(spacing[:rank])
        affine[:rank, rank] = origin[:rank]
        if self.affine_lps_to_ras:
            affine = orientation_ras_lps(affine)

        meta: dict[str, Any] = {
            "spacing": spacing[:rank].copy(),
            MetaKeys.ORIGINAL_AFFINE: affine,
            MetaKeys.AFFINE: affine.copy(),
            MetaKeys.SPATIAL_SHAPE: np.asarray(image.GetSize()[:rank]),
            MetaKeys.ORIGINAL_CHANNEL_DIM: "no_channel" if arr.ndim == rank else -1,
            MetaKeys.SPACE: SpaceKeys.RAS if self.affine_lps_to_ras else SpaceKeys.LPS,
        }
        keys = image.GetMetaDataKeys()
        if any(_DICOM_KEY.match(k) for k in keys):
            for name, tag in self.dicom_tags.items():
                meta[name] = image.GetMetaData(tag).strip(" \x00") if image.HasMetaDataKey(tag) else ""
        return arr, meta
