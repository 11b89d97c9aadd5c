"""Write a file all at once, so that a reader (another rank, a later run) never sees half of it."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["write_text_atomic"]


def write_text_atomic(path: str | Path, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` through a temporary file in the same folder and ``os.replace``.

    The temporary file has a unique name (several processes, e.g. multi-GPU ranks, may write the same
    path at once; the last complete write wins), is synced to disk before the rename, gets the usual file
    mode (``0666`` less the umask; ``mkstemp`` alone makes it private) and is removed if anything fails.
    The parent folder is created.

    Args:
        path: the file to write.
        text: its whole content.
        encoding: text encoding (explicit, as CI may run with an ASCII locale).

    Returns:
        ``path`` as a ``Path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding=encoding, newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path
