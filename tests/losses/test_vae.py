from __future__ import annotations

import math

import pytest
import torch

from noisymed.losses import VAELoss


def test_matches_the_hand_computed_value():
    target = torch.tensor([[[[1.0, 2.0], [0.0, 1.0]]], [[[0.5, 0.5], [0.5, 0.5]]]])
    recon = torch.stack([torch.zeros(1, 2, 2), target[1]])  # errors: 1 + 4 + 0 + 1 = 6, then 0
    mu = torch.tensor([[1.0, 0.0], [0.0, 0.0]])
    logvar = torch.tensor([[0.0, math.log(2.0)], [0.0, 0.0]])
    # KL of sample 1: -1/2 * ((1 + 0 - 1 - 1) + (1 + ln2 - 0 - 2)) = 1 - ln2 / 2; sample 2: 0
    kl = (1 - math.log(2) / 2) / 2
    r, k = VAELoss().terms(recon, target, mu, logvar)
    assert r.item() == pytest.approx(3.0) and k.item() == pytest.approx(kl, abs=1e-6)
    assert VAELoss(beta=2.0)(recon, target, mu, logvar).item() == pytest.approx(3.0 + 2 * kl, abs=1e-6)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="beta must be >= 0, got -1"):
        VAELoss(-1)
    with pytest.raises(ValueError, match=r"reconstruction \(1, 1, 2, 2\) and target \(1, 1, 3, 3\)"):
        VAELoss()(torch.zeros(1, 1, 2, 2), torch.zeros(1, 1, 3, 3), torch.zeros(1, 2), torch.zeros(1, 2))
    with pytest.raises(ValueError, match="mu and logvar must both be"):
        VAELoss()(torch.zeros(1, 1, 2, 2), torch.zeros(1, 1, 2, 2), torch.zeros(1, 2), torch.zeros(1, 3))
