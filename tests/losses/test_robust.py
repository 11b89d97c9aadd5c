from __future__ import annotations

import math

import pytest
import torch

from noisymed.losses import GeneralizedCrossEntropyLoss, SymmetricCrossEntropyLoss

# softmax([0, ln 3]) = [0.25, 0.75]
LOGITS = torch.tensor([[0.0, math.log(3.0)], [0.0, math.log(3.0)]])
TARGET = torch.tensor([1, 0])


def test_gce_hand_computed():
    loss = GeneralizedCrossEntropyLoss(q=0.5, reduction="none")(LOGITS, TARGET)
    # (1 - 0.75 ** 0.5) / 0.5 and (1 - 0.25 ** 0.5) / 0.5
    assert torch.allclose(loss, torch.tensor([2 * (1 - math.sqrt(0.75)), 1.0]), atol=1e-6)
    mean = GeneralizedCrossEntropyLoss(q=0.5)(LOGITS, TARGET)
    assert mean.item() == pytest.approx((2 * (1 - math.sqrt(0.75)) + 1.0) / 2, abs=1e-6)


def test_gce_limits_mae_and_ce():
    mae = GeneralizedCrossEntropyLoss(q=1.0, reduction="none")(LOGITS, TARGET)
    assert torch.allclose(mae, torch.tensor([0.25, 0.75]), atol=1e-6)
    near_ce = GeneralizedCrossEntropyLoss(q=1e-4, reduction="none")(LOGITS, TARGET)
    assert torch.allclose(near_ce, torch.tensor([-math.log(0.75), -math.log(0.25)]), atol=1e-3)


def test_sce_hand_computed():
    loss = SymmetricCrossEntropyLoss(alpha=0.1, beta=1.0, log_zero=-4.0, reduction="none")(LOGITS, TARGET)
    expected = torch.tensor([0.1 * -math.log(0.75) + 4 * 0.25, 0.1 * -math.log(0.25) + 4 * 0.75])
    assert torch.allclose(loss, expected, atol=1e-6)
    summed = SymmetricCrossEntropyLoss(reduction="sum")(LOGITS, TARGET)
    assert summed.item() == pytest.approx(expected.sum().item(), abs=1e-5)


def test_targets_as_column_and_one_hot():
    gce = GeneralizedCrossEntropyLoss(q=0.7)
    ref = gce(LOGITS, TARGET)
    assert torch.allclose(gce(LOGITS, TARGET[:, None]), ref)
    assert torch.allclose(gce(LOGITS, torch.nn.functional.one_hot(TARGET, 2).float()), ref)


def test_gradients_flow():
    logits = LOGITS.clone().requires_grad_(True)
    SymmetricCrossEntropyLoss()(logits, TARGET).backward()
    assert logits.grad is not None and torch.isfinite(logits.grad).all() and logits.grad.abs().sum() > 0


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: GeneralizedCrossEntropyLoss(q=0.0), "q must be in"),
        (lambda: GeneralizedCrossEntropyLoss(q=1.5), "q must be in"),
        (lambda: GeneralizedCrossEntropyLoss(reduction="avg"), "reduction"),
        (lambda: SymmetricCrossEntropyLoss(alpha=-1), "alpha and beta"),
        (lambda: SymmetricCrossEntropyLoss(log_zero=0.0), "log_zero"),
    ],
)
def test_bad_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_bad_targets():
    with pytest.raises(ValueError, match="labels must be in 0..1"):
        GeneralizedCrossEntropyLoss()(LOGITS, torch.tensor([0, 2]))
    with pytest.raises(ValueError, match="3 labels for a batch of 2"):
        SymmetricCrossEntropyLoss()(LOGITS, torch.tensor([0, 1, 1]))
    with pytest.raises(ValueError, match="batch, classes"):
        GeneralizedCrossEntropyLoss()(torch.zeros(2, 2, 2), TARGET)
