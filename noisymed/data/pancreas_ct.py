"""Pancreas CT in the forms users have, prepared as the semi-supervised literature does, and MONAI datalists.

Sources (:data:`PANCREAS_SOURCES`):

- ``"tcia"``: the TCIA "Pancreas-CT" release, one DICOM series per patient, and the TCIA_pancreas_labels volumes::

      <dataset_dir>/PANCREAS_0001/<study>/<series>/*.dcm      <label_dir>/label0001.nii.gz

  Patient ``PANCREAS_0001`` becomes case ``image0001`` (the literature's name). The series is read with
  :class:`~noisymed.data.SimpleITKReader` (slices ordered by position, a folder of several series refused), in HU
  through RescaleSlope/RescaleIntercept, which every file must carry. The label must lie on the CT's voxel grid:
  size, spacing, direction and origin are compared (:func:`check_label_grid`), nothing is assumed.
- ``"msd"``: Medical Segmentation Decathlon Task07 (``imagesTr/pancreas_XXX.nii.gz``, ``labelsTr/...``; label 1
  pancreas and 2 tumour, merged to 1). Cases keep their names (``pancreas_001``); the MC-Net split does not apply.
- ``"h5"``: the literature's preprocessed files (``Pancreas_h5/imageXXXX_norm.h5`` with ``image``/``label``), read as
  they are (already resampled, windowed, cropped and z-scored).

:func:`prepare_pancreas` applies the literature's preprocessing (MC-Net's notebook) to the TCIA and MSD sources and
writes ``imagesTr/<case>.nii.gz``, ``labelsTr/<case>.nii.gz`` and ``datalist.json``; for h5 it checks the files and
writes the datalist only. :func:`pancreas_splits` turns a prepared folder (or a ``Pancreas_h5`` folder) and the
MC-Net lists into labeled / unlabeled / validation datalists.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from monai.data import ImageReader

from .case_lists import resolve_case_ids
from .inputs import plan_mask_paths
from .semi_supervised_split import partition_cases

__all__ = [
    "PANCREAS_SOURCES",
    "PANCREAS_WINDOW",
    "PANCREAS_SPACING",
    "PANCREAS_CROP_MARGIN",
    "PANCREAS_MIN_CROP",
    "PANCREAS_LABEL_VALUES",
    "TCIA_ABSENT",
    "PANCREAS_AIR_HU",
    "PancreasDataError",
    "check_hu_range",
    "check_ct_series",
    "check_label_grid",
    "tcia_series_folder",
    "pancreas_source_cases",
    "read_ct_case",
    "pancreas_crop_box",
    "preprocess_pancreas_case",
    "prepare_pancreas",
    "pancreas_case_index",
    "pancreas_preprocessing",
    "pancreas_cases",
    "pancreas_splits",
    "pancreas_reader",
    "pancreas_input_datalist",
]

PANCREAS_SOURCES: tuple[str, ...] = ("tcia", "msd", "h5")
#: The soft-tissue window of the literature (level 75, width 400 HU), scaled to [0, 1].
PANCREAS_WINDOW: tuple[float, float] = (-125.0, 275.0)
#: Voxel size (mm) the literature resamples to; also the voxel size of its h5 files, which store none.
PANCREAS_SPACING: tuple[float, float, float] = (1.0, 1.0, 1.0)
#: Voxels kept on each side of the label's x/y bounding box.
PANCREAS_CROP_MARGIN: int = 25
#: The x/y crop is widened to at least this many voxels (the patch size) where the volume allows.
PANCREAS_MIN_CROP: int = 96
#: Values a label file may hold: 0 background, 1 pancreas, 2 tumour (MSD); every value above 0 becomes 1.
PANCREAS_LABEL_VALUES: tuple[int, ...] = (0, 1, 2)
#: Cases of the literature's split that the TCIA release no longer holds (TCIA removed them as duplicates).
TCIA_ABSENT: dict[str, str] = {
    "image0025": "PANCREAS_0025 is not in the TCIA Pancreas-CT release (removed by TCIA as a duplicate of another patient)",
    "image0070": "PANCREAS_0070 is not in the TCIA Pancreas-CT release (removed by TCIA as a duplicate of another patient)",
}
#: A CT in HU holds air (about -1000 HU) around the body; a volume with no voxel below this is not taken as HU.
PANCREAS_AIR_HU: float = -500.0
_ORIGIN_TOL_MM = 1e-2
_SPACING_TOL_MM = 1e-3
_DIRECTION_TOL = 1e-3


class PancreasDataError(ValueError):
    """A pancreas CT folder, list, series or case that cannot be used; the message names the file."""


# ---------------------------------------------------------------------------------------------- checks


def check_ct_series(folder: str | Path) -> list[str]:
    """Check that ``folder`` holds one CT DICOM series whose every file carries the HU rescale tags.

    SimpleITK (GDCM) applies RescaleSlope/RescaleIntercept when they are present and silently reads raw stored
    values when they are absent, which for CT are not HU; such a series is refused here.

    Args:
        folder: a folder of DICOM files (subfolders not searched).

    Returns:
        The series' files, sorted by slice position.

    Raises:
        PancreasDataError: no series, several series, a series that is not CT, a file without
            RescaleSlope/RescaleIntercept, or fewer than 2 slices (a 2D image).
    """
    import pydicom

    from .sitk_reader import list_dicom_series

    path = Path(folder).expanduser()
    if not path.is_dir():
        raise PancreasDataError(f"{path}: DICOM series folder not found.")
    series = list_dicom_series(path)
    if not series:
        raise PancreasDataError(f"{path}: no DICOM series in this folder (subfolders are not searched).")
    if len(series) > 1:
        listing = ", ".join(f"{uid} ({len(files)} files)" for uid, files in series.items())
        raise PancreasDataError(f"{path}: holds {len(series)} DICOM series ({listing}); a CT case must be one series.")
    files = next(iter(series.values()))
    if len(files) < 2:
        raise PancreasDataError(
            f"{path}: the series has {len(files)} slice; a CT volume (3D) is needed, not a 2D image."
        )
    for name in files:
        ds = pydicom.dcmread(name, stop_before_pixels=True)
        modality = str(getattr(ds, "Modality", ""))
        if modality != "CT":
            raise PancreasDataError(f"{name}: Modality is {modality!r}, not 'CT'; this model reads CT in HU.")
        absent = [t for t in ("RescaleSlope", "RescaleIntercept") if t not in ds]
        if absent:
            raise PancreasDataError(
                f"{name}: lacks the HU rescale tag(s) {absent}; without them the stored values are not Hounsfield "
                "units and the [-125, 275] HU window would be wrong."
            )
    return list(files)


def check_hu_range(minimum: float, name: str | Path) -> None:
    """Refuse a CT whose lowest value is above :data:`PANCREAS_AIR_HU`: abdominal CT in HU holds air (about
    -1000 HU) around the body, so such a volume is most likely raw stored values or an already normalised image.

    Args:
        minimum: the volume's lowest value.
        name: the CT's file or folder (for the message).

    Raises:
        PancreasDataError: naming the file and its lowest value.
    """
    if minimum > PANCREAS_AIR_HU:
        raise PancreasDataError(
            f"{name}: does not look like CT in Hounsfield units: its lowest value is {minimum:.4g}, but air around "
            f"the body is about -1000 HU (nothing below {PANCREAS_AIR_HU:g}). Raw stored values without "
            "RescaleIntercept, or an image normalised already? The [-125, 275] HU window needs HU."
        )


def check_label_grid(image, label, image_name: str | Path, label_name: str | Path) -> None:
    """Refuse a label whose voxel grid is not the CT's: size, spacing, direction and origin must agree.

    Args:
        image: the CT as a ``SimpleITK.Image``.
        label: the label as a ``SimpleITK.Image``.
        image_name: the CT's file or folder (for the message).
        label_name: the label's file (for the message).

    Raises:
        PancreasDataError: naming both files and every property that differs, with both values.
    """
    diffs = []
    if image.GetSize() != label.GetSize():
        diffs.append(f"size {label.GetSize()} vs the CT's {image.GetSize()}")
    if not np.allclose(image.GetSpacing(), label.GetSpacing(), rtol=0, atol=_SPACING_TOL_MM):
        diffs.append(f"spacing {_fmt(label.GetSpacing())} vs {_fmt(image.GetSpacing())} mm")
    if not np.allclose(image.GetDirection(), label.GetDirection(), rtol=0, atol=_DIRECTION_TOL):
        diffs.append(f"direction {_fmt(label.GetDirection())} vs {_fmt(image.GetDirection())}")
    if not np.allclose(image.GetOrigin(), label.GetOrigin(), rtol=0, atol=_ORIGIN_TOL_MM):
        diffs.append(f"origin {_fmt(label.GetOrigin())} vs {_fmt(image.GetOrigin())} mm (LPS)")
    if diffs:
        raise PancreasDataError(
            f"{label_name}: the label does not lie on the CT grid of {image_name}: "
            + "; ".join(diffs)
            + ". Nothing is flipped or resampled by assumption: check the pair in a viewer (see the bundle docs)."
        )


def _fmt(values: Sequence[float]) -> str:
    return "(" + ", ".join(f"{v:.4g}" for v in values) + ")"


def tcia_series_folder(patient_dir: str | Path) -> Path:
    """The one folder under ``patient_dir`` (``PANCREAS_0001/<study>/<series>/``) that holds ``.dcm`` files.

    Raises:
        PancreasDataError: for no such folder, or several (e.g. a scout series beside the CT).
    """
    root = Path(patient_dir)
    folders = sorted({p.parent for p in root.rglob("*.dcm")})
    if not folders:
        raise PancreasDataError(f"{root}: no DICOM (.dcm) files under this patient folder.")
    if len(folders) > 1:
        raise PancreasDataError(
            f"{root}: DICOM files in {len(folders)} folders ({', '.join(str(f.relative_to(root)) for f in folders)}); "
            "a TCIA Pancreas-CT patient holds one series: keep only the CT series folder."
        )
    return folders[0]


def pancreas_source_cases(source: str, dataset_dir: str | Path, label_dir: str | Path | None = None) -> list[dict]:
    """``{"case", "image", "label"}`` for every case of a source, sorted by case ID (files only looked up).

    Args:
        source: one of :data:`PANCREAS_SOURCES`.
        dataset_dir: the TCIA ``Pancreas-CT`` folder (``PANCREAS_*`` inside), the MSD ``Task07_Pancreas`` folder, or
            the ``Pancreas_h5`` folder.
        label_dir: the TCIA_pancreas_labels folder (``label0001.nii.gz``); TCIA only.

    Raises:
        PancreasDataError: for an unknown source, a missing folder, no case, or a case without its label file.
    """
    if source not in PANCREAS_SOURCES:
        raise PancreasDataError(f"source must be one of {list(PANCREAS_SOURCES)}, got {source!r}.")
    root = Path(dataset_dir).expanduser()
    if not root.is_dir():
        raise PancreasDataError(f"{root}: dataset folder not found.")
    out = []
    if source == "tcia":
        if label_dir is None:
            raise PancreasDataError(
                "the TCIA source needs --label_dir, the TCIA_pancreas_labels folder (label0001.nii.gz ...)."
            )
        labels = Path(label_dir).expanduser()
        if not labels.is_dir():
            raise PancreasDataError(f"{labels}: label folder not found.")
        for patient in sorted(p for p in root.iterdir() if p.is_dir() and p.name.upper().startswith("PANCREAS_")):
            number = patient.name.split("_")[-1]
            label = labels / f"label{number}.nii.gz"
            if not label.is_file():
                raise PancreasDataError(f"{label}: label file of {patient.name} not found.")
            out.append({"case": f"image{number}", "image": str(tcia_series_folder(patient)), "label": str(label)})
    elif source == "msd":
        for image in sorted((root / "imagesTr").glob("pancreas_*.nii.gz")):  # MSD's '._pancreas_*' files are skipped
            label = root / "labelsTr" / image.name
            if not label.is_file():
                raise PancreasDataError(f"{label}: label file of {image.name} not found.")
            out.append({"case": image.name[: -len(".nii.gz")], "image": str(image), "label": str(label)})
    else:
        for path in sorted(root.glob("*_norm.h5")):
            out.append({"case": path.name[: -len("_norm.h5")], "image": str(path), "label": str(path)})
    if not out:
        expected = {"tcia": "PANCREAS_XXXX/ folders", "msd": "imagesTr/pancreas_XXX.nii.gz", "h5": "imageXXXX_norm.h5"}
        raise PancreasDataError(f"{root}: no {source} case found (expected {expected[source]}).")
    return out


# ---------------------------------------------------------------------------------------------- reading


def _read_sitk(path: Path):
    from .sitk_reader import SimpleITKReader

    reader = SimpleITKReader(defer_errors=False)
    try:
        return reader, reader.read(str(path))
    except (FileNotFoundError, ValueError, RuntimeError) as e:
        raise PancreasDataError(f"{path}: cannot be read ({e}).") from e


def _as_metatensor(reader, image):
    from monai.data import MetaTensor

    arr, meta = reader.get_data(image)
    affine = meta.pop("affine")
    return MetaTensor(np.ascontiguousarray(arr)[None], affine=affine, meta=meta)


def read_ct_case(image_path: str | Path, label_path: str | Path | None = None):
    """Read a CT (DICOM series folder in HU, or an image file) and its label, checked, as channel-first MetaTensors.

    Args:
        image_path: a DICOM series folder or an image file (NIfTI, MHA ...), in HU.
        label_path: the label file, on the CT's grid; None for no label.

    Returns:
        ``(image, label)``: float32 ``(1, x, y, z)`` MetaTensors with RAS affines (label None without a label; else
        uint8 with every value above 0 set to 1).

    Raises:
        PancreasDataError: naming the file: a series without HU rescale tags, an unreadable file, an image that is not
            3D, non-finite values, values that are not HU (:func:`check_hu_range`), a label off the CT grid, label
            values outside :data:`PANCREAS_LABEL_VALUES`, or an empty label.
    """
    import SimpleITK as sitk  # noqa: N813

    image_path = Path(image_path)
    if image_path.is_dir():
        check_ct_series(image_path)
    elif not image_path.is_file():
        raise PancreasDataError(f"{image_path}: CT file or DICOM series folder not found.")
    reader, ct = _read_sitk(image_path)
    if ct.GetDimension() != 3 or min(ct.GetSize()) < 2 or ct.GetNumberOfComponentsPerPixel() != 1:
        raise PancreasDataError(
            f"{image_path}: a CT volume must be 3D with one value per voxel, got size {ct.GetSize()} with "
            f"{ct.GetNumberOfComponentsPerPixel()} component(s) (a 2D image?)."
        )
    image = _as_metatensor(reader, sitk.Cast(ct, sitk.sitkFloat32))
    if not np.isfinite(image.numpy()).all():
        raise PancreasDataError(f"{image_path}: has NaN or infinite values.")
    check_hu_range(float(image.min()), image_path)
    if label_path is None:
        return image, None
    label_path = Path(label_path)
    if not label_path.is_file():
        raise PancreasDataError(f"{label_path}: label file not found.")
    _, lab = _read_sitk(label_path)
    check_label_grid(ct, lab, image_path, label_path)
    values = np.unique(sitk.GetArrayViewFromImage(lab))
    bad = values[~np.isin(values, PANCREAS_LABEL_VALUES)]
    if bad.size:
        raise PancreasDataError(
            f"{label_path}: label values must be in {list(PANCREAS_LABEL_VALUES)}, found {bad[:10].tolist()}."
        )
    if values.max(initial=0) == 0:
        raise PancreasDataError(
            f"{label_path}: the label is empty; the literature's crop is placed around the pancreas."
        )
    label = _as_metatensor(reader, sitk.Cast(lab > 0, sitk.sitkUInt8))
    return image, label


# ---------------------------------------------------------------------------------------------- preprocessing


def pancreas_crop_box(
    label: np.ndarray, margin: int = PANCREAS_CROP_MARGIN, min_size: int = PANCREAS_MIN_CROP
) -> tuple[slice, slice]:
    """The literature's x/y crop around a label ``(x, y, z)``: the bounding box, widened to ``min_size`` when narrower
    (half on each side), plus ``margin`` voxels each side, clipped to the volume. z is kept whole.

    As MC-Net's notebook: with ``lo, hi`` the first and last label index along an axis and
    ``pad = max(min_size - (hi - lo), 0) // 2``, the kept range is ``[max(lo - pad - margin, 0), min(hi + pad + margin, n))``.

    Raises:
        PancreasDataError: for an empty label or a label that is not 3D.
    """
    if label.ndim != 3:
        raise PancreasDataError(f"the label must be 3D (x, y, z), got shape {label.shape}.")
    nonzero = np.nonzero(label)
    if nonzero[0].size == 0:
        raise PancreasDataError("the label is empty; the crop is placed around the pancreas.")
    box = []
    for axis in (0, 1):
        lo, hi, n = int(nonzero[axis].min()), int(nonzero[axis].max()), label.shape[axis]
        pad = max(min_size - (hi - lo), 0) // 2
        box.append(slice(max(lo - pad - margin, 0), min(hi + pad + margin, n)))
    return box[0], box[1]


def preprocess_pancreas_case(
    image,
    label,
    spacing: Sequence[float] = PANCREAS_SPACING,
    window: Sequence[float] = PANCREAS_WINDOW,
    margin: int = PANCREAS_CROP_MARGIN,
    min_size: int = PANCREAS_MIN_CROP,
):
    """MC-Net's preprocessing: resample (image trilinear, label nearest), window to [0, 1], crop x/y around the label,
    z-score over the cropped volume.

    Args:
        image: CT in HU, channel-first MetaTensor (:func:`read_ct_case`).
        label: its binary label, channel-first MetaTensor on the same grid.
        spacing: target voxel size in mm.
        window: ``(low, high)`` HU, mapped to 0 and 1 with values outside clipped.
        margin: voxels kept each side of the label's x/y box.
        min_size: the x/y box is widened to at least this size where the volume allows.

    Returns:
        ``(image, label)`` MetaTensors whose affines place them in the source's world coordinates.
    """
    from monai.transforms import NormalizeIntensity, ScaleIntensityRange, Spacing, SpatialCrop

    image = Spacing(pixdim=spacing, mode="bilinear")(image)
    label = Spacing(pixdim=spacing, mode="nearest")(label)
    image = ScaleIntensityRange(a_min=window[0], a_max=window[1], b_min=0.0, b_max=1.0, clip=True)(image)
    sx, sy = pancreas_crop_box(np.asarray(label[0]), margin, min_size)
    crop = SpatialCrop(roi_start=(sx.start, sy.start, 0), roi_end=(sx.stop, sy.stop, image.shape[-1]))
    image, label = crop(image), crop(label)
    return NormalizeIntensity()(image), label


# ---------------------------------------------------------------------------------------------- prepare


def _save_nifti(array: np.ndarray, affine: np.ndarray, path: Path) -> None:
    import nibabel as nib

    from ..utils import atomic_path

    with atomic_path(path) as tmp:
        nib.save(nib.Nifti1Image(array, affine), str(tmp))


def _check_h5_case(path: Path) -> None:
    import h5py

    try:
        with h5py.File(path, "r") as f:
            missing = [k for k in ("image", "label") if k not in f]
            if missing:
                raise PancreasDataError(f"{path}: has no {missing} dataset(s) (found {sorted(f.keys())}).")
            shape, lshape = f["image"].shape, f["label"].shape
            if len(shape) != 3:
                raise PancreasDataError(f"{path}: the image must be 3D, got shape {shape}.")
            if lshape != shape:
                raise PancreasDataError(f"{path}: label shape {lshape} differs from the image shape {shape}.")
            values = np.unique(f["label"][()])
    except OSError as e:
        raise PancreasDataError(f"{path}: not a readable HDF5 file ({e}).") from e
    if not np.isin(values, (0, 1)).all():
        raise PancreasDataError(f"{path}: label values must be 0 or 1, found {values[:10].tolist()}.")


def prepare_pancreas(
    source: str,
    dataset_dir: str | Path,
    output_dir: str | Path,
    label_dir: str | Path | None = None,
    cases: Sequence[str] | None = None,
    spacing: Sequence[float] = PANCREAS_SPACING,
    window: Sequence[float] = PANCREAS_WINDOW,
    margin: int = PANCREAS_CROP_MARGIN,
    min_size: int = PANCREAS_MIN_CROP,
    overwrite: bool | str = False,
    overlay_dir: str | Path | None = None,
) -> dict:
    """Prepare a pancreas CT source as the literature does and write the training layout with its datalist.

    Writes ``output_dir/imagesTr/<case>.nii.gz`` (float32, preprocessed), ``labelsTr/<case>.nii.gz`` (uint8 {0, 1})
    and, last, ``datalist.json``::

        {"training": [{"image": "imagesTr/image0001.nii.gz", "label": "labelsTr/image0001.nii.gz", "case": "image0001",
                       "source": "<CT folder or file>"}, ...],
         "absent": {"image0025": "<why>", ...}, "preprocessing": {...}}

    For the h5 source nothing is converted: the files are checked and the datalist points at them. Every file is
    written under a temporary name and renamed into place; files an earlier run left are refused (before anything is
    written) unless ``overwrite``. On an error the files this run created are removed, so the folder holds no
    partial preparation.

    Args:
        source: one of :data:`PANCREAS_SOURCES`.
        dataset_dir: the source folder (see :func:`pancreas_source_cases`).
        output_dir: where to write.
        label_dir: the TCIA labels folder (TCIA only).
        cases: prepare only these case IDs (e.g. ``["image0001"]``); None for all.
        spacing, window, margin, min_size: see :func:`preprocess_pancreas_case`.
        overwrite: replace files an earlier run left.
        overlay_dir: also write ``<overlay_dir>/<case>.png``: the CT slice through the label's centre, on the CT's
            own grid before preprocessing, with the label outlined (see :func:`~noisymed.data.write_overlay_png`),
            to check by eye that each label lies on its CT. TCIA and MSD only.

    Returns:
        The datalist (as written to ``datalist.json``).

    Raises:
        PancreasDataError: for a bad source, folder or case (the file named).
        FileExistsError: when an earlier run's file is there and ``overwrite`` is not set.
    """
    from ..utils import refuse_overwrite, write_text_atomic
    from .overlay_png import write_overlay_png

    items = pancreas_source_cases(source, dataset_dir, label_dir)
    absent: dict[str, str] = {}
    if cases is not None:
        found = {i["case"]: i for i in items}
        wanted = [str(c) for c in cases]
        for c in wanted:
            if c not in found:
                if source == "tcia" and c in TCIA_ABSENT:
                    absent[c] = TCIA_ABSENT[c]
                else:
                    raise PancreasDataError(
                        f"{Path(dataset_dir)}: case {c} was asked for but is not in the {source} source."
                    )
        items = [found[c] for c in wanted if c in found]
    elif source == "tcia":
        have = {i["case"] for i in items}
        absent = {c: why for c, why in TCIA_ABSENT.items() if c not in have}
    out = Path(output_dir).expanduser()
    targets = [out / "datalist.json"]
    if source != "h5":
        targets += [out / d / f"{i['case']}.nii.gz" for i in items for d in ("imagesTr", "labelsTr")]
        if overlay_dir is not None:
            targets += [Path(overlay_dir).expanduser() / f"{i['case']}.png" for i in items]
    refuse_overwrite(targets, overwrite, hint=f"choose another output folder than {out}")

    created: list[Path] = []
    training = []
    try:
        for item in items:
            if source == "h5":
                _check_h5_case(Path(item["image"]))
                training.append({"image": str(Path(item["image"]).resolve()), "label": str(Path(item["label"]).resolve()),
                                 "case": item["case"]})  # fmt: skip
                continue
            image, label = read_ct_case(item["image"], item["label"])
            if overlay_dir is not None:
                png = Path(overlay_dir).expanduser() / f"{item['case']}.png"
                existed = png.exists()
                title = f"{item['case']}: {Path(item['image']).name} + {Path(item['label']).name}"
                write_overlay_png(np.asarray(image[0]), np.asarray(label[0]), png, window, title)
                if not existed:
                    created.append(png)
            image, label = preprocess_pancreas_case(image, label, spacing, window, margin, min_size)
            rel = {"image": f"imagesTr/{item['case']}.nii.gz", "label": f"labelsTr/{item['case']}.nii.gz"}
            for key, arr, dtype in (("image", image, np.float32), ("label", label, np.uint8)):
                path = out / rel[key]
                existed = path.exists()
                _save_nifti(np.asarray(arr[0]).astype(dtype), np.asarray(arr.affine, dtype=float), path)
                if not existed:
                    created.append(path)
            training.append({**rel, "case": item["case"], "source": str(item["image"])})
        datalist = {
            "training": training,
            "absent": absent,
            "preprocessing": {"source": source, "spacing": list(map(float, spacing)), "window": list(map(float, window)),
                              "margin": int(margin), "min_size": int(min_size)} if source != "h5" else {"source": "h5"},
        }  # fmt: skip
        write_text_atomic(out / "datalist.json", json.dumps(datalist, indent=2) + "\n")
    except BaseException:
        for path in created:
            path.unlink(missing_ok=True)
        raise
    return datalist


# ---------------------------------------------------------------------------------------------- datalists


def pancreas_case_index(dataset_dir: str | Path) -> tuple[dict[str, dict], dict[str, str], str]:
    """The cases of a prepared folder (``datalist.json``) or of a ``Pancreas_h5`` folder.

    Returns:
        ``({case: {"image", "label", "case"}}, {absent case: why}, layout)`` with absolute paths and layout
        ``"nifti"`` or ``"h5"``.

    Raises:
        PancreasDataError: for no dataset given, a missing folder, an unreadable datalist, or neither layout.
    """
    if dataset_dir is None:
        raise PancreasDataError(
            "no dataset given: set --dataset_dir to a folder written by scripts/prepare_pancreas.py or to Pancreas_h5."
        )
    root = Path(dataset_dir).expanduser()
    if not root.is_dir():
        raise PancreasDataError(f"{root}: dataset folder not found.")
    listing = root / "datalist.json"
    if listing.is_file():
        try:
            data = json.loads(listing.read_text())
            entries, absent = data["training"], dict(data.get("absent", {}))
        except (ValueError, KeyError, TypeError) as e:
            raise PancreasDataError(
                f"{listing}: not a datalist written by prepare_pancreas ({type(e).__name__}: {e})."
            ) from e
        index = {}
        for e in entries:
            item = {k: str(root / e[k]) if not Path(e[k]).is_absolute() else e[k] for k in ("image", "label")}
            index[e["case"]] = {**item, "case": e["case"]}
        layout = "h5" if index and all(i["image"].endswith(".h5") for i in index.values()) else "nifti"
        return index, absent, layout
    files = sorted(root.glob("*_norm.h5"))
    if files:
        index = {
            p.name[: -len("_norm.h5")]: {"image": str(p), "label": str(p), "case": p.name[: -len("_norm.h5")]}
            for p in files
        }
        return index, {}, "h5"
    raise PancreasDataError(
        f"{root}: neither a prepared folder (datalist.json, see scripts/prepare_pancreas.py) nor Pancreas_h5 (imageXXXX_norm.h5)."
    )


def pancreas_preprocessing(dataset_dir: str | Path) -> dict[str, list[float]]:
    """The voxel size and HU window a dataset folder was prepared with, which inference must repeat.

    A folder written by :func:`prepare_pancreas` records them in ``datalist.json``; the literature's h5 files
    (and a datalist over them) were made at :data:`PANCREAS_SPACING` with :data:`PANCREAS_WINDOW`.

    Args:
        dataset_dir: a prepared folder or a ``Pancreas_h5`` folder.

    Returns:
        ``{"pixdim": [x, y, z], "window": [low, high]}``.

    Raises:
        PancreasDataError: for a folder :func:`pancreas_case_index` refuses, or a recorded spacing or window
            that is malformed.
    """
    pancreas_case_index(dataset_dir)  # the folder is one of the two layouts
    listing = Path(dataset_dir).expanduser() / "datalist.json"
    recorded = json.loads(listing.read_text()).get("preprocessing", {}) if listing.is_file() else {}
    spacing, window = recorded.get("spacing", PANCREAS_SPACING), recorded.get("window", PANCREAS_WINDOW)
    try:
        pixdim, hu = [float(v) for v in spacing], [float(v) for v in window]
    except (TypeError, ValueError) as e:
        raise PancreasDataError(f"{listing}: unreadable preprocessing spacing {spacing!r} or window {window!r}.") from e
    if len(pixdim) != 3 or len(hu) != 2 or not hu[0] < hu[1]:
        raise PancreasDataError(
            f"{listing}: preprocessing spacing must be 3 numbers and window [low, high], got {spacing!r}, {window!r}."
        )
    return {"pixdim": pixdim, "window": hu}


def pancreas_cases(dataset_dir: str | Path, cases: str | Sequence[str] | None, with_label: bool = True) -> list[dict]:
    """Datalist items for the listed cases; a case the dataset declares absent is skipped with a warning naming why.

    Args:
        dataset_dir: a prepared folder or a ``Pancreas_h5`` folder.
        cases: a list file (in ``dataset_dir``, else relative to the working folder), case IDs, or None for all.
        with_label: keep the ``label`` entry.

    Raises:
        PancreasDataError: for a case that is listed but absent (its expected file named) or whose files are missing.
    """
    index, absent, layout = pancreas_case_index(dataset_dir)
    root = Path(dataset_dir).expanduser()
    ids, source = (sorted(index), "the dataset") if cases is None else resolve_case_ids(root, cases, PancreasDataError)
    out = []
    for case in ids:
        if case not in index:
            if case in absent:
                warnings.warn(f"{source}: case {case} skipped: {absent[case]}.", stacklevel=2)
                continue
            expected = root / (f"{case}_norm.h5" if layout == "h5" else f"imagesTr/{case}.nii.gz")
            raise PancreasDataError(f"{expected}: case {case} is listed in {source} but absent from {root}.")
        item = dict(index[case])
        for key in ("image", "label"):
            if not Path(item[key]).is_file():
                raise PancreasDataError(f"{item[key]}: the {key} file of case {case} is missing.")
        if not with_label:
            item.pop("label")
        out.append(item)
    return out


def pancreas_splits(
    dataset_dir: str | Path,
    num_labeled: int = 6,
    train_list: str | Sequence[str] = "train.list",
    val_list: str | Sequence[str] | None = None,
    num_val: int = 0,
    max_unlabeled: int | None = None,
) -> dict[str, list[dict]]:
    """MONAI datalists for the semi-supervised Pancreas-CT protocol (MC-Net: 62 train / 20 test; 6 or 12 labeled).

    The first ``num_labeled`` available cases of ``train_list`` are labeled, the rest unlabeled (labels never read).

    Args:
        dataset_dir: a prepared folder or a ``Pancreas_h5`` folder.
        num_labeled: labeled cases (the literature: 6 = 10 %, 12 = 20 %).
        train_list: list file or case IDs.
        val_list: list file or case IDs of validation cases (none in the training list), or None.
        num_val: take the last ``num_val`` training cases for validation instead.
        max_unlabeled: keep at most this many unlabeled cases (None: all).

    Returns:
        ``{"labeled": [...], "unlabeled": [...], "val": [...]}``.

    Raises:
        PancreasDataError: for a missing folder, list or case, overlapping lists, or too few cases.
    """
    train = pancreas_cases(dataset_dir, train_list)
    val_items = pancreas_cases(dataset_dir, val_list) if val_list is not None and not num_val else None
    labeled, unlabeled, val = partition_cases(
        train,
        num_labeled,
        num_val,
        val_items,
        max_unlabeled,
        error=PancreasDataError,
        where=str(dataset_dir),
        key=lambda item: item["case"],
    )
    unlabeled = [{k: v for k, v in item.items() if k != "label"} for item in unlabeled]
    return {"labeled": labeled, "unlabeled": unlabeled, "val": val}


def pancreas_reader(dataset_dir: str | Path, key: str = "image") -> ImageReader:
    """The reader for ``key`` of a prepared folder (SimpleITK, NIfTI) or of h5 files (1 mm voxels; labels uint8).

    Raises:
        PancreasDataError: for a bad folder or a ``key`` other than image/label.
    """
    from .h5_reader import H5Reader
    from .sitk_reader import SimpleITKReader

    if key not in ("image", "label"):
        raise PancreasDataError(f"key must be 'image' or 'label', got {key!r}.")
    if pancreas_case_index(dataset_dir)[2] == "h5":
        return H5Reader(key, spacing=PANCREAS_SPACING, dtype=np.uint8 if key == "label" else np.float32)
    return SimpleITKReader()


def pancreas_input_datalist(
    inputs: str | Path | Sequence[str | Path],
    output_dir: str | Path | None = None,
    postfix: str = "seg",
    overwrite: bool | str = False,
) -> list[dict]:
    """Inference datalist: CT DICOM series folders, 3D image files in HU, folders of such files, or a datalist JSON.

    Inputs are expanded as by :func:`~noisymed.data.segmentation_datalist` (a folder holding volume files stands
    for those files; any other folder is one DICOM series). No image is read here: each CT is checked where it is
    loaded, by :class:`~noisymed.transforms.CheckCTd` in the bundle's preprocessing (HU rescale tags of a series,
    air in HU), so that MONAI's property checks can resolve the dataset on an empty folder. With ``output_dir``
    each item also gets ``"output"``, its mask's path named after the input, planned and checked by
    :func:`~noisymed.data.plan_mask_paths` before anything is written.

    Args:
        inputs: a path or a list of paths.
        output_dir: the folder of the masks; None plans none.
        postfix: added to each input's name for its mask.
        overwrite: replace masks an earlier run wrote.

    Returns:
        ``[{"image": path, "case": name[, "output": mask path]}, ...]``.

    Raises:
        PancreasDataError: for no input.
        FileNotFoundError: for a missing input.
        ValueError: when two inputs would write one mask.
        FileExistsError: for a mask that exists when ``overwrite`` is false.
    """
    from .inputs import expand_volume_folder, image_datalist

    if inputs is None or (not isinstance(inputs, (str, Path)) and len(inputs) == 0):
        raise PancreasDataError(
            "no input given: set --input to a CT DICOM series folder or a NIfTI file, or a list of them."
        )
    paths = [p for item in image_datalist(inputs, "image", unique=False) for p in expand_volume_folder(item["image"])]
    out = [{"image": str(path), "case": path.name.split(".")[0]} for path in paths]
    if output_dir is not None:
        targets = plan_mask_paths(paths, output_dir, postfix=postfix, overwrite=overwrite)
        for item, target in zip(out, targets, strict=True):
            item["output"] = str(target)
    return out
