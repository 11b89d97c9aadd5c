"""The Left Atrium (2018 Atrial Segmentation Challenge) set in the UA-MT ``mri_norm2.h5`` layout.

Layout the semi-supervised literature uses (UA-MT, SASSNet, DTC, MC-Net, the mutual-learning paper)::

    <root>/<CASE>/mri_norm2.h5    # datasets "image" (float32, z-scored) and "label" (uint8 {0, 1})
    <root>/train.list             # case names, one a line; the first N are the labeled ones
    <root>/test.list

:func:`la_splits` turns that into MONAI datalists (lists of dicts of file paths) and checks every case
before training starts, so a bad file stops the run with its name and what is wrong.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from noisymed.utils import TEMP_MARK, as_int, as_spacing, atomic_path, refuse_overwrite, write_text_atomic

from .semi_supervised_split import partition_cases

__all__ = [
    "LA_H5_NAME",
    "LA_SPACING",
    "read_case_list",
    "check_la_case",
    "check_label_foreground",
    "la_cases",
    "la_splits",
    "la_h5_to_nifti",
    "LADataError",
]

LA_H5_NAME = "mri_norm2.h5"
LA_SPACING = (0.625, 0.625, 0.625)


class LADataError(ValueError):
    """A dataset folder, list or case that cannot be trained on; the message names the file."""


def read_case_list(path: str | Path) -> list[str]:
    """Case names of a ``*.list`` file (blank lines and surrounding spaces ignored).

    Raises:
        LADataError: when the file is missing or lists no case, or lists a case twice.
    """
    path = Path(path)
    if not path.is_file():
        raise LADataError(f"{path}: case list not found.")
    cases = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    if not cases:
        raise LADataError(f"{path}: lists no case.")
    dup = sorted({c for c in cases if cases.count(c) > 1})
    if dup:
        raise LADataError(f"{path}: lists these cases more than once: {dup}.")
    return cases


def check_la_case(path: str | Path, require_label: bool = True) -> tuple[int, ...]:
    """Check one ``mri_norm2.h5`` file and return its shape.

    Args:
        path: the h5 file.
        require_label: whether a binary ``label`` of the image's shape must be there.

    Returns:
        The image shape.

    Raises:
        LADataError: missing file, unreadable file, no ``image``/``label``, not 3D, shapes differ,
            label values other than 0/1, or a non-finite image value.
    """
    import h5py

    path = Path(path)
    if not path.is_file():
        raise LADataError(f"{path}: case file not found.")
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise LADataError(f"{path}: not a readable HDF5 file ({e}).") from e
    with f:
        if "image" not in f:
            raise LADataError(f"{path}: has no 'image' dataset (found {sorted(f.keys())}).")
        image = f["image"][()]
        if image.ndim != 3:
            raise LADataError(f"{path}: 'image' must be 3D, got shape {image.shape}.")
        if not np.isfinite(image).all():
            bad = int((~np.isfinite(image)).sum())
            raise LADataError(f"{path}: 'image' has {bad} NaN or infinite values.")
        if require_label:
            if "label" not in f:
                raise LADataError(f"{path}: has no 'label' dataset (found {sorted(f.keys())}).")
            label = f["label"][()]
            if label.shape != image.shape:
                raise LADataError(f"{path}: 'image' shape {image.shape} and 'label' shape {label.shape} differ.")
            values = np.unique(label)
            if not np.isin(values, (0, 1)).all():
                raise LADataError(f"{path}: 'label' must hold only 0 and 1, found values {values[:10].tolist()}.")
    return tuple(image.shape)


def la_cases(dataset_dir: str | Path, cases: list[str], with_label: bool = True, check: bool = True) -> list[dict]:
    """Datalist items ``{"image": h5, ["label": h5,] "case": name}`` for the named cases.

    Args:
        dataset_dir: root folder of ``<CASE>/mri_norm2.h5``.
        cases: case names, or the name of a list file in ``dataset_dir`` (a str ending in ``.list``).
        with_label: add the ``label`` entry (and check it).
        check: open and check every case (see :func:`check_la_case`).

    Raises:
        LADataError: for a missing folder, list or case, or a bad case.
    """
    root = Path(dataset_dir).expanduser()
    if not root.is_dir():
        raise LADataError(f"{root}: dataset folder not found.")
    if isinstance(cases, str):
        cases = read_case_list(root / cases)
    out = []
    for name in cases:
        path = root / name / LA_H5_NAME
        if check:
            check_la_case(path, require_label=with_label)
        elif not path.is_file():
            raise LADataError(f"{path}: case file not found.")
        item = {"image": str(path), "case": name}
        if with_label:
            item["label"] = str(path)
        out.append(item)
    return out


def la_splits(
    dataset_dir: str | Path,
    num_labeled: int = 8,
    train_list: str = "train.list",
    val_list: str | None = None,
    num_val: int = 0,
    max_unlabeled: int | None = None,
    check: bool = True,
) -> dict[str, list[dict]]:
    """MONAI datalists for the semi-supervised LA protocol.

    The first ``num_labeled`` cases of ``train_list`` are labeled; the last ``num_val`` cases (or the
    cases of ``val_list``) are held out for validation; the rest are unlabeled (their labels are never
    read). Labeled and validation items are ``{"image": h5, "label": h5, "case": name}``, unlabeled ones
    ``{"image": h5, "case": name}``.

    Args:
        dataset_dir: root folder of ``<CASE>/mri_norm2.h5`` and the list files.
        num_labeled: how many of the first training cases are labeled.
        train_list: list file of the training cases, relative to ``dataset_dir`` or absolute.
        val_list: optional list file of validation cases (none of them may be in the training split).
        num_val: take the last ``num_val`` cases of ``train_list`` for validation instead.
        max_unlabeled: keep at most this many unlabeled cases (None: all).
        check: open and check every case (see :func:`check_la_case`).

    Returns:
        ``{"labeled": [...], "unlabeled": [...], "val": [...]}``.

    Raises:
        LADataError: for a missing folder, list or case, a bad case, or too few cases.
    """
    try:
        num_labeled = as_int(num_labeled, "num_labeled", minimum=1)
        num_val = as_int(num_val, "num_val", minimum=0)
        max_unlabeled = None if max_unlabeled is None else as_int(max_unlabeled, "max_unlabeled", minimum=0)
    except ValueError as err:
        raise LADataError(str(err)) from err
    root = Path(dataset_dir).expanduser()
    if not root.is_dir():
        raise LADataError(f"{root}: dataset folder not found.")
    if val_list is not None and num_val:
        raise LADataError("give either val_list or num_val, not both.")
    cases = read_case_list(root / train_list)
    val_ids = read_case_list(root / val_list) if val_list is not None else None
    labeled, unlabeled, val_cases = partition_cases(
        cases, num_labeled, num_val, val_ids, max_unlabeled, error=LADataError, where=str(root / train_list)
    )
    split = {
        "labeled": la_cases(root, labeled, True, check),
        "unlabeled": la_cases(root, unlabeled, False, check),
        "val": la_cases(root, val_cases, True, check),
    }
    if check:
        check_label_foreground(split["labeled"])
    return split


def check_label_foreground(items: list[dict]) -> list[str]:
    """Refuse labeled cases whose labels are all empty; warn naming each empty one otherwise.

    A labeled set whose every label is background trains to a model that predicts background everywhere
    (Dice 0.02 on LA) without any other sign of trouble.

    Args:
        items: labeled datalist items ``{"label": h5 path, "case": name}``.

    Returns:
        The names of the cases with an empty label.

    Raises:
        LADataError: when every labeled case's label is empty.
    """
    import h5py

    empty = []
    for item in items:
        with h5py.File(item["label"], "r") as f:
            if not np.any(f["label"][()]):
                empty.append(item["case"])
    if items and len(empty) == len(items):
        raise LADataError(
            f"the labels of all {len(items)} labeled cases are empty (no foreground voxel): {empty}; "
            "check the 'label' datasets of these files (or the list order: the first num_labeled cases are labeled)."
        )
    if empty:
        warnings.warn(
            f"{len(empty)} of {len(items)} labeled cases have an empty label (no foreground voxel): {empty}.",
            stacklevel=2,
        )
    return empty


def _nifti_state(path: Path, data: np.ndarray, affine: np.ndarray) -> str:
    """``"missing"``, ``"same"`` (complete, same voxels and affine), ``"different"`` or ``"incomplete: <why>"``."""
    import nibabel as nib

    if not path.is_file():
        return "missing"
    try:
        img = nib.load(str(path))
        stored = np.asanyarray(img.dataobj)
    except Exception as err:  # nibabel raises EOFError, OSError, zlib.error, ImageFileError... for a cut file
        return f"incomplete: {type(err).__name__}: {err}"
    if stored.shape != data.shape or not np.allclose(img.affine, affine, atol=1e-6):
        return "different"
    return "same" if np.array_equal(stored, data) else "different"


def la_h5_to_nifti(
    dataset_dir: str | Path,
    output_dir: str | Path,
    list_files: tuple[str, ...] = ("train.list", "test.list"),
    spacing: tuple[float, float, float] = LA_SPACING,
    overwrite: bool = False,
) -> dict[str, list[dict]]:
    """Write every listed case as ``imagesTr/<CASE>.nii.gz`` + ``labelsTr/<CASE>.nii.gz`` and return a datalist.

    The affine is ``diag(spacing)`` (the h5 files store none; the challenge volumes are 0.625 mm).
    The datalist has one section per list file (``train.list`` → ``"train"``) with paths relative to
    ``output_dir``, as MONAI's ``load_decathlon_datalist`` reads them.

    Every file is written to a temporary name and renamed into place, so a kill leaves complete files and
    temporary leftovers, never a half-written file under a final name. A rerun removes those leftovers and
    reads every existing output back: one identical to what it would write is kept, one that is missing,
    truncated or unreadable (e.g. from a version that wrote in place) is written again, with a warning naming
    it; one that is complete but different (other spacing, other data) stops the run before anything is
    written, unless ``overwrite``.

    Args:
        dataset_dir: root of ``<CASE>/mri_norm2.h5`` and the list files.
        output_dir: where to write the NIfTI files.
        list_files: the list files to convert; missing ones are skipped, but at least one must exist.
        spacing: voxel size in mm.
        overwrite: replace complete outputs that differ from what this run would write.

    Returns:
        The datalist (also written to ``output_dir/datalist.json``).

    Raises:
        LADataError: for a missing folder, no list file, a bad spacing, or a bad case (checked before anything
            is written).
        FileExistsError: for a complete output that differs, when ``overwrite`` is false.
    """
    import json

    import h5py
    import nibabel as nib

    try:
        spacing = tuple(as_spacing(spacing, "spacing"))
    except ValueError as err:
        raise LADataError(str(err)) from err
    root, out = Path(dataset_dir).expanduser(), Path(output_dir).expanduser()
    if not root.is_dir():
        raise LADataError(f"{root}: dataset folder not found.")
    lists = {Path(n).stem: read_case_list(root / n) for n in list_files if (root / n).is_file()}
    if not lists:
        raise LADataError(f"{root}: none of the list files {list(list_files)} exists.")
    sections = {name: la_cases(root, cases) for name, cases in lists.items()}
    affine = np.diag([*spacing, 1.0])

    # plan: read every existing output back before writing anything
    datalist: dict[str, list[dict]] = {}
    to_write: list[tuple[str, Path, str]] = []  # (h5 file, target, dataset)
    differ: list[Path] = []
    for name, items in sections.items():
        datalist[name] = []
        for item in items:
            rel = {"image": f"imagesTr/{item['case']}.nii.gz", "label": f"labelsTr/{item['case']}.nii.gz"}
            with h5py.File(item["image"], "r") as f:
                arrays = {"image": f["image"][()].astype(np.float32), "label": f["label"][()].astype(np.uint8)}
            for key, r in rel.items():
                target = out / r
                state = _nifti_state(target, arrays[key], affine)
                if state == "different":
                    differ.append(target)
                if state.startswith("incomplete"):
                    warnings.warn(f"{target}: {state}; writing it again.", stacklevel=2)
                if state != "same":
                    to_write.append((item["image"], target, key))
            datalist[name].append({**rel, "case": item["case"]})
    refuse_overwrite(
        differ,
        overwrite,
        hint="they differ from what this run writes (another spacing or other data); pass another --output_dir",
    )

    for folder in (out / "imagesTr", out / "labelsTr"):
        if folder.is_dir():
            for leftover in folder.glob(f".*{TEMP_MARK}*"):
                leftover.unlink()  # the temporary file of a killed write
    for h5, target, key in to_write:
        with h5py.File(h5, "r") as f:
            data = f[key][()].astype(np.float32 if key == "image" else np.uint8)
        with atomic_path(target) as tmp:
            nib.save(nib.Nifti1Image(data, affine), str(tmp))
    write_text_atomic(out / "datalist.json", json.dumps(datalist, indent=2))
    return datalist
