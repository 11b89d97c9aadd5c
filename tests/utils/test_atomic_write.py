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


def test_bytes_and_torch_writers_round_trip_and_keep_the_suffix_for_format_picking(tmp_path):
    import torch

    from noisymed.utils import atomic_path, torch_save_atomic, write_bytes_atomic

    assert write_bytes_atomic(tmp_path / "b.bin", b"\x00\x01" * 5).read_bytes() == b"\x00\x01" * 5
    state = {"w": torch.arange(6.0).reshape(2, 3)}
    loaded = torch.load(torch_save_atomic(state, tmp_path / "m.pt"), weights_only=True)
    assert torch.equal(loaded["w"], state["w"])
    with atomic_path(tmp_path / "mask.nii.gz") as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".mask.nii.gz.") and tmp.name.endswith(".tmp.nii.gz")
        tmp.write_bytes(b"x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.bin", "m.pt", "mask.nii.gz"]


def test_a_full_disk_is_named_and_leaves_the_old_file(tmp_path, monkeypatch):
    import errno

    import torch

    from noisymed.utils import torch_save_atomic

    path = torch_save_atomic({"w": torch.ones(2)}, tmp_path / "model.pt")

    def full(_fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError, match=r"no space left on device while writing .*model\.pt") as err:
        torch_save_atomic({"w": torch.zeros(2)}, path)
    assert err.value.errno == errno.ENOSPC
    monkeypatch.undo()
    assert torch.equal(torch.load(path, weights_only=True)["w"], torch.ones(2))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pt"]


def test_a_body_that_writes_nothing_is_an_error_and_leaves_no_file(tmp_path):
    from noisymed.utils import atomic_path

    with pytest.raises(FileNotFoundError, match="nothing was written"):
        with atomic_path(tmp_path / "x.csv") as tmp:
            tmp.unlink()
    assert list(tmp_path.iterdir()) == []


def test_remove_temporaries_removes_only_leftovers_of_the_named_targets(tmp_path):
    from noisymed.utils import remove_temporaries

    names = ["checkpoint_epoch=2.pt", ".checkpoint_epoch=3.pt.k2j_x.tmp.pt", ".model.pt.ab12.tmp.pt", ".hidden.pt"]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    assert [p.name for p in remove_temporaries(tmp_path, "checkpoint_*.pt")] == [".checkpoint_epoch=3.pt.k2j_x.tmp.pt"]
    assert [p.name for p in remove_temporaries(tmp_path, "model.pt")] == [".model.pt.ab12.tmp.pt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".hidden.pt", "checkpoint_epoch=2.pt"]
