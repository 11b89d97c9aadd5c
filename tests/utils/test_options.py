from __future__ import annotations

import numpy as np
import pytest

from noisymed.utils import as_int, as_size, as_spacing


def test_as_int_accepts_whole_numbers_and_refuses_the_rest():
    assert as_int(8, "num_labeled") == 8
    assert as_int(np.int64(3), "num_labeled") == 3
    assert as_int(" 16 ", "num_labeled") == 16
    for bad in (2.5, "two", True, None, [8], "2.0"):
        with pytest.raises(ValueError, match=r"--num_labeled must be a whole number, got"):
            as_int(bad, "num_labeled")
    with pytest.raises(ValueError, match=r"--num_labeled must be >= 1, got 0"):
        as_int(0, "num_labeled", minimum=1)


def test_as_spacing():
    assert as_spacing([0.625, 0.625, 1], "pixdim") == [0.625, 0.625, 1.0]
    assert as_spacing((1, 2), "pixdim", length=2) == [1.0, 2.0]
    assert as_spacing(np.array([1.0, 1.0, 2.0])) == [1.0, 1.0, 2.0]
    with pytest.raises(ValueError, match=r"--pixdim must be a list of 3 positive numbers in mm.*got 'abc'"):
        as_spacing("abc", "pixdim")
    with pytest.raises(ValueError, match=r"--pixdim must have 3 values \(one per spatial axis\), got 2"):
        as_spacing([1.0, 1.0], "pixdim")
    for bad, culprit in (([1.0, 0.0, 1.0], "0.0"), ([1.0, -1.0, 1.0], "-1.0"), ([1.0, float("nan"), 1.0], "nan"), ([1, "x", 1], "'x'")):
        with pytest.raises(ValueError, match=rf"--spacing must be 3 finite positive numbers in mm, got .*\({culprit} is not\)"):
            as_spacing(bad, "spacing")


def test_as_size():
    assert as_size([112, 112, 80]) == [112, 112, 80]
    with pytest.raises(ValueError, match=r"--patch_size must be 3 whole numbers >= 1, got \[16, 16.5, 16\] \(16.5 is not\)"):
        as_size([16, 16.5, 16])
    with pytest.raises(ValueError, match=r"--patch_size must have 3 values .*got 2"):
        as_size([16, 16])
    with pytest.raises(ValueError, match=r"--patch_size must be 3 whole numbers >= 1, got \[16, 0, 16\]"):
        as_size([16, 0, 16])
    with pytest.raises(ValueError, match=r"--patch_size must be a list of 3"):
        as_size(16)
