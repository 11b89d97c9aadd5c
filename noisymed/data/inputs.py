"""Datalists for inference from what a user points at: image files or DICOM series folders."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

__all__ = ["image_datalist"]


def image_datalist(inputs: str | Path | Sequence[str | Path] | None, key: str = "image") -> list[dict]:
    """``[{key: path}, ...]`` for one or more inputs, each a file (NIfTI, MHA, a 2D DICOM...) or a DICOM series folder.

    Args:
        inputs: a path or a list of paths.
        key: datalist key.

    Returns:
        The datalist.

    Raises:
        ValueError: when nothing is given.
        FileNotFoundError: for a path that does not exist.
    """
    if inputs is None or (not isinstance(inputs, (str, Path)) and len(inputs) == 0):
        raise ValueError("no input given: set --input to a NIfTI file, a DICOM series folder, or a list of them.")
    paths = [inputs] if isinstance(inputs, (str, Path)) else list(inputs)
    out = []
    for p in paths:
        path = Path(p).expanduser()
        if not path.exists():
            raise FileNotFoundError(f"{path}: input not found.")
        out.append({key: str(path)})
    return out
