"""Write a file all at once, so that a reader (another rank, a later run) never sees half of it.

Every file noisymed writes goes through :func:`atomic_path`: the content is written to a temporary file in the
target's folder, synced to disk and renamed into place with ``os.replace``. A kill at any moment leaves either the
old file or the new one, never a truncated one, and a full disk says so and leaves the old file intact.
"""

from __future__ import annotations

import errno
import io
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = [
    "atomic_path",
    "write_bytes_atomic",
    "write_text_atomic",
    "torch_save_atomic",
    "remove_temporaries",
    "TEMP_MARK",
]

TEMP_MARK = ".tmp"
"""Part of every temporary name (``.<name>.<random>.tmp<suffixes>``): a leftover of a killed write matches
``.*.tmp*`` and is never taken for a finished file."""


def _usual_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _no_space(path: Path, err: OSError) -> OSError:
    return OSError(errno.ENOSPC, f"no space left on device while writing {path}; the previous file (if any) is intact")


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; on a clean exit it is synced and renamed to ``path``.

    The temporary name keeps the target's suffixes (``.nii.gz``, ``.pt``), so writers that pick a format from the
    file name (SimpleITK, nibabel) write the right one. It gets the usual file mode (``0666`` less the umask) and
    a unique name (several processes may write the same target at once; the last complete write wins). On any
    error the temporary file is removed and the target is left as it was. The parent folder is created.

    Args:
        path: the file to write.

    Yields:
        The temporary path to write the whole content to (a file, not a folder).

    Raises:
        OSError: ``errno.ENOSPC`` with the target named when the disk is full.
        FileNotFoundError: when the body wrote nothing at the temporary path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_MARK + "".join(path.suffixes))
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        if not tmp.is_file():
            raise FileNotFoundError(f"nothing was written to the temporary file of {path}.")
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, _usual_mode())
        os.replace(tmp, path)
    except OSError as err:
        if err.errno == errno.ENOSPC:
            raise _no_space(path, err) from err
        raise
    finally:
        if tmp.exists():
            tmp.unlink()


def write_bytes_atomic(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through :func:`atomic_path`.

    Args:
        path: the file to write.
        data: its whole content.

    Returns:
        ``path`` as a ``Path``.

    Raises:
        OSError: ``errno.ENOSPC`` with the target named when the disk is full (the old file stays).
    """
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        view = memoryview(data)
        while view:  # a short write on a nearly full disk would otherwise go unnoticed
            view = view[f.write(view) :]
        f.flush()
    return path


def write_text_atomic(path: str | Path, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` through :func:`atomic_path`.

    Args:
        path: the file to write.
        text: its whole content (newlines written as given).
        encoding: text encoding (explicit, as CI may run with an ASCII locale).

    Returns:
        ``path`` as a ``Path``.

    Raises:
        UnicodeEncodeError: when ``text`` cannot be encoded (nothing is written).
        OSError: ``errno.ENOSPC`` with the target named when the disk is full (the old file stays).
    """
    return write_bytes_atomic(path, text.encode(encoding))


def torch_save_atomic(obj: Any, path: str | Path) -> Path:
    """``torch.save(obj)`` to ``path`` through :func:`atomic_path`.

    The object is serialised in memory first, so a full disk raises ``OSError(ENOSPC)`` naming the file instead of
    torch's ``basic_ios::clear: iostream error``, and the previous file stays intact.

    Args:
        obj: what ``torch.save`` takes (a state dict, a dict of state dicts).
        path: the file to write.

    Returns:
        ``path`` as a ``Path``.
    """
    import torch

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return write_bytes_atomic(path, buffer.getbuffer())


def remove_temporaries(folder: str | Path, name: str) -> list[Path]:
    """Remove the temporary files that killed :func:`atomic_path` writes of ``folder/name`` left behind.

    Only call it where no other process is writing the same target at that moment (e.g. when a run starts).

    Args:
        folder: the targets' folder.
        name: the target's file name, or a glob of names (``"checkpoint_*.pt"``).

    Returns:
        The files removed (``.<name>.<random>.tmp<suffixes>``).
    """
    removed = []
    for leftover in sorted(Path(folder).glob(f".{name}.*{TEMP_MARK}*")):
        if leftover.is_file():
            leftover.unlink(missing_ok=True)
            removed.append(leftover)
    return removed
