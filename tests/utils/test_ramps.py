from __future__ import annotations

import math

import pytest

from noisymed.utils import ConsistencyWeight, sigmoid_rampup


def test_sigmoid_rampup_values():
    assert sigmoid_rampup(0, 40) == pytest.approx(math.exp(-5))
    assert sigmoid_rampup(20, 40) == pytest.approx(math.exp(-5 * 0.25))
    assert sigmoid_rampup(40, 40) == 1.0
    assert sigmoid_rampup(400, 40) == 1.0
    assert sigmoid_rampup(-3, 40) == pytest.approx(math.exp(-5))
    assert sigmoid_rampup(7, 0) == 1.0
    with pytest.raises(ValueError):
        sigmoid_rampup(1, -1)


def test_consistency_weight_uses_integer_steps_of_the_interval():
    lam = ConsistencyWeight(weight=1.0, length=40, interval=150)
    assert lam(149) == pytest.approx(math.exp(-5))  # still step 0
    assert lam(150) == pytest.approx(math.exp(-5 * (39 / 40) ** 2))
    assert lam(3000) == pytest.approx(math.exp(-5 * 0.25))
    assert lam(6000) == 1.0 and lam(15000) == 1.0
    assert ConsistencyWeight(weight=0.5, length=40, interval=150)(6000) == 0.5
    with pytest.raises(ValueError):
        ConsistencyWeight(interval=0)
