"""Training with the intra-group mixup attention module (the noisy-label paper's method, part 2)."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from monai.utils import CommonKeys as Keys
from torch import nn

from .loss_step_trainer import LossStepTrainer

__all__ = ["MixupAttentionTrainer"]


class MixupAttentionTrainer(LossStepTrainer):
    """``loss = L(head(f), y) + gamma * CE(head(f'), y')`` with ``(f', y')`` from the mixup attention module.

    ``f`` are the network's features of the batch, ``(f', y')`` the attention-weighted group mixtures of
    :class:`noisymed.networks.IntraGroupMixupAttention` (see there for the formulation), and ``CE`` the cross
    entropy with soft targets. The output holds ``pred`` (the plain logits), ``loss``, ``loss_plain``,
    ``loss_mixed`` and ``attention_min`` (the smallest mixing weight of the batch, a sign of suppression).

    Args:
        attention: an :class:`~noisymed.networks.IntraGroupMixupAttention`; its parameters must be in the optimizer.
        gamma: weight of the mixed loss (>= 0).
        kwargs: everything :class:`LossStepTrainer` takes; ``network`` must have ``forward_features`` and
            ``classify`` (e.g. :class:`noisymed.networks.FeatureClassifier`).

    Raises:
        TypeError: when the network lacks ``forward_features``/``classify``.
        ValueError: for a negative ``gamma``.
    """

    def __init__(self, *args: Any, attention: nn.Module, gamma: float = 1.0, **kwargs: Any) -> None:
        if gamma < 0:
            raise ValueError(f"gamma must be >= 0, got {gamma}.")
        super().__init__(*args, train_modules=[attention], **kwargs)
        net = getattr(self.network, "module", self.network)
        if not (callable(getattr(net, "forward_features", None)) and callable(getattr(net, "classify", None))):
            raise TypeError(f"{type(net).__name__} needs forward_features() and classify(), e.g. FeatureClassifier.")
        self.attention, self.gamma = attention, float(gamma)

    def forward(self, inputs: torch.Tensor, targets: torch.Tensor, batchdata: dict) -> dict[str, Any]:
        net = getattr(self.network, "module", self.network)
        features = net.forward_features(inputs)
        mixed = self.attention(features, targets)
        return {Keys.PRED: net.classify(features), "pred_mixed": net.classify(mixed.features), "mixed": mixed}

    def compute_loss(self, outputs: dict[str, Any], targets: torch.Tensor) -> dict[str, Any]:
        loss_plain = self.loss_function(outputs[Keys.PRED], targets).mean()
        loss_mixed = F.cross_entropy(outputs["pred_mixed"], outputs["mixed"].targets)
        return {
            Keys.LOSS: loss_plain + self.gamma * loss_mixed,
            "loss_plain": loss_plain,
            "loss_mixed": loss_mixed,
            "attention_min": outputs["mixed"].weights.min(),
        }
