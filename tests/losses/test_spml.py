"""Every SPML loss against a value computed by hand from p = sigmoid(z)."""

from __future__ import annotations

import math

import pytest
import torch

from noisymed.losses import (
    AssumeNegativeLoss,
    EntropyMaximizationLoss,
    ExpectedPositiveLoss,
    FullLabelBCELoss,
    LabelSmoothingLoss,
    LargeLossLoss,
    ROLELoss,
    WeakAssumeNegativeLoss,
    spml_loss,
)

L3 = math.log(3.0)
# p = [[0.5, 0.75], [0.25, 0.5]]
Z = torch.tensor([[0.0, L3], [-L3, 0.0]])
Y = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
LN2, LN4, LN43 = math.log(2), math.log(4), math.log(4 / 3)


def test_assume_negative():
    # observed: -log 0.5 twice; assumed negatives: -log(1 - 0.75) = ln 4, -log(1 - 0.25) = ln 4/3
    assert AssumeNegativeLoss()(Z, Y).item() == pytest.approx((LN2 + LN4 + LN43 + LN2) / 4)
    assert AssumeNegativeLoss(neg_weight=0.5)(Z, Y).item() == pytest.approx((LN2 + 0.5 * LN4 + 0.5 * LN43 + LN2) / 4)


def test_weak_assume_negative_uses_one_over_c_minus_one():
    z = torch.tensor([[0.0, L3, -L3]])  # p = 0.5, 0.75, 0.25; C = 3 -> gamma = 1/2
    y = torch.tensor([[1.0, 0.0, 0.0]])
    assert WeakAssumeNegativeLoss(3)(z, y).item() == pytest.approx((LN2 + 0.5 * LN4 + 0.5 * LN43) / 3)


def test_label_smoothing():
    eps = 0.2  # targets 0.9 (observed) and 0.1 (assumed negative)
    a = -(0.1 * math.log(0.75) + 0.9 * math.log(0.25))
    b = -(0.1 * math.log(0.25) + 0.9 * math.log(0.75))
    assert LabelSmoothingLoss(eps)(Z, Y).item() == pytest.approx((LN2 + a + b + LN2) / 4)


def test_expected_positive_regularisation():
    # positives only: (ln2 + ln2) / 4; expected positives per image = mean(1.25, 0.75) = 1
    assert ExpectedPositiveLoss(1.0)(Z, Y).item() == pytest.approx(2 * LN2 / 4)
    assert ExpectedPositiveLoss(0.5)(Z, Y).item() == pytest.approx(2 * LN2 / 4 + (1.0 - 0.5) ** 2 / 4)
    assert ExpectedPositiveLoss(0.5, reg_weight=2.0)(Z, Y).item() == pytest.approx(2 * LN2 / 4 + 2 * 0.0625)


def test_role_value_and_gradients():
    loss_fn = ROLELoss(num_samples=3, num_classes=2, expected_positives=1.0)  # estimates start at 0.5
    assert torch.sigmoid(loss_fn.label_logits).flatten().tolist() == [0.5] * 6
    z = Z.clone().requires_grad_(True)
    loss = loss_fn(z, Y, index=torch.tensor([2, 0]))
    x = -(0.5 * math.log(0.75) + 0.5 * math.log(0.25))  # BCE(p, 0.5) for p = 0.75 or 0.25
    loss_p = (LN2 + x + x + LN2) / 4  # regulariser: (1 - 1)^2 = 0
    loss_y = LN2  # estimates 0.5 fit -log 0.5 and BCE(0.5, p) = ln 2; regulariser (1 - 1)^2 = 0
    assert loss.item() == pytest.approx(0.5 * (loss_p + loss_y))
    loss.backward()
    grad = loss_fn.label_logits.grad
    assert grad[1].abs().sum() == 0 and grad[0].abs().sum() > 0 and grad[2].abs().sum() > 0  # only indexed rows
    with pytest.raises(ValueError, match="needs the training-set index"):
        loss_fn(Z, Y)
    with pytest.raises(ValueError, match="index must hold 2 values"):
        loss_fn(Z, Y, index=torch.tensor([0, 3]))


def test_entropy_maximisation():
    h = -(0.75 * math.log(0.75) + 0.25 * math.log(0.25))  # H(0.75) = H(0.25)
    assert EntropyMaximizationLoss(alpha=0.5)(Z, Y).item() == pytest.approx((2 * LN2 - 0.5 * 2 * h) / 4)


def _softplus(x: float) -> float:
    return math.log1p(math.exp(x))


def test_large_loss_rejection_and_correction():
    z = torch.tensor([[2.0, 1.0, 0.0, -1.0]])
    y = torch.tensor([[1.0, 0.0, 0.0, 0.0]])
    an = (_softplus(-2) + _softplus(1) + _softplus(0) + _softplus(-1)) / 4
    rej, cor = LargeLossLoss("rejection", delta_rel=0.15), LargeLossLoss("correction", delta_rel=0.15)
    for fn in (rej, cor):
        fn.set_epoch(0)  # warm-up epoch: plain AN
        assert fn(z, y).item() == pytest.approx(an)
        fn.set_epoch(2)  # rate 0.3 -> ceil(0.3 * 3 unobserved) = 1 entry: the largest loss, z = 1
    assert rej(z, y).item() == pytest.approx((_softplus(-2) + _softplus(0) + _softplus(-1)) / 4)
    assert cor(z, y).item() == pytest.approx((_softplus(-2) + _softplus(-1) + _softplus(0) + _softplus(-1)) / 4)
    cor.set_epoch(100)
    assert cor.rate == 0.5  # capped at max_rate


def test_full_label_bce():
    target = torch.tensor([[1.0, 1.0], [0.0, 1.0]])
    assert FullLabelBCELoss()(Z, target).item() == pytest.approx((LN2 + LN43 + LN43 + LN2) / 4)


def test_factory_and_validation():
    assert isinstance(spml_loss("an", 3), AssumeNegativeLoss) and not isinstance(spml_loss("an", 3), WeakAssumeNegativeLoss)
    assert spml_loss("wan", 5).neg_weight == pytest.approx(0.25)
    assert spml_loss("epr", 3, expected_positives=2.0).k == 2.0
    assert spml_loss("role", 3, num_samples=10).label_logits.shape == (10, 3)
    assert spml_loss("ll_ct", 3).mode == "correction" and spml_loss("ll_r", 3).mode == "rejection"
    assert isinstance(spml_loss("full", 3), FullLabelBCELoss) and isinstance(spml_loss("em", 3), EntropyMaximizationLoss)
    assert isinstance(spml_loss("ls", 3), LabelSmoothingLoss)
    with pytest.raises(ValueError, match="method must be one of"):
        spml_loss("mpc", 3)
    with pytest.raises(ValueError, match="ROLE needs num_samples"):
        spml_loss("role", 3)
    with pytest.raises(ValueError, match="must both be"):
        AssumeNegativeLoss()(Z, Y[:, :1])
    with pytest.raises(ValueError, match="epsilon must be in"):
        LabelSmoothingLoss(1.0)
    with pytest.raises(ValueError, match="expected_positives must be > 0"):
        ExpectedPositiveLoss(0.0)
    with pytest.raises(ValueError, match="mode must be one of"):
        LargeLossLoss("permanent")
    with pytest.raises(ValueError, match="num_classes must be >= 2"):
        WeakAssumeNegativeLoss(1)
