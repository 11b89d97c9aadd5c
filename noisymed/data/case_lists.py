"""Case lists of the semi-supervised literature (``train.list``, ``test.txt``): one case ID a line."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

__all__ = ["resolve_case_ids"]


def resolve_case_ids(
    dataset_dir: str | Path, cases: str | Path | Sequence[str], error: type[Exception] = ValueError
) -> tuple[list[str], str]:
    """The case IDs of a list file or of a list of IDs, and where they came from.

    A relative list file is looked for in ``dataset_dir`` first (the dataset's own list), then relative to the
    working folder (e.g. a bundle's ``splits/train.list``); a list found in neither is named under ``dataset_dir``.

    Args:
        dataset_dir: the dataset root.
        cases: a list file (blank lines and surrounding spaces ignored) or case IDs.
        error: the exception type to raise (a data source's own ``ValueError`` subclass).

    Returns:
        ``(ids, source)``: the IDs in list order, and the list file's path (or ``"the case list"``).

    Raises:
        error: for a missing or empty list file, or a case listed twice.
    """
    root = Path(dataset_dir).expanduser()
    if isinstance(cases, (str, Path)):
        given = Path(cases).expanduser()
        if given.is_absolute():
            path = given
        elif (root / given).is_file() or not given.is_file():
            path = root / given
        else:
            path = given
        if not path.is_file():
            raise error(f"{path}: case list not found.")
        ids = [line.strip() for line in path.read_text().splitlines() if line.strip()]
        source = str(path)
        if not ids:
            raise error(f"{path}: lists no case.")
    else:
        ids, source = [str(c).strip() for c in cases], "the case list"
    dup = sorted({c for c in ids if ids.count(c) > 1})
    if dup:
        raise error(f"{source}: lists these cases more than once: {dup}.")
    return ids, source
