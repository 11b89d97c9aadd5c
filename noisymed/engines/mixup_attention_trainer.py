"""Training with the intra-group mixup attention module (the noisy-label paper's method, part 2)."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from monai.utils import CommonKeys as Keys
from torch import nn

from noisymed.networks import WithFeatures

from .loss_step_trainer import LossStepTrainer

__all__ = ["MixupAttentionTrainer"]


class MixupAttentionTrainer(LossStepTrainer):
    """``loss = plain_weight * L(head(f), y) + gamma * CE(head(f'), y')``, ``(f', y')`` from the mixup attention module.

    ``f`` are the network's features of the batch, ``(f', y')`` the attention-weighted group mixtures of
    :class:`noisymed.networks.IntraGroupMixupAttention` (see there for the formulation), and ``CE`` the cross
    entropy with soft targets. The output holds ``pred`` (the plain logits), ``loss``, ``loss_plain``,
    ``loss_mixed`` and ``attention_min`` (the smallest mixing weight of the batch, a sign of suppression).

    Args:
        attention: an :class:`~noisymed.networks.IntraGroupMixupAttention`; its parameters must be in the optimizer.
        gamma: weight of the mixed loss (>= 0).
        plain_weight: weight of the loss on the un-mixed samples (>= 0). With 0 the classifier learns only from
            the attention-weighted mixtures, so a mislabeled sample reaches it only through the weight its group's
            attention gives it.
        kwargs: everything :class:`LossStepTrainer` takes; ``network`` is a
            :class:`~noisymed.networks.FeatureClassifier` (wrapped here in :class:`~noisymed.networks.WithFeatures`)
            or, for multi-GPU training, ``DistributedDataParallel(WithFeatures(net))``.

    Raises:
        TypeError: when the network lacks ``forward_features``/``classify``.
        ValueError: for a negative ``gamma`` or ``plain_weight``.
    """

    def __init__(
        self,
        *args: Any,
        network: nn.Module,
        attention: nn.Module,
        gamma: float = 1.0,
        plain_weight: float = 1.0,
        **kwargs: Any,
    ) -> None:
        if gamma < 0 or plain_weight < 0:
            raise ValueError(f"gamma and plain_weight must be >= 0, got {gamma}, {plain_weight}.")
        if not isinstance(getattr(network, "module", network), WithFeatures):
            network = WithFeatures(network)
        super().__init__(*args, network=network, train_modules=[attention], **kwargs)
        self.attention, self.gamma, self.plain_weight = attention, float(gamma), float(plain_weight)

    def forward(self, inputs: torch.Tensor, targets: torch.Tensor, batchdata: dict) -> dict[str, Any]:
        logits, features = self.network(inputs)
        mixed = self.attention(features, targets)
        head = getattr(self.network, "module", self.network)
        return {Keys.PRED: logits, "pred_mixed": head.classify(mixed.features), "mixed": mixed}

    def compute_loss(self, outputs: dict[str, Any], targets: torch.Tensor) -> dict[str, Any]:
        loss_plain = self.loss_function(outputs[Keys.PRED], targets).mean()
        loss_mixed = F.cross_entropy(outputs["pred_mixed"], outputs["mixed"].targets)
        return {
            Keys.LOSS: self.plain_weight * loss_plain + self.gamma * loss_mixed,
            "loss_plain": loss_plain,
            "loss_mixed": loss_mixed,
            "attention_min": outputs["mixed"].weights.min(),
        }
