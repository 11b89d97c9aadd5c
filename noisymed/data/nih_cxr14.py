"""NIH ChestX-ray14 (``Data_Entry_2017.csv``, and the local 64 px subset's ``labels.csv``) → MONAI datalists."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .csv_labels import check_classes, read_csv_table, required_cell

__all__ = ["NIH_CLASSES", "NO_FINDING", "nih_cxr14_datalist", "nih_subset_datalist", "parse_finding_labels"]

NIH_CLASSES = (
    "Atelectasis",
    "Cardiomegaly",
    "Effusion",
    "Infiltration",
    "Mass",
    "Nodule",
    "Pneumonia",
    "Pneumothorax",
    "Consolidation",
    "Edema",
    "Emphysema",
    "Fibrosis",
    "Pleural_Thickening",
    "Hernia",
)
"""The 14 NIH findings, in the order of Wang et al. (CVPR 2017)."""

NO_FINDING = "No Finding"


def parse_finding_labels(text: str, classes: Sequence[str] = NIH_CLASSES) -> np.ndarray:
    """NIH's ``Finding Labels`` (``"Effusion|Mass"``, ``"No Finding"``) → a float32 0/1 vector over ``classes``.

    Findings outside ``classes`` are dropped (so a class subset can be used); ``"No Finding"`` gives zeros.

    Args:
        text: the cell.
        classes: the class order.

    Returns:
        The 0/1 vector.

    Raises:
        ValueError: for a name that is not an NIH finding, or ``"No Finding"`` mixed with findings.
    """
    names = [t.strip() for t in text.split("|") if t.strip()]
    if not names:
        raise ValueError(f"empty Finding Labels {text!r}.")
    if NO_FINDING in names:
        if len(names) > 1:
            raise ValueError(f"{text!r}: 'No Finding' mixed with findings.")
        return np.zeros(len(classes), np.float32)
    unknown = [n for n in names if n not in NIH_CLASSES]
    if unknown:
        raise ValueError(f"{text!r}: unknown finding(s) {unknown}; NIH's are {list(NIH_CLASSES)}.")
    return np.asarray([1.0 if c in names else 0.0 for c in classes], np.float32)


def nih_cxr14_datalist(
    csv_path: str | Path,
    image_dir: str | Path | None = None,
    classes: Sequence[str] = NIH_CLASSES,
    image_list: str | Path | None = None,
    frontal_views: Sequence[str] | None = ("PA", "AP"),
) -> list[dict]:
    """Read NIH's ``Data_Entry_2017.csv`` (``Image Index``, ``Finding Labels``, ``Patient ID``, ``View Position``...).

    NIH has no uncertain or blank entries: every finding not listed is negative, so ``label_mask`` is all ones.

    Args:
        csv_path: ``Data_Entry_2017.csv`` (or ``.csv.gz``).
        image_dir: the folder holding the PNGs named by ``Image Index``; default: ``<csv folder>/images``.
        classes: findings to keep, in the wanted order (a subset of :data:`NIH_CLASSES`).
        image_list: optional ``train_val_list.txt`` / ``test_list.txt`` (one ``Image Index`` per line) to keep.
        frontal_views: keep rows whose ``View Position`` is one of these (all NIH images are PA or AP);
            None keeps all.

    Returns:
        One dict per image: ``image``, ``label``, ``label_mask``, ``patient_id``, ``id`` (``Image Index``),
        ``view``.

    Raises:
        FileNotFoundError: for a missing CSV or image list.
        ValueError: for a CSV that is not UTF-8, has no data row or lacks a column, an unknown class, or a bad or
            blank cell (with its line).
    """
    csv_path = Path(csv_path)
    classes = check_classes(classes, NIH_CLASSES, "NIH ChestX-ray14")
    rows = read_csv_table(csv_path, ("Image Index", "Finding Labels", "Patient ID"), "is this Data_Entry_2017.csv?")[1]
    keep = None
    if image_list is not None:
        if not Path(image_list).is_file():
            raise FileNotFoundError(f"{image_list}: image list not found.")
        keep = {line.strip() for line in Path(image_list).read_text(encoding="utf-8").splitlines() if line.strip()}
    image_dir = Path(image_dir) if image_dir is not None else csv_path.parent / "images"
    out = []
    for n, row in rows:
        name = required_cell(row, "Image Index", csv_path, n)
        view = (row.get("View Position") or "").strip()
        if (keep is not None and name not in keep) or (frontal_views is not None and view not in frontal_views):
            continue
        try:
            label = parse_finding_labels(row["Finding Labels"], classes)
        except ValueError as err:
            raise ValueError(f"{csv_path}, line {n}: {err}") from None
        out.append(
            {
                "image": str(image_dir / name),
                "label": label,
                "label_mask": np.ones(len(classes), np.float32),
                "patient_id": required_cell(row, "Patient ID", csv_path, n),
                "id": name,
                "view": view,
            }
        )
    return out


def nih_subset_datalist(root: str | Path, split: str | None = None, classes: Sequence[str] = NIH_CLASSES) -> list[dict]:
    """Read the local NIH subset's ``labels.csv`` (``path``, ``split``, ``image_index``, ``patient_id``, ``abnormal``,
    ``finding_labels`` and one 0/1 column per NIH finding).

    The 0/1 columns are checked against ``finding_labels``.

    Args:
        root: the folder holding ``labels.csv`` (paths in it are relative to this folder).
        split: keep only rows of this ``split`` (``"train"``, ``"valid"``); None keeps all.
        classes: findings to keep, in the wanted order.

    Returns:
        One dict per image: ``image``, ``label``, ``label_mask``, ``patient_id``, ``id`` (``image_index``), ``split``.

    Raises:
        FileNotFoundError: when ``labels.csv`` is missing.
        ValueError: for an unknown class, a ``labels.csv`` that is not UTF-8, has no data row or lacks a column
            (``split``...), a blank cell, a finding value other than 0/1, or 0/1 columns that contradict
            ``finding_labels`` (file and line named).
    """
    root = Path(root)
    csv_path = root / "labels.csv"
    classes = check_classes(classes, NIH_CLASSES, "NIH ChestX-ray14")
    columns = ("path", "split", "image_index", "patient_id", "finding_labels", *classes)
    hint = (
        "the subset's labels.csv has path, split, image_index, patient_id, finding_labels and a 0/1 column per finding"
    )
    rows = read_csv_table(csv_path, columns, hint)[1]
    out = []
    for n, row in rows:
        row_split = required_cell(row, "split", csv_path, n)
        if split is not None and row_split != split:
            continue
        values = [required_cell(row, c, csv_path, n) for c in classes]
        for c, v in zip(classes, values, strict=True):
            if v not in ("0", "1", "0.0", "1.0"):
                raise ValueError(f"{csv_path}, line {n}: {c!r} is {v!r}; finding columns hold 0 or 1.")
        label = np.asarray([float(v) for v in values], np.float32)
        findings = required_cell(row, "finding_labels", csv_path, n)
        try:
            expected = parse_finding_labels(findings, classes)
        except ValueError as err:
            raise ValueError(f"{csv_path}, line {n}: {err}") from None
        if not np.array_equal(label, expected):
            raise ValueError(f"{csv_path}, line {n}: 0/1 columns contradict finding_labels {findings!r}.")
        out.append(
            {
                "image": str(root / required_cell(row, "path", csv_path, n)),
                "label": label,
                "label_mask": np.ones(len(classes), np.float32),
                "patient_id": required_cell(row, "patient_id", csv_path, n),
                "id": required_cell(row, "image_index", csv_path, n),
                "split": row_split,
            }
        )
    return out
