"""Single-label classification datalists from a folder per class or from a CSV file.

Folder layout (the ImageFolder convention)::

    <root>/<class name>/<image>           # PNG, JPEG, NIfTI, a 2D DICOM file...
    <root>/<class name>/<sub>/<image>     # subfolders are searched too
    <root>/<class name>/<series>/*.dcm    # a folder of DICOM files is one image (a series)

Class indices follow the sorted class folder names. CSV layout: one row per image with a path column
(relative paths are resolved against the CSV's folder) and a label column (class indices or class names).
Items are ``{"image": path str, "label": int, "class_name": str}``, for MONAI's ``LoadImaged``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from .csv_labels import read_csv_table, required_cell

__all__ = ["CLASSIFICATION_EXTENSIONS", "DICOM_EXTENSIONS", "folder_classes", "folder_datalist", "csv_datalist"]

#: File name endings :func:`folder_datalist` lists by default (compared in lower case).
CLASSIFICATION_EXTENSIONS: tuple[str, ...] = (
    ".png",
    ".jpg",
    ".jpeg",
    ".bmp",
    ".tif",
    ".tiff",
    ".nii",
    ".nii.gz",
    ".mha",
    ".mhd",
    ".nrrd",
    ".dcm",
)
#: Endings of DICOM files; a folder holding such files (or extension-less files with the DICOM preamble) is a series.
DICOM_EXTENSIONS: tuple[str, ...] = (".dcm", ".dicom", ".ima")


def _hidden(path: Path) -> bool:
    return path.name.startswith(".")


def _is_dicom_file(path: Path) -> bool:
    name = path.name.lower()
    if name.endswith(DICOM_EXTENSIONS):
        return True
    if "." in name:
        return False
    try:
        with open(path, "rb") as f:
            return f.read(132)[128:132] == b"DICM"
    except OSError:
        return False


def _is_series_folder(folder: Path) -> bool:
    return any(p.is_file() and not _hidden(p) and _is_dicom_file(p) for p in folder.iterdir())


def folder_classes(root: str | Path) -> list[str]:
    """The class names of a folder-per-class dataset: its subfolder names, sorted (hidden ones skipped).

    Args:
        root: the dataset folder.

    Returns:
        Sorted class names; a class's index is its position in this list.

    Raises:
        FileNotFoundError: ``root`` is not a folder.
        ValueError: ``root`` has no class subfolder.
    """
    root = Path(root).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: dataset folder not found.")
    classes = sorted(p.name for p in root.iterdir() if p.is_dir() and not _hidden(p))
    if not classes:
        raise ValueError(f"{root}: has no class subfolder (expected <root>/<class name>/<images>).")
    return classes


def _collect(folder: Path, extensions: tuple[str, ...], series: bool) -> list[Path]:
    out = []
    for p in sorted(folder.iterdir()):
        if _hidden(p):
            continue
        if p.is_dir():
            out.extend([p] if series and _is_series_folder(p) else _collect(p, extensions, series))
        elif p.name.lower().endswith(extensions):
            out.append(p)
    return out


def folder_datalist(
    root: str | Path,
    extensions: Sequence[str] = CLASSIFICATION_EXTENSIONS,
    dicom_series: bool = True,
    classes: Sequence[str] | None = None,
) -> list[dict]:
    """Datalist of a folder-per-class dataset.

    Files directly in a class folder (or in its subfolders) whose names end with one of ``extensions`` are
    images; a subfolder holding DICOM files is one image (a series, for a reader such as
    :class:`noisymed.data.SimpleITKReader`), its files are not listed one by one.

    Args:
        root: the dataset folder, one subfolder per class.
        extensions: file name endings to list (case-insensitive).
        dicom_series: treat a subfolder of DICOM files as one image.
        classes: class names in index order, e.g. the training set's :func:`folder_classes` when reading a
            validation folder that may lack a class (None: this folder's sorted class folders). Every class
            folder must be one of them; a class without a folder is allowed.

    Returns:
        ``[{"image": path str, "label": class index, "class_name": str}, ...]``, by class then path.

    Raises:
        FileNotFoundError: ``root`` is not a folder.
        ValueError: no class folder, bad ``extensions``, a class folder with no image (named), or a class folder
            not in ``classes``.
    """
    if isinstance(extensions, str) or not extensions or not all(isinstance(e, str) and e for e in extensions):
        raise ValueError(f"extensions must be a non-empty list of endings such as '.png', got {extensions!r}.")
    ext = tuple(e.lower() if e.startswith(".") else f".{e.lower()}" for e in extensions)
    root = Path(root).expanduser()
    names = folder_classes(root)
    if classes is not None:
        classes = [str(c) for c in classes]
        if not classes or len(set(classes)) != len(classes):
            raise ValueError(f"classes must be distinct class names, got {classes!r}.")
        unknown = [n for n in names if n not in classes]
        if unknown:
            raise ValueError(f"{root}: class folders {unknown} are not in classes {classes}.")
    index = {n: i for i, n in enumerate(classes if classes is not None else names)}
    out = []
    for name in names:
        label = index[name]
        images = _collect(root / name, ext, dicom_series)
        if not images:
            raise ValueError(f"{root / name}: class folder {name!r} holds no image ending in {list(ext)}.")
        out.extend({"image": str(p), "label": label, "class_name": name} for p in images)
    return out


def _as_int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def _examples(lines: Sequence[int], limit: int = 5) -> str:
    shown = ", ".join(str(n) for n in lines[:limit])
    return (
        f"line {shown}"
        if len(lines) == 1
        else f"lines {shown}" + (f" and {len(lines) - limit} more" if len(lines) > limit else "")
    )


def _read_rows(csv_file: Path, image_col: str, label_col: str) -> list[tuple[int, str, str]]:
    """``(line, resolved image path, label text)`` of each row, refusing blank cells, missing and repeated images."""
    rows, seen = [], {}
    for line, row in read_csv_table(csv_file, (image_col, label_col))[1]:
        image, label = required_cell(row, image_col, csv_file, line), required_cell(row, label_col, csv_file, line)
        path = Path(image).expanduser()
        path = path if path.is_absolute() else csv_file.parent / path
        if not path.exists():
            raise ValueError(f"{csv_file}, line {line}: image {image!r} not found (looked at {path}).")
        real = os.path.realpath(path)
        if real in seen:
            raise ValueError(
                f"{csv_file}, line {line}: image {image!r} is already on line {seen[real]}; list each image once "
                "(a repeated image is trained on twice, or leaks between training and validation)."
            )
        seen[real] = line
        rows.append((line, str(path), label))
    return rows


def _label_names(
    csv_file: Path, label_col: str, rows: list[tuple[int, str, str]], classes: list[str] | None
) -> list[str] | None:
    """The class names labels index into (None: integer labels 0..K-1 used as they are); refuses mixed kinds and
    integer labels with gaps."""
    names = [
        (line, label) for line, _, label in rows if (classes is not None and label in classes) or _as_int(label) is None
    ]
    numbers = [
        (line, label)
        for line, _, label in rows
        if (classes is None or label not in classes) and _as_int(label) is not None
    ]
    if names and numbers:
        raise ValueError(
            f"{csv_file}: the {label_col!r} column mixes class names (e.g. {names[0][1]!r} on line {names[0][0]}) and "
            f"class indices (e.g. {numbers[0][1]!r} on line {numbers[0][0]}); write every label the same way."
        )
    if classes is not None:
        return classes
    if names:
        return sorted({label for _, label in names})
    values = sorted({_as_int(label) for _, label in numbers})
    gaps = sorted(set(range(values[-1] + 1)) - set(values)) if values[0] >= 0 else []
    if gaps:
        stray = [v for v in values if v > gaps[0]]
        lines = [line for line, label in numbers if _as_int(label) in stray]
        raise ValueError(
            f"{csv_file}: class indices {values} skip {gaps}, so label(s) {stray} ({_examples(lines)}) would train a "
            f"model of {values[-1] + 1} classes, {len(gaps)} of them without an image; fix the stray label(s), or "
            "declare the class names in index order (the bundle's class_names) if those classes really have no image."
        )
    return None


def csv_datalist(
    csv_file: str | Path, image_col: str = "path", label_col: str = "label", classes: Sequence[str] | None = None
) -> list[dict]:
    """Datalist of a CSV file with one image path and one label per row.

    Labels are class indices or class names, one kind per file. With ``classes`` given, a label equal to one of its
    names maps to that name's position, and an integer label is otherwise taken as the index (it must be below
    ``len(classes)``). Without ``classes``, integer labels are used as they are and must be ``0..K-1`` without a
    gap (a stray ``7`` in a binary set is refused, not taken for an 8-class task); name labels are indexed in
    sorted order.

    Args:
        csv_file: the CSV file (a header row naming the columns; UTF-8, an optional BOM is skipped).
        image_col: column of the image paths (files or DICOM series folders), absolute or relative to the CSV's
            folder.
        label_col: column of the labels.
        classes: class names in index order (None: see above).

    Returns:
        ``[{"image": absolute path str, "label": int, "class_name": str}, ...]`` in row order; ``class_name`` is the
        label text for integer labels without ``classes``.

    Raises:
        FileNotFoundError: the CSV is missing.
        ValueError: a file that is not UTF-8 (byte offset named), no data row, a missing column (the present ones are
            listed), an empty cell, an image path that does not exist or appears twice, labels mixing names and
            indices, integer labels with a gap, an unknown class name, a negative or too large class index,
            duplicate ``classes`` (each naming the CSV file and line).
    """
    csv_file = Path(csv_file).expanduser()
    if not csv_file.is_file():
        raise FileNotFoundError(f"{csv_file}: CSV file not found.")
    if classes is not None:
        classes = [str(c) for c in classes]
        dup = sorted({c for c in classes if classes.count(c) > 1})
        if not classes or dup:
            raise ValueError(f"classes must be distinct class names, got {classes!r}.")
    rows = _read_rows(csv_file, image_col, label_col)
    names = _label_names(csv_file, label_col, rows, classes)
    out = []
    for line, path, label in rows:
        if names is not None and label in names:
            index = names.index(label)
        elif _as_int(label) is not None:
            index = _as_int(label)
            if index < 0 or (names is not None and index >= len(names)):
                raise ValueError(
                    f"{csv_file}, line {line}: class index {index} is not in 0..{len(names) - 1 if names else 'K-1'}"
                    + (f" (classes {names})." if names else ".")
                )
        else:
            raise ValueError(f"{csv_file}, line {line}: unknown class {label!r}; classes are {names}.")
        out.append({"image": path, "label": index, "class_name": names[index] if names else label})
    return out
