from __future__ import annotations

import os
import stat

import pytest

from noisymed.utils import write_text_atomic


def test_writes_the_whole_text_with_the_usual_mode_and_no_leftovers(tmp_path):
    path = write_text_atomic(tmp_path / "sub" / "a.json", "{\"é\": 1}\r\n")
    assert path.read_bytes() == "{\"é\": 1}\r\n".encode("utf-8")  # utf-8 whatever the locale; newlines kept
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
    write_text_atomic(path, "second")
    assert path.read_text() == "second" and sorted(p.name for p in path.parent.iterdir()) == ["a.json"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = write_text_atomic(tmp_path / "a.txt", "old")
    with pytest.raises(UnicodeEncodeError):
        write_text_atomic(path, "caf\u00e9", encoding="ascii")
    assert path.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]
