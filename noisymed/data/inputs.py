"""Datalists for inference from what a user points at: image files or DICOM series folders, and where outputs go."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from noisymed.utils import refuse_overwrite

from .classification import _is_series_folder

__all__ = ["image_datalist", "segmentation_datalist", "plan_mask_paths", "expand_volume_folder", "VOLUME_SUFFIXES"]


def image_datalist(
    inputs: str | Path | Sequence[str | Path] | None,
    key: str = "image",
    expand: Sequence[str] | None = None,
    datalist_key: str = "testing",
    unique: bool = True,
) -> list[dict]:
    """``[{key: path}, ...]`` for one or more inputs: files (NIfTI, PNG, a 2D DICOM...), folders, MONAI datalists.

    - a file ending with ``.json`` is a MONAI (Decathlon-style) datalist: its ``datalist_key`` list is read, items
      plain paths or ``{key: path, ...}`` dicts, relative paths taken from the JSON's folder as
      :func:`monai.data.load_decathlon_datalist` does (which converts plain paths only for a ``"test"`` list);
    - a folder, when ``expand`` names file endings, stands for the files with those endings directly in it (name
      order); a folder holding DICOM files stays one input (a series: a 2D bundle refuses it as a volume rather
      than classify its slices one by one), as does one holding none; without ``expand`` a folder is one input;
    - with ``unique``, the same file given twice is refused: its outputs would be one.

    Args:
        inputs: a path or a list of paths.
        key: datalist key.
        expand: file name endings a folder is expanded to (compared in lower case); None: no expansion.
        datalist_key: the list a MONAI datalist JSON is read from.
        unique: refuse an input given twice (off where the caller names the clash itself).

    Returns:
        The datalist.

    Raises:
        ValueError: when nothing is given, a datalist lacks ``datalist_key`` or an item lacks ``key``, or an input
            is given twice.
        FileNotFoundError: for a path that does not exist.
    """
    if inputs is None or (not isinstance(inputs, (str, Path)) and len(inputs) == 0):
        raise ValueError("no input given: set --input to a NIfTI file, a DICOM series folder, or a list of them.")
    paths = [inputs] if isinstance(inputs, (str, Path)) else list(inputs)
    endings = tuple(e.lower() for e in expand) if expand is not None else None
    out: list[dict] = []
    for p in paths:
        path = Path(p).expanduser()
        if not path.exists():
            raise FileNotFoundError(f"{path}: input not found.")
        if path.is_file() and path.name.lower().endswith(".json"):
            out.extend(_read_datalist(path, key, datalist_key))
        elif path.is_dir() and endings is not None and not _is_series_folder(path):
            files = sorted(f for f in path.iterdir() if f.is_file() and f.name.lower().endswith(endings))
            out.extend({key: str(f)} for f in files or [path])
        else:
            out.append({key: str(path)})
    seen: dict[Path, str] = {}
    for item in out if unique else []:
        resolved = Path(item[key]).resolve()
        if resolved in seen:
            raise ValueError(f"{item[key]} is given twice (also as {seen[resolved]}): give each input once.")
        seen[resolved] = item[key]
    return out


def _read_datalist(path: Path, key: str, datalist_key: str) -> list[dict]:
    """The ``datalist_key`` items of a MONAI datalist JSON, paths made absolute and checked."""
    import json

    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path}: not a readable JSON datalist ({err}).") from err
    if not isinstance(content, dict) or datalist_key not in content:
        found = sorted(content) if isinstance(content, dict) else type(content).__name__
        raise ValueError(f"{path}: a MONAI datalist with a {datalist_key!r} list is expected, found {found}.")
    items = content[datalist_key]
    if not isinstance(items, list) or any(isinstance(i, dict) and key not in i for i in items):
        raise ValueError(f"{path}: every item of {datalist_key!r} must be a path or a dict with {key!r}.")
    out = []
    for item in items:
        item = {key: item} if isinstance(item, str) else dict(item)
        target = Path(item[key]).expanduser()
        target = target if target.is_absolute() else path.parent / target  # relative to the JSON, as MONAI reads it
        if not target.exists():
            raise FileNotFoundError(f"{target}: listed in {path} but not found.")
        out.append({**item, key: str(target)})
    return out


#: File name endings of volumes a folder given as input is expanded to (a folder without any is a DICOM series).
VOLUME_SUFFIXES: tuple[str, ...] = (".nii.gz", ".nii", ".mha", ".mhd", ".nrrd", ".nhdr")
_STRIP_SUFFIXES = (*VOLUME_SUFFIXES, ".dcm", ".dicom", ".ima", ".img", ".hdr")


def _stem(path: Path) -> str:
    name = path.name
    for suffix in _STRIP_SUFFIXES:
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def expand_volume_folder(path: str | Path) -> list[Path]:
    """The volumes an input path stands for: a folder holding volume files stands for those files (the names
    ending with :data:`VOLUME_SUFFIXES` directly in it, in name order); any other folder is one DICOM series, and
    a file is itself.

    Args:
        path: an input file or folder.

    Returns:
        The paths, one per volume.
    """
    path = Path(path)
    if not path.is_dir():
        return [path]
    volumes = sorted(p for p in path.iterdir() if p.is_file() and p.name.lower().endswith(VOLUME_SUFFIXES))
    return volumes or [path]


def segmentation_datalist(
    inputs: str | Path | Sequence[str | Path] | None,
    output_dir: str | Path,
    postfix: str = "seg",
    extension: str = ".nii.gz",
    overwrite: bool | str = False,
    key: str = "image",
    output_key: str = "output",
) -> list[dict]:
    """``[{key: input, output_key: mask path}, ...]``: the inputs of a segmentation run and where each mask goes.

    Inputs are files (NIfTI, MHA, NRRD...), DICOM series folders, or folders of volume files (expanded to the
    files ending with :data:`VOLUME_SUFFIXES` directly in them, in name order).

    Naming rule: the mask of ``<folder>/<name>.<ext>`` (or of the DICOM folder ``<folder>/<name>``) is
    ``<output_dir>/<sub>/<name>_<postfix><extension>``, where ``<sub>`` is ``<folder>`` relative to the deepest
    folder holding all inputs (empty for a single input or inputs of one folder). Inputs of different folders
    with the same name therefore get different masks; two inputs that would still share one (the same file
    given twice, ``case.nii`` beside ``case.nii.gz``) are refused. Everything is checked before anything is
    written: with ``overwrite`` false an existing mask stops the run, naming it.

    Args:
        inputs: a path or a list of paths.
        output_dir: the folder of the masks.
        postfix: added to each input's name.
        extension: file name ending of the masks (picks the format).
        overwrite: replace masks an earlier run wrote.
        key: datalist key of the input.
        output_key: datalist key of the planned mask path.

    Returns:
        The datalist.

    Raises:
        ValueError: when nothing is given, or two inputs would write one mask.
        FileNotFoundError: for a path that does not exist.
        FileExistsError: for a mask that exists when ``overwrite`` is false.
    """
    items = [Path(item[key]) for item in image_datalist(inputs, key, unique=False)]
    paths = [p for item in items for p in expand_volume_folder(item)]
    targets = plan_mask_paths(paths, output_dir, postfix=postfix, extension=extension, overwrite=overwrite)
    return [{key: str(path), output_key: str(target)} for path, target in zip(paths, targets, strict=True)]


def plan_mask_paths(
    sources: Sequence[str | Path],
    output_dir: str | Path,
    postfix: str = "seg",
    extension: str = ".nii.gz",
    overwrite: bool | str = False,
) -> list[Path]:
    """Where the mask of each source goes, by the naming rule of :func:`segmentation_datalist`, checked first.

    ``sources`` are the paths that name the cases (an image file, a DICOM series folder, a case folder).

    Args:
        sources: one path per case, existing.
        output_dir: the folder of the masks.
        postfix: added to each source's name.
        extension: file name ending of the masks (picks the format).
        overwrite: replace masks an earlier run wrote.

    Returns:
        One mask path per source, in order.

    Raises:
        ValueError: when no source is given, or two sources would write one mask.
        FileExistsError: for a mask that exists when ``overwrite`` is false.
    """
    paths = [Path(p).expanduser() for p in sources]
    if not paths:
        raise ValueError("no input to plan masks for.")
    parents = [p.resolve().parent for p in paths]
    common = Path(os.path.commonpath([str(p) for p in parents]))
    out_dir = Path(output_dir).expanduser()
    planned: dict[Path, Path] = {}
    for path, parent in zip(paths, parents, strict=True):
        target = out_dir / parent.relative_to(common) / f"{_stem(path)}_{postfix}{extension}"
        if target in planned:
            raise ValueError(
                f"{planned[target]} and {path} would both write {target}: give each input once, and do not give "
                "two volumes that differ only in their extension."
            )
        planned[target] = path
    refuse_overwrite(list(planned), overwrite, hint="pass another --output_dir")
    return list(planned)
