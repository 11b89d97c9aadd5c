"""CheXpert (``train.csv`` / ``valid.csv``) → a MONAI datalist of multi-label chest X-rays."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from noisymed.utils import as_bool

from .csv_labels import check_classes, encode_observations, read_csv_table, required_cell

__all__ = ["CHEXPERT_CLASSES", "CHEXPERT_COMPETITION_CLASSES", "chexpert_datalist"]

CHEXPERT_CLASSES = (
    "No Finding",
    "Enlarged Cardiomediastinum",
    "Cardiomegaly",
    "Lung Opacity",
    "Lung Lesion",
    "Edema",
    "Consolidation",
    "Pneumonia",
    "Atelectasis",
    "Pneumothorax",
    "Pleural Effusion",
    "Pleural Other",
    "Fracture",
    "Support Devices",
)
"""The 14 observations of the CheXpert labeler, in the CSV's column order."""

CHEXPERT_COMPETITION_CLASSES = ("Atelectasis", "Cardiomegaly", "Consolidation", "Edema", "Pleural Effusion")
"""The five competition findings of Irvin et al. (AAAI 2019)."""

_PATIENT = re.compile(r"(patient\d+)")


def chexpert_datalist(
    csv_path: str | Path,
    image_root: str | Path | None = None,
    classes: Sequence[str] = CHEXPERT_CLASSES,
    uncertain: str = "zero",
    blank: str = "zero",
    frontal_only: bool = False,
) -> list[dict]:
    """Read CheXpert's ``train.csv`` or ``valid.csv``.

    The CSV has ``Path`` (e.g. ``CheXpert-v1.0-small/train/patient00001/study1/view1_frontal.jpg``),
    ``Sex``, ``Age``, ``Frontal/Lateral``, ``AP/PA`` and one column per observation with ``1`` positive,
    ``0`` negative, ``-1`` uncertain and blank for not mentioned.

    Defaults: uncertain → 0 and blank → 0 (U-Zeros: a finding the report does not assert is negative);
    both rules can be ``"ignore"``, ``"zero"`` or ``"one"`` (see :func:`encode_observations`).

    Args:
        csv_path: ``train.csv`` or ``valid.csv``.
        image_root: the folder ``Path`` is relative to; default: the parent of the CSV's folder (CheXpert's
            paths start with the dataset folder's name).
        classes: the observations to keep, in the wanted order.
        uncertain: rule for ``-1``.
        blank: rule for blank cells.
        frontal_only: keep only rows with ``Frontal/Lateral == "Frontal"``.

    Returns:
        One dict per image: ``image`` (path), ``label`` and ``label_mask`` (float32, one entry per class),
        ``patient_id``, ``id`` (the CSV ``Path``), ``view`` (``Frontal``/``Lateral``) and ``ap_pa``.

    Raises:
        FileNotFoundError: when the CSV is missing.
        ValueError: for a CSV that is not UTF-8, has no data row or lacks a column, an unknown class, a bad rule,
            a bad value or a blank ``Path`` / ``Frontal/Lateral`` cell (with its line).
    """
    csv_path = Path(csv_path)
    header, rows = read_csv_table(csv_path, ("Path", "Frontal/Lateral"), "is this CheXpert's train.csv or valid.csv?")
    classes = check_classes(classes, header, str(csv_path))
    root = Path(image_root) if image_root is not None else csv_path.parent.parent
    frontal = as_bool(frontal_only, "frontal_only")
    out = []
    for n, row in rows:
        image = required_cell(row, "Path", csv_path, n)
        view = required_cell(row, "Frontal/Lateral", csv_path, n)
        if frontal and view != "Frontal":
            continue
        try:
            label, mask = encode_observations([row[c] for c in classes], uncertain=uncertain, blank=blank)
        except ValueError as err:
            raise ValueError(f"{csv_path}, line {n}: {err}") from None
        match = _PATIENT.search(image)
        out.append(
            {
                "image": str(root / image),
                "label": label,
                "label_mask": mask,
                "patient_id": match.group(1) if match else image,
                "id": image,
                "view": view,
                "ap_pa": row.get("AP/PA", ""),
            }
        )
    return out
