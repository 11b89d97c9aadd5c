"""Co-teaching (Han et al., NeurIPS 2018) as a MONAI trainer: two networks teach each other with small-loss samples."""

from __future__ import annotations

from typing import Any

import torch
from monai.utils import CommonKeys as Keys
from torch import nn

from .loss_step_trainer import LossStepTrainer

__all__ = ["CoTeachingTrainer", "forget_rate"]


def forget_rate(epoch: int, rate: float, num_gradual: int = 10, exponent: float = 1.0) -> float:
    """The fraction of large-loss samples dropped at 0-based ``epoch``: ``rate * min(epoch / num_gradual, 1) ** exponent``.

    Args:
        epoch: 0-based epoch.
        rate: final forget rate ``tau`` (the paper sets it to the noise rate).
        num_gradual: epochs over which it ramps up (the paper's ``T_k``; 0 means no ramp).
        exponent: ``c`` in the paper's schedule.

    Returns:
        The forget rate in [0, rate].
    """
    if num_gradual <= 0:
        return float(rate)
    return float(rate) * min(epoch / num_gradual, 1.0) ** exponent


class CoTeachingTrainer(LossStepTrainer):
    """Each network updates on the samples its peer finds small-loss.

    Per batch, with per-sample losses ``l1``, ``l2`` of the two networks and ``R = 1 - forget_rate(epoch)``:
    network 1 is trained on the ``R * B`` samples with the smallest ``l2`` and network 2 on those with the
    smallest ``l1``. ``loss`` is the sum of both (their gradients do not mix). ``network`` (network 1) is the
    one kept for inference.

    Args:
        network2: the peer, the same architecture with a different initialisation; its parameters must be in
            the optimizer.
        rate: final forget rate in [0, 1) (the noise rate, when known).
        num_gradual: epochs of the linear ramp of the forget rate.
        exponent: exponent of the ramp.
        kwargs: everything :class:`LossStepTrainer` takes; ``loss_function`` must return per-sample losses
            (``reduction="none"``).

    Raises:
        ValueError: for ``rate`` outside [0, 1).

    Reference:
        Han B, et al. Co-teaching: Robust training of deep neural networks with extremely noisy labels. NeurIPS 2018.
    """

    def __init__(
        self, *args: Any, network2: nn.Module, rate: float, num_gradual: int = 10, exponent: float = 1.0, **kwargs: Any
    ) -> None:
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"rate must be in [0, 1), got {rate}.")
        super().__init__(*args, train_modules=[network2], **kwargs)
        self.network2, self.rate, self.num_gradual, self.exponent = network2, float(rate), num_gradual, exponent

    def forward(self, inputs: torch.Tensor, targets: torch.Tensor, batchdata: dict) -> dict[str, Any]:
        return {Keys.PRED: self.network(inputs), "pred2": self.network2(inputs)}

    def compute_loss(self, outputs: dict[str, Any], targets: torch.Tensor) -> dict[str, Any]:
        l1 = self.loss_function(outputs[Keys.PRED], targets).reshape(-1)
        l2 = self.loss_function(outputs["pred2"], targets).reshape(-1)
        if l1.shape[0] != targets.reshape(-1).shape[0]:
            raise ValueError("co-teaching needs per-sample losses: set the loss function's reduction to 'none'.")
        rate = forget_rate(self.state.epoch - 1, self.rate, self.num_gradual, self.exponent)
        keep = max(1, int(round((1.0 - rate) * l1.shape[0])))
        by_peer_2 = torch.argsort(l2.detach())[:keep]
        by_peer_1 = torch.argsort(l1.detach())[:keep]
        loss1, loss2 = l1[by_peer_2].mean(), l2[by_peer_1].mean()
        return {Keys.LOSS: loss1 + loss2, "loss_net1": loss1, "loss_net2": loss2, "forget_rate": torch.tensor(rate)}
