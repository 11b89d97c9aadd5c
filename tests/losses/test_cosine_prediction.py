from __future__ import annotations

import math

import pytest
import torch

from noisymed.losses import BYOLLoss, SimSiamLoss

P1, P2 = torch.tensor([[2.0, 0.0]]), torch.tensor([[1.0, 1.0]])
Z1, Z2 = torch.tensor([[3.0, 0.0]]), torch.tensor([[0.0, 0.5]])


def test_simsiam_matches_the_hand_computed_value():
    # cos(p1, z2) = 0, cos(p2, z1) = 1/sqrt(2)
    assert SimSiamLoss()(P1, P2, Z1, Z2).item() == pytest.approx(-0.5 / math.sqrt(2), abs=1e-6)


def test_byol_is_the_mean_squared_distance_of_unit_vectors():
    # |(1,0) - (0,1)|^2 = 2 and |(1,1)/sqrt2 - (1,0)|^2 = 2 - sqrt2; their mean
    assert BYOLLoss()(P1, P2, Z1, Z2).item() == pytest.approx((2 + 2 - math.sqrt(2)) / 2, abs=1e-6)
    assert BYOLLoss()(P1, P2, Z1, Z2).item() == pytest.approx(2 + 2 * SimSiamLoss()(P1, P2, Z1, Z2).item(), abs=1e-6)


def test_targets_get_no_gradient():
    p1, p2 = torch.randn(4, 3, requires_grad=True), torch.randn(4, 3, requires_grad=True)
    z1, z2 = torch.randn(4, 3, requires_grad=True), torch.randn(4, 3, requires_grad=True)
    BYOLLoss()(p1, p2, z1, z2).backward()
    assert p1.grad is not None and p2.grad is not None and z1.grad is None and z2.grad is None


def test_shape_mismatch_is_named():
    with pytest.raises(ValueError, match=r"got shapes \[\(1, 2\), \(1, 2\), \(1, 2\), \(1, 3\)\]"):
        SimSiamLoss()(P1, P2, Z1, torch.zeros(1, 3))
