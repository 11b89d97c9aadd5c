"""Reading label tables (plain or gzipped CSV) and encoding CheXpert-style observations (1 / 0 / -1 / blank)."""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ["LABEL_RULES", "read_csv_rows", "encode_observations", "check_classes"]

LABEL_RULES = ("ignore", "zero", "one")


def read_csv_rows(path: str | Path) -> list[dict[str, str]]:
    """All rows of a CSV file (``.csv`` or ``.csv.gz``) as dicts of strings.

    Args:
        path: the file.

    Returns:
        One dict per row, keyed by the header.

    Raises:
        FileNotFoundError: when the file does not exist.
        ValueError: when the file has no header.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: label file not found.")
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    reader = csv.DictReader(io.StringIO(raw.decode("utf-8-sig")))
    if not reader.fieldnames:
        raise ValueError(f"{path}: no header row.")
    return list(reader)


def check_classes(classes: Sequence[str], available: Sequence[str], source: str) -> list[str]:
    """Validate a class subset against the columns a source provides.

    Args:
        classes: the requested class names, in the wanted order.
        available: the names the source provides.
        source: a name for error messages (a file path).

    Returns:
        ``classes`` as a list.

    Raises:
        ValueError: when ``classes`` is empty, repeats a name or names a class the source lacks.
    """
    classes = list(classes)
    if not classes:
        raise ValueError("classes must name at least one class.")
    if len(set(classes)) != len(classes):
        raise ValueError(f"classes has duplicates: {classes}.")
    missing = [c for c in classes if c not in available]
    if missing:
        raise ValueError(f"{source}: no column for class(es) {missing}; available: {list(available)}.")
    return classes


def _rule_value(rule: str, name: str) -> tuple[float, float]:
    if rule not in LABEL_RULES:
        raise ValueError(f"{name} must be one of {LABEL_RULES}, got {rule!r}.")
    return {"ignore": (0.0, 0.0), "zero": (0.0, 1.0), "one": (1.0, 1.0)}[rule]


def encode_observations(
    values: Sequence[str], uncertain: str = "zero", blank: str = "zero"
) -> tuple[np.ndarray, np.ndarray]:
    """Encode CheXpert-labeler outputs (``1`` positive, ``0`` negative, ``-1`` uncertain, blank not mentioned).

    Rules for uncertain and blank entries: ``"ignore"`` (label 0, mask 0: left out of the loss and the
    metrics), ``"zero"`` (negative) or ``"one"`` (positive), after Irvin et al. (AAAI 2019): U-Ignore,
    U-Zeros, U-Ones.

    Args:
        values: the raw strings of one row (``"1.0"``, ``"1"``, ``"0"``, ``"-1.0"``, ``""``...).
        uncertain: rule for ``-1``.
        blank: rule for an empty cell.

    Returns:
        ``(label, mask)``, both float32 vectors of ``len(values)``; ``mask`` is 1 where the entry is known.

    Raises:
        ValueError: for an unknown rule or a value that is not 1, 0, -1 or blank.
    """
    unc = _rule_value(uncertain, "uncertain")
    blk = _rule_value(blank, "blank")
    label = np.zeros(len(values), np.float32)
    mask = np.zeros(len(values), np.float32)
    for i, raw in enumerate(values):
        text = (raw or "").strip()
        if text == "":
            label[i], mask[i] = blk
            continue
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"label value {raw!r} is not 1, 0, -1 or blank.") from None
        if number == 1.0:
            label[i], mask[i] = 1.0, 1.0
        elif number == 0.0:
            label[i], mask[i] = 0.0, 1.0
        elif number == -1.0:
            label[i], mask[i] = unc
        else:
            raise ValueError(f"label value {raw!r} is not 1, 0, -1 or blank.")
    return label, mask
