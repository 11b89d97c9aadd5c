"""Reading label tables (plain or gzipped CSV) and encoding CheXpert-style observations (1 / 0 / -1 / blank)."""

from __future__ import annotations

import codecs
import csv
import gzip
import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ["LABEL_RULES", "read_csv_table", "read_csv_rows", "required_cell", "encode_observations", "check_classes"]

LABEL_RULES = ("ignore", "zero", "one")


def _decode(raw: bytes, path: Path) -> str:
    """UTF-8 text of ``raw`` without a leading byte order mark; an error names the file, byte offset and line."""
    bom = len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0
    try:
        return raw[bom:].decode("utf-8")
    except UnicodeDecodeError as err:
        offset = bom + err.start
        line = raw[:offset].count(b"\n") + 1
        raise ValueError(
            f"{path}: not UTF-8 text: byte {offset} (0x{raw[offset]:02x}, line {line}) is not valid UTF-8; "
            "save the file as UTF-8 (a spreadsheet's 'CSV UTF-8' export) and run again."
        ) from None


def read_csv_table(
    path: str | Path, required: Sequence[str] = (), hint: str = ""
) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """The header and the numbered rows of a CSV file (``.csv`` or ``.csv.gz``), checked before anyone uses them.

    Args:
        path: the file (UTF-8; an optional byte order mark is skipped).
        required: columns the caller needs.
        hint: what the file should be (e.g. ``"is this CheXpert's train.csv?"``), added to a missing-column message.

    Returns:
        ``(columns, [(line, row), ...])``: ``line`` is the file line a row ends on (the header is line 1) and
        ``row`` a dict of strings keyed by the header.

    Raises:
        FileNotFoundError: when the file does not exist.
        ValueError: naming the file: not UTF-8 (with the byte offset and line), no header, a repeated column name,
            a missing required column (the present ones listed), a row with more cells than the header (its line),
            or no data row (a header-only file).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: label file not found.")
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    reader = csv.DictReader(io.StringIO(_decode(raw, path), newline=""))
    columns = [c.strip() if isinstance(c, str) else c for c in (reader.fieldnames or [])]
    if not any(columns):
        raise ValueError(f"{path}: no header row; the first line must name the columns.")
    repeated = sorted({c for c in columns if c and columns.count(c) > 1})
    if repeated:
        raise ValueError(f"{path}: column(s) {repeated} appear more than once in the header; keep one of each.")
    reader.fieldnames = columns
    missing = [c for c in required if c not in columns]
    if missing:
        extra = f" ({hint})" if hint else ""
        raise ValueError(f"{path}: has no column {missing}{extra}; its columns are {columns}.")
    rows = []
    for row in reader:
        if row.get(None):  # DictReader keeps the cells beyond the header under the key None
            raise ValueError(
                f"{path}, line {reader.line_num}: {len(columns) + len(row[None])} cells for the {len(columns)} columns "
                "of the header; quote a cell that contains a comma."
            )
        rows.append((reader.line_num, row))
    if not rows:
        raise ValueError(f"{path}: holds no data row, only the header {columns}; add one row per image.")
    return columns, rows


def read_csv_rows(path: str | Path, required: Sequence[str] = (), hint: str = "") -> list[dict[str, str]]:
    """All rows of a CSV file (``.csv`` or ``.csv.gz``) as dicts of strings, checked by :func:`read_csv_table`.

    Args:
        path: the file.
        required: columns the caller needs.
        hint: what the file should be, for a missing-column message.

    Returns:
        One dict per row, keyed by the header.

    Raises:
        FileNotFoundError: when the file does not exist.
        ValueError: not UTF-8, no header, a repeated or missing column, or no data row (each naming the file).
    """
    return [row for _, row in read_csv_table(path, required, hint)[1]]


def required_cell(row: dict[str, str], column: str, path: str | Path, line: int) -> str:
    """The stripped text of a cell that must not be blank.

    Raises:
        ValueError: naming the file, line and column of a blank (or absent) cell.
    """
    text = (row.get(column) or "").strip()
    if not text:
        raise ValueError(f"{path}, line {line}: empty {column!r} cell; fill it in or remove the row.")
    return text


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
