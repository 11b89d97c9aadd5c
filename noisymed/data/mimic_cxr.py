"""MIMIC-CXR-JPG (``mimic-cxr-2.0.0-{metadata,split,chexpert}.csv.gz``) → a MONAI datalist."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from noisymed.utils import as_bool

from .chexpert import CHEXPERT_CLASSES
from .csv_labels import check_classes, encode_observations, read_csv_table, required_cell

__all__ = ["MIMIC_SPLITS", "MIMIC_FRONTAL_VIEWS", "mimic_cxr_image_path", "mimic_cxr_datalist"]

MIMIC_SPLITS = ("train", "validate", "test")
MIMIC_FRONTAL_VIEWS = ("PA", "AP")


def mimic_cxr_image_path(root: str | Path, subject_id: str, study_id: str, dicom_id: str) -> Path:
    """``root/files/p{subject_id[:2]}/p{subject_id}/s{study_id}/{dicom_id}.jpg``, MIMIC-CXR-JPG's layout."""
    return Path(root) / "files" / f"p{subject_id[:2]}" / f"p{subject_id}" / f"s{study_id}" / f"{dicom_id}.jpg"


def _find(root: Path, stem: str) -> Path:
    for name in (f"{stem}.csv.gz", f"{stem}.csv"):
        if (root / name).is_file():
            return root / name
    raise FileNotFoundError(f"{root}: {stem}.csv.gz not found (MIMIC-CXR-JPG's label files sit in the dataset root).")


def mimic_cxr_datalist(
    root: str | Path,
    split: str | None = None,
    classes: Sequence[str] = CHEXPERT_CLASSES,
    uncertain: str = "zero",
    blank: str = "zero",
    frontal_only: bool = True,
    frontal_views: Sequence[str] = MIMIC_FRONTAL_VIEWS,
) -> list[dict]:
    """Join MIMIC-CXR-JPG's per-study CheXpert labels onto its per-image metadata.

    ``mimic-cxr-2.0.0-chexpert.csv.gz`` has one row per (``subject_id``, ``study_id``) with the 14
    CheXpert observations (``1.0``, ``0.0``, ``-1.0``, blank); ``mimic-cxr-2.0.0-metadata.csv.gz`` has one
    row per image (``dicom_id``, ``subject_id``, ``study_id``, ``ViewPosition``...); ``mimic-cxr-2.0.0-split
    .csv.gz`` gives each ``dicom_id`` its official split. Every image of a study gets the study's labels;
    images of studies without a label row are left out. Rules as in :func:`chexpert_datalist`
    (defaults: uncertain → 0, blank → 0).

    Args:
        root: the MIMIC-CXR-JPG folder (holding the three ``.csv.gz`` files and ``files/``).
        split: ``"train"``, ``"validate"``, ``"test"`` or None for all.
        classes: observations to keep, in the wanted order.
        uncertain: rule for ``-1``.
        blank: rule for blank cells.
        frontal_only: keep only images whose ``ViewPosition`` is in ``frontal_views``.
        frontal_views: the ``ViewPosition`` values counted as frontal.

    Returns:
        One dict per image: ``image``, ``label``, ``label_mask``, ``patient_id`` (``subject_id``),
        ``study_id``, ``id`` (``dicom_id``), ``view`` (``ViewPosition``), ``split``.

    Raises:
        FileNotFoundError: when a label file is missing.
        ValueError: for an unknown split, class or rule, a bad label value, or a label file that is not UTF-8, has
            no data row, lacks a column (``split`` in the split file...) or has a blank id cell (file and line named).
    """
    if split is not None and split not in MIMIC_SPLITS:
        raise ValueError(f"split must be one of {MIMIC_SPLITS} or None, got {split!r}.")
    root = Path(root)
    label_file = _find(root, "mimic-cxr-2.0.0-chexpert")
    header, label_rows = read_csv_table(label_file, ("subject_id", "study_id"), "is this MIMIC-CXR's chexpert file?")
    classes = check_classes(classes, header, str(label_file))
    labels = {}
    for n, row in label_rows:
        key = (required_cell(row, "subject_id", label_file, n), required_cell(row, "study_id", label_file, n))
        try:
            labels[key] = encode_observations([row[c] for c in classes], uncertain=uncertain, blank=blank)
        except ValueError as err:
            raise ValueError(f"{label_file}, line {n}: {err}") from None
    split_file = _find(root, "mimic-cxr-2.0.0-split")
    splits = {
        required_cell(r, "dicom_id", split_file, n): required_cell(r, "split", split_file, n)
        for n, r in read_csv_table(split_file, ("dicom_id", "split"), "is this MIMIC-CXR's split file?")[1]
    }
    meta_file = _find(root, "mimic-cxr-2.0.0-metadata")
    meta_columns = ("dicom_id", "subject_id", "study_id")
    frontal = as_bool(frontal_only, "frontal_only")
    out = []
    for n, row in read_csv_table(meta_file, meta_columns, "is this MIMIC-CXR's metadata file?")[1]:
        dicom_id, subject, study = (required_cell(row, c, meta_file, n) for c in meta_columns)
        view = (row.get("ViewPosition") or "").strip()
        if frontal and view not in frontal_views:
            continue
        row_split = splits.get(dicom_id, "")
        if split is not None and row_split != split:
            continue
        if (subject, study) not in labels:
            continue
        label, mask = labels[(subject, study)]
        out.append(
            {
                "image": str(mimic_cxr_image_path(root, subject, study, dicom_id)),
                "label": label.copy(),
                "label_mask": mask.copy(),
                "patient_id": subject,
                "study_id": study,
                "id": dicom_id,
                "view": view,
                "split": row_split,
            }
        )
    return out
