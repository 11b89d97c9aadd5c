"""Input mixup (Zhang et al., ICLR 2018) as a MONAI trainer: a noisy-label baseline."""

from __future__ import annotations

from typing import Any

import torch
from monai.utils import CommonKeys as Keys

from .loss_step_trainer import LossStepTrainer

__all__ = ["MixupTrainer"]


class MixupTrainer(LossStepTrainer):
    """Train on convex combinations of image pairs and of their labels' losses.

    Per batch, ``lam ~ Beta(alpha, alpha)`` and a random permutation ``pi``:
    ``x' = lam * x + (1 - lam) * x[pi]`` and ``loss = lam * L(f(x'), y) + (1 - lam) * L(f(x'), y[pi])``.
    Randomness comes from torch's global generator (seeded by ``monai.utils.set_determinism``).

    Args:
        alpha: Beta distribution parameter (> 0); the paper uses 1.0 for CIFAR.
        kwargs: everything :class:`LossStepTrainer` takes (``loss_function`` must accept class indices).

    Raises:
        ValueError: for ``alpha`` <= 0.

    Reference:
        Zhang H, Cisse M, Dauphin YN, Lopez-Paz D. mixup: Beyond empirical risk minimization. ICLR 2018.
    """

    def __init__(self, *args: Any, alpha: float = 1.0, **kwargs: Any) -> None:
        if alpha <= 0:
            raise ValueError(f"alpha must be > 0, got {alpha}.")
        super().__init__(*args, **kwargs)
        self.beta = torch.distributions.Beta(float(alpha), float(alpha))

    def forward(self, inputs: torch.Tensor, targets: torch.Tensor, batchdata: dict) -> dict[str, Any]:
        lam = float(self.beta.sample())
        perm = torch.randperm(inputs.shape[0]).to(inputs.device)
        mixed = lam * inputs + (1.0 - lam) * inputs[perm]
        return {Keys.PRED: self.network(mixed), "mixup_lambda": lam, "mixup_perm": perm}

    def compute_loss(self, outputs: dict[str, Any], targets: torch.Tensor) -> dict[str, Any]:
        lam, pred = outputs["mixup_lambda"], outputs[Keys.PRED]
        loss = lam * self.loss_function(pred, targets).mean()
        loss = loss + (1.0 - lam) * self.loss_function(pred, targets[outputs["mixup_perm"]]).mean()
        return {Keys.LOSS: loss}
