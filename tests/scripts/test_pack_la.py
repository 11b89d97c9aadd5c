"""pack_la.py: crop box, quantisation error bound, exact labels, unpack into the bundle's layout, refusals."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

import pack_la  # noqa: E402
from tests.conftest import write_la_case  # noqa: E402


def test_crop_box_keeps_the_label_and_the_minimum_size():
    label = np.zeros((30, 20, 10), np.uint8)
    label[2:5, 14:18, 3:6] = 1
    box = pack_la.crop_box(label, (8, 8, 8), 1)
    assert [(b.start, b.stop) for b in box] == [(0, 8), (12, 20), (0, 8)]
    assert label[box].sum() == label.sum()
    whole = pack_la.crop_box(label, (40, 40, 40), 0)  # larger than the volume: the whole volume
    assert [(b.start, b.stop) for b in whole] == [(0, 30), (0, 20), (0, 10)]
    with pytest.raises(ValueError, match="label is empty"):
        pack_la.crop_box(np.zeros((4, 4, 4)), (2, 2, 2), 0)


def test_quantise_error_is_half_a_step():
    image = np.random.default_rng(0).standard_normal((20, 20, 20)).astype(np.float32)
    codes, lo, hi = pack_la.quantise(image, 63)
    assert codes.dtype == np.uint8 and codes.max() == 63 and lo == image.min()
    back = pack_la.dequantise(codes, lo, hi, 63)
    inside = image <= hi
    assert np.abs(back - image)[inside].max() <= (hi - lo) / 63 / 2 + 1e-6
    assert (1 - inside.mean()) <= 0.0011  # the brightest 0.1 % saturate


@pytest.fixture
def la_dir(tmp_path):
    root = tmp_path / "la"
    rng = np.random.default_rng(1)
    names = []
    for i in range(3):
        label = np.zeros((24, 22, 12), np.uint8)
        label[5 + i : 12 + i, 6:14, 3:9] = 1
        write_la_case(root, f"CASE{i}", image=rng.standard_normal((24, 22, 12)).astype(np.float32), label=label)
        names.append(f"CASE{i}")
    (root / "train.list").write_text("\n".join(names) + "\n")
    return root


def test_pack_verify_unpack_round_trip(tmp_path, la_dir):
    import h5py

    from noisymed.data import la_splits

    pack = tmp_path / "la.pack"
    assert pack_la.main(["pack", "--dataset_dir", str(la_dir), "--out", str(pack), "--min_size", "16,16,8"]) == 0
    report = pack_la.verify(pack, la_dir)
    assert report["cases"] == 3 and report["labels_identical"] and report["min_label_dice"] == 1.0
    assert all(r["max_abs_error"] <= r["step"] / 2 + 1e-6 for r in report["per_case"])
    out = tmp_path / "unpacked"
    assert pack_la.unpack(pack, out) == ["CASE0", "CASE1", "CASE2"]
    with h5py.File(out / "CASE1" / "mri_norm2.h5") as f:
        assert f["image"].shape == (16, 16, 8) and f["image"].dtype == np.float32
        assert f["label"][()].sum() == 7 * 8 * 6
    split = la_splits(out, 1, num_val=1)  # the bundle reads the unpacked folder
    assert [c["case"] for c in split["val"]] == ["CASE2"]
    with pytest.raises(FileExistsError, match="empty folder"):
        pack_la.unpack(pack, out)
    with pytest.raises(FileExistsError, match="--overwrite true"):
        pack_la.main(["pack", "--dataset_dir", str(la_dir), "--out", str(pack)])


def test_bad_inputs_are_named(tmp_path, la_dir):
    bad = tmp_path / "bad.pack"
    bad.write_bytes(b"not a tar file at all" * 100)
    with pytest.raises(ValueError, match="bad.pack"):
        next(pack_la.read_pack(bad))
    write_la_case(la_dir, "CASE0", label=np.full((24, 22, 12), 2, np.uint8))
    with pytest.raises(ValueError, match=r"CASE0.*label values \[2\]"):
        pack_la.pack(la_dir, tmp_path / "x.pack", "train.list", (8, 8, 8), 0, 63)
    assert not (tmp_path / "x.pack").exists()  # nothing half-written
    with pytest.raises(ValueError, match="levels"):
        pack_la.pack(la_dir, tmp_path / "y.pack", "train.list", (8, 8, 8), 0, 300)
