from __future__ import annotations

import math

import pytest
import torch
from monai.losses import ContrastiveLoss

from noisymed.losses import SupConLoss


def test_supcon_hand_computed():
    # z = [e1, e2, e1, e2], tau = 1, every sample in one class: each anchor has 3 positives among 3 others,
    # logits to the others are [0, 1, 0] (its own copy at 1) -> loss = log(2 + e) - 1/3
    v = torch.eye(2)
    loss = SupConLoss(temperature=1.0)(v, v.clone(), torch.tensor([0, 0]))
    assert loss.item() == pytest.approx(math.log(2 + math.e) - 1 / 3, abs=1e-6)


def test_supcon_without_labels_equals_monai_nt_xent():
    torch.manual_seed(0)
    a, b = torch.randn(6, 8), torch.randn(6, 8)
    for tau in (0.1, 0.5, 1.0):
        ours = SupConLoss(temperature=tau)(a, b)
        monai = ContrastiveLoss(temperature=tau)(a, b)
        assert ours.item() == pytest.approx(monai.item(), rel=1e-5)
    # distinct labels are the same as no labels
    assert SupConLoss(0.5)(a, b, torch.arange(6)).item() == pytest.approx(SupConLoss(0.5)(a, b).item(), rel=1e-6)


def test_same_class_pulls_together():
    torch.manual_seed(1)
    a = torch.randn(4, 3, requires_grad=True)
    b = a.detach() + 0.01 * torch.randn(4, 3)
    SupConLoss(0.5)(a, b, torch.tensor([0, 0, 1, 1])).backward()
    assert a.grad is not None and torch.isfinite(a.grad).all()


def test_errors():
    with pytest.raises(ValueError, match="temperature"):
        SupConLoss(0.0)
    with pytest.raises(ValueError, match="views must both be"):
        SupConLoss()(torch.zeros(2, 3), torch.zeros(3, 3))
    with pytest.raises(ValueError, match="labels has 3 entries for a batch of 2"):
        SupConLoss()(torch.zeros(2, 3), torch.zeros(2, 3), torch.tensor([0, 1, 1]))
