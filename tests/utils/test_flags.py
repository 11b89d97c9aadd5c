from __future__ import annotations

import numpy as np
import pytest

from noisymed.utils import as_bool


@pytest.mark.parametrize("text", ["true", "True", "TRUE", " yes ", "on", "1"])
def test_true_forms(text):
    assert as_bool(text) is True


@pytest.mark.parametrize("text", ["false", "False", "no", "OFF", "0", " false\n"])
def test_false_forms(text):
    assert as_bool(text) is False


def test_bools_numpy_bools_and_zero_one():
    assert as_bool(True) is True and as_bool(False) is False
    assert as_bool(np.bool_(True)) is True and as_bool(np.bool_(False)) is False
    assert as_bool(1) is True and as_bool(0) is False


@pytest.mark.parametrize("value", ["maybe", "", "2", 2, -1, None, 0.5, [True]])
def test_anything_else_is_refused_with_the_name(value):
    with pytest.raises(TypeError, match=r"resume must be a bool"):
        as_bool(value, "resume")
