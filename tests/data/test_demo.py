from __future__ import annotations

import numpy as np
import pytest

from noisymed.data import ensure_la_demo, la_splits, make_la_like_case


def test_demo_case_is_deterministic_and_la_like():
    a_img, a_lab = make_la_like_case(5, (40, 40, 24))
    b_img, b_lab = make_la_like_case(5, (40, 40, 24))
    assert np.array_equal(a_img, b_img) and np.array_equal(a_lab, b_lab)
    assert a_img.dtype == np.float32 and a_lab.dtype == np.uint8
    assert set(np.unique(a_lab)) == {0, 1}
    assert abs(a_img.mean()) < 1e-3 and abs(a_img.std() - 1) < 1e-3  # z-scored like mri_norm2
    assert 0.01 < a_lab.mean() < 0.2
    assert a_img[a_lab == 1].mean() > a_img[a_lab == 0].mean() + 1
    assert not np.array_equal(make_la_like_case(6, (40, 40, 24))[1], a_lab)


def test_ensure_demo_writes_the_real_layout_once(tmp_path):
    root = ensure_la_demo(tmp_path / "demo", num_train=3, num_test=1, shape=(32, 32, 16))
    split = la_splits(root, num_labeled=2, val_list="test.list")
    assert (len(split["labeled"]), len(split["unlabeled"]), len(split["val"])) == (2, 1, 1)
    mtime = (root / "DEMO000" / "mri_norm2.h5").stat().st_mtime
    ensure_la_demo(tmp_path / "demo", num_train=3, num_test=1, shape=(32, 32, 16))
    assert (root / "DEMO000" / "mri_norm2.h5").stat().st_mtime == mtime


def test_h5_demo_in_the_brats_and_pancreas_layouts_is_read_by_their_splits(tmp_path):
    from noisymed.data import brats_splits, ensure_h5_demo, pancreas_preprocessing, pancreas_splits

    brats = ensure_h5_demo(tmp_path / "brats", "brats", num_train=3, num_test=3, shape=(32, 32, 16))
    assert [(brats / n).read_text().split() for n in ("train.txt", "val.txt", "test.txt")] == [
        ["DEMO000", "DEMO001", "DEMO002"], ["DEMO003", "DEMO004"], ["DEMO005"]
    ]  # fmt: skip
    split = brats_splits(brats, num_labeled=2, train_list="train.txt", val_list="val.txt")
    assert (len(split["labeled"]), len(split["unlabeled"]), len(split["val"])) == (2, 1, 2)
    pancreas = ensure_h5_demo(tmp_path / "pancreas", "pancreas", num_train=2, num_test=1, shape=(32, 32, 16))
    assert sorted(p.name for p in pancreas.glob("*.h5")) == ["image0001_norm.h5", "image0002_norm.h5", "image0003_norm.h5"]
    split = pancreas_splits(pancreas, num_labeled=1, train_list="train.list", val_list="test.list")
    assert [i["case"] for i in split["labeled"] + split["unlabeled"] + split["val"]] == ["image0001", "image0002", "image0003"]
    assert pancreas_preprocessing(pancreas) == {"pixdim": [1.0, 1.0, 1.0], "window": [-125.0, 275.0]}
    with pytest.raises(ValueError, match="layout must be one of"):
        ensure_h5_demo(tmp_path / "x", "kits")
