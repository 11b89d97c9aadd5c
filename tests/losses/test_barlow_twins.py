from __future__ import annotations

import pytest
import torch

from noisymed.losses import BarlowTwinsLoss

# standardised over the batch: z1 -> [[1, -1], [-1, 1]], z2 -> [[1, 1], [-1, -1]]
Z1 = torch.tensor([[1.0, 0.0], [-1.0, 2.0]])
Z2 = torch.tensor([[2.0, 5.0], [0.0, 3.0]])


def test_matches_the_hand_computed_value():
    # C = [[1, 1], [-1, -1]]: on-diagonal (1-1)^2 + (1+1)^2 = 4, off-diagonal 1 + 1 = 2
    assert BarlowTwinsLoss(lambda_offdiag=0.5, eps=1e-12)(Z1, Z2).item() == pytest.approx(4 + 0.5 * 2, abs=1e-5)
    # eps shrinks C by 1 / (1 + eps): C_11 = -1/(1+eps)
    c = 1 / (1 + 1e-5)
    expected = (1 - c) ** 2 + (1 + c) ** 2 + 5e-3 * 2 * c**2
    assert BarlowTwinsLoss()(Z1, Z2).item() == pytest.approx(expected, rel=1e-5)


def test_identical_decorrelated_views_give_zero():
    z = torch.tensor([[1.0, 1.0], [1.0, -1.0], [-1.0, 1.0], [-1.0, -1.0]])
    assert BarlowTwinsLoss(lambda_offdiag=1.0, eps=1e-12)(z, z).item() == pytest.approx(0.0, abs=1e-6)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="needs B >= 2, got B = 1"):
        BarlowTwinsLoss()(torch.zeros(1, 3), torch.zeros(1, 3))
    with pytest.raises(ValueError, match="lambda_offdiag must be >= 0"):
        BarlowTwinsLoss(-1)
    with pytest.raises(ValueError, match="views must both be"):
        BarlowTwinsLoss()(torch.zeros(2, 3), torch.zeros(2, 4))
