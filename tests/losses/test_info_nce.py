from __future__ import annotations

import math

import pytest
import torch

from noisymed.losses import InfoNCELoss


def test_matches_the_hand_computed_value():
    q = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    k = torch.tensor([[3.0, 0.0], [0.0, 1.0]])
    negatives = torch.tensor([[0.0, 1.0], [-1.0, 0.0]])
    # sample 1: logits (1, 0, -1); sample 2: logits (1, 1, 0); tau = 1, target is the first logit
    first = math.log(1 + math.exp(-1) + math.exp(-2))
    second = math.log(2 + math.exp(-1))
    assert InfoNCELoss(1.0)(q, k, negatives).item() == pytest.approx((first + second) / 2, abs=1e-6)
    # tau = 0.5 doubles every logit
    first = math.log(1 + math.exp(-2) + math.exp(-4))
    second = math.log(2 + math.exp(-2))
    assert InfoNCELoss(0.5)(q, k, negatives).item() == pytest.approx((first + second) / 2, abs=1e-6)


def test_empty_queue_gives_zero_and_keys_get_no_gradient():
    q = torch.randn(3, 4, requires_grad=True)
    k = torch.randn(3, 4, requires_grad=True)
    assert InfoNCELoss()(q, k, torch.zeros(0, 4)).item() == pytest.approx(0.0, abs=1e-7)
    InfoNCELoss()(q, k, torch.randn(5, 4)).backward()
    assert q.grad is not None and k.grad is None


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="temperature must be > 0, got 0"):
        InfoNCELoss(0)
    with pytest.raises(ValueError, match=r"negatives must be \(K, 4\), got \(2, 3\)"):
        InfoNCELoss()(torch.zeros(2, 4), torch.zeros(2, 4), torch.zeros(2, 3))
    with pytest.raises(ValueError, match="query and key must both be"):
        InfoNCELoss()(torch.zeros(2, 4), torch.zeros(3, 4), torch.zeros(2, 4))
