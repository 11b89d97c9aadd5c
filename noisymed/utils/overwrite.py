"""One overwrite policy for every file a bundle writes: never replace an earlier run's result without being asked.

A run that would write over a file an earlier run left (a model, a mask, a CSV) stops before it writes anything,
names the file and says the two ways on: write elsewhere, or pass ``--overwrite true``. With ``overwrite`` a file
is replaced whole (atomically, see :mod:`noisymed.utils.atomic_write`), never appended to.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from .flags import as_bool

__all__ = ["refuse_overwrite"]


def refuse_overwrite(paths: str | Path | Iterable[str | Path], overwrite: bool | str = False, hint: str = "") -> None:
    """Raise when any of ``paths`` exists and ``overwrite`` is not set.

    Args:
        paths: the file(s) a run is about to write.
        overwrite: the run's ``overwrite`` option (a bool, or the text MONAI's command line passes).
        hint: what else the user can do, e.g. ``"pass another --output_dir"`` (added to the message).

    Raises:
        FileExistsError: naming the first existing file (and how many more) when ``overwrite`` is false.
        TypeError: for an ``overwrite`` value that is not a boolean.
    """
    if as_bool(overwrite, "overwrite"):
        return
    if isinstance(paths, (str, Path)):
        paths = [paths]
    existing = [Path(p) for p in paths if Path(p).exists()]
    if existing:
        more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
        ways = f"{hint}, or pass" if hint else "pass"
        raise FileExistsError(
            f"{existing[0]} already exists{more}: an earlier run's result is never replaced silently; "
            f"{ways} --overwrite true to replace it."
        )
