from __future__ import annotations

import math

import pytest
import torch

from noisymed.losses import PseudoLabelConsistencyLoss, make_pseudo_labels


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def test_pseudo_labels_thresholds_and_observed_positive():
    weak = torch.tensor([[_logit(0.9), _logit(0.5), _logit(0.02)], [_logit(0.5), _logit(0.3), _logit(0.8)]])
    observed = torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    targets, mask = make_pseudo_labels(weak, observed, tau_pos=0.7, tau_neg=0.05)
    assert targets.tolist() == [[1, 1, 0], [0, 0, 1]]
    assert mask.tolist() == [[1, 1, 1], [0, 0, 1]]  # 0.5 and 0.3 are not confident; the observed 0.5 is kept
    weak.requires_grad_(True)
    assert not make_pseudo_labels(weak, observed)[0].requires_grad
    with pytest.raises(ValueError, match="tau_neg <= tau_pos"):
        make_pseudo_labels(weak, observed, tau_pos=0.3, tau_neg=0.5)


def test_exclusive_no_finding_class():
    # classes: finding a, finding b, "No Finding" (last)
    weak = torch.tensor([[_logit(0.9), _logit(0.5), _logit(0.8)], [_logit(0.9), _logit(0.3), _logit(0.5)], [_logit(0.5), _logit(0.02), _logit(0.95)]])
    observed = torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    targets, mask = make_pseudo_labels(weak, observed, tau_pos=0.7, tau_neg=0.05, exclusive_class=-1)
    # row 0: a confident -> 1, observed b -> 1, No Finding known 0 although p = 0.8
    # row 1: observed No Finding: everything else known 0 although p(a) = 0.9
    # row 2: observed a; b confident negative; No Finding known 0 although p = 0.95
    assert targets.tolist() == [[1, 1, 0], [0, 0, 1], [1, 0, 0]]
    assert mask.tolist() == [[1, 1, 1], [1, 1, 1], [1, 1, 1]]
    with pytest.raises(ValueError, match="out of range"):
        make_pseudo_labels(weak, observed, exclusive_class=3)


def test_masked_bce_over_all_entries():
    z = torch.tensor([[0.0, math.log(3.0)], [0.0, 0.0]])  # p = 0.5, 0.75, 0.5, 0.5
    targets = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    mask = torch.tensor([[1.0, 1.0], [0.0, 0.0]])
    # kept: -log 0.5 and -log(1 - 0.75) = ln 4; divided by all 4 entries
    assert PseudoLabelConsistencyLoss()(z, targets, mask).item() == pytest.approx((math.log(2) + math.log(4)) / 4)
    assert PseudoLabelConsistencyLoss()(z, targets, torch.zeros(2, 2)).item() == 0.0
    with pytest.raises(ValueError, match="shapes differ"):
        PseudoLabelConsistencyLoss()(z, targets[:1], mask)

