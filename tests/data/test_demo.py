from __future__ import annotations

import numpy as np

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
