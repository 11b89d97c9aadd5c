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

import csv
from collections.abc import Sequence
from pathlib import Path

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


def csv_datalist(
    csv_file: str | Path,
    image_col: str = "path",
    label_col: str = "label",
    classes: Sequence[str] | None = None,
) -> list[dict]:
    """Datalist of a CSV file with one image path and one label per row.

    Labels are class indices or class names. With ``classes`` given, a label equal to one of its names maps
    to that name's position, and an integer label is otherwise taken as the index (it must be below
    ``len(classes)``). Without ``classes``, integer labels are used as they are if every label is an integer,
    and otherwise all labels are names, indexed in sorted order.

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
        ValueError: no data row, a missing column (the present ones are listed), an empty cell, an image path
            that does not exist, an unknown class name, a negative or too large class index, duplicate
            ``classes`` (each naming the CSV line).
    """
    csv_file = Path(csv_file).expanduser()
    if not csv_file.is_file():
        raise FileNotFoundError(f"{csv_file}: CSV file not found.")
    if classes is not None:
        classes = [str(c) for c in classes]
        dup = sorted({c for c in classes if classes.count(c) > 1})
        if not classes or dup:
            raise ValueError(f"classes must be distinct class names, got {classes!r}.")
    base = csv_file.parent
    rows = []
    with open(csv_file, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        columns = reader.fieldnames or []
        missing = [c for c in (image_col, label_col) if c not in columns]
        if missing:
            raise ValueError(f"{csv_file}: has no column {missing}; its columns are {columns}.")
        for row in reader:
            line = reader.line_num
            image, label = (row.get(image_col) or "").strip(), (row.get(label_col) or "").strip()
            if not image or not label:
                empty = image_col if not image else label_col
                raise ValueError(f"{csv_file}, line {line}: empty {empty!r} cell.")
            path = Path(image).expanduser()
            path = path if path.is_absolute() else base / path
            if not path.exists():
                raise ValueError(f"{csv_file}, line {line}: image {image!r} not found (looked at {path}).")
            rows.append((line, str(path), label))
    if not rows:
        raise ValueError(f"{csv_file}: holds no data row.")

    if classes is None:
        if all(_as_int(label) is not None for _, _, label in rows):
            names = None
        else:
            names = sorted({label for _, _, label in rows})
    else:
        names = classes
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
