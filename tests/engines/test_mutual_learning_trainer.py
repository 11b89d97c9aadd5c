from __future__ import annotations

import math

import pytest

import torch
from monai.losses import DiceLoss

from noisymed.engines import MutualLearningTrainer
from noisymed.losses import ReliablePseudoLabelLoss
from noisymed.networks import TwoDecoderVNet
from noisymed.utils import ConsistencyWeight


def _batch():
    torch.manual_seed(0)
    image = torch.randn(4, 1, 16, 16, 16)
    label = (image > 0.5).float()
    label[2:] = 0  # unlabeled samples carry a dummy label that must not be used
    return {"image": image, "label": label, "labeled": torch.tensor([1, 1, 0, 0])}


def _trainer(mutual: bool, batch):
    net = TwoDecoderVNet(features=4)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    return net, MutualLearningTrainer(
        device=torch.device("cpu"),
        max_epochs=1,
        train_data_loader=[batch],
        network=net,
        optimizer=opt,
        supervised_loss=DiceLoss(to_onehot_y=True, softmax=True, include_background=False, batch=True),
        mutual_loss=ReliablePseudoLabelLoss() if mutual else None,
        consistency_weight=ConsistencyWeight(1.0, 40, 150),
        decollate=False,
    )


def test_one_iteration_updates_the_network_and_reports_the_parts():
    batch = _batch()
    net, trainer = _trainer(True, batch)
    before = [p.detach().clone() for p in net.parameters()]
    trainer.run()
    out = trainer.state.output
    assert trainer.state.iteration == 1
    assert torch.isfinite(out["loss"]) and out["loss_mutual"] > 0
    assert out["weight_mutual"] == ConsistencyWeight(1.0, 40, 150)(1)
    assert out["loss"].item() == (out["loss_sup"] + out["weight_mutual"] * out["loss_mutual"]).item()
    assert out["pred"].shape == (4, 2, 16, 16, 16)
    assert any(not torch.equal(a, b) for a, b in zip(before, net.parameters()))


def test_supervised_loss_uses_labeled_samples_only():
    batch = _batch()
    torch.manual_seed(1)
    _, trainer = _trainer(False, batch)
    trainer.run()
    sup_a = trainer.state.output["loss_sup"].item()
    batch2 = dict(batch)
    batch2["label"] = batch["label"].clone()
    batch2["label"][2:] = 1  # change only the unlabeled samples' dummy labels
    torch.manual_seed(1)
    _, trainer2 = _trainer(False, batch2)
    trainer2.run()
    assert trainer2.state.output["loss_sup"].item() == sup_a
    assert trainer2.state.output["loss_mutual"].item() == 0


def test_mutual_diagnostics_by_hand():
    from noisymed.engines import DIAGNOSTIC_KEYS, diagnostic_metrics, mutual_diagnostics
    from noisymed.losses import PseudoLabelTerm

    # four voxels, two classes: argmax A = [1, 1, 0, 0], argmax B = [1, 0, 0, 0]
    logits_a = torch.tensor([[0.0, 0.0, 1.0, 1.0], [1.0, 1.0, 0.0, 0.0]]).reshape(1, 2, 1, 4)
    logits_b = torch.tensor([[0.0, 1.0, 1.0, 1.0], [1.0, 0.0, 0.0, 0.0]]).reshape(1, 2, 1, 4)
    zero = torch.zeros(())
    a_from_b = PseudoLabelTerm(zero, torch.tensor([[[1.0, 0.0, 1.0, 0.0]]]), torch.tensor([[[0.2, 0.5, 0.6, 0.5]]]), None)
    b_from_a = PseudoLabelTerm(zero, torch.tensor([[[0.0, 1.0, 0.0, 0.0]]]), torch.tensor([[[0.1, 0.9, 0.1, 0.1]]]), None)
    d = mutual_diagnostics(logits_a, logits_b, (a_from_b, b_from_a))
    assert d["diag_agree"] == pytest.approx(0.75)  # voxels 0, 2, 3
    assert d["diag_fg_dice"] == pytest.approx(2 * 1 / (2 + 1))
    assert d["diag_mask_a"] == pytest.approx(0.5)
    assert d["diag_weight_mean"] == pytest.approx((0.2 + 0.6 + 0.9) / 3)
    assert d["diag_weight_p10"] == pytest.approx(0.2)
    plain = mutual_diagnostics(logits_a, logits_b)
    assert plain["diag_agree"] == pytest.approx(0.75) and math.isnan(plain["diag_mask_a"])
    assert set(diagnostic_metrics()) == set(DIAGNOSTIC_KEYS) == set(d)
