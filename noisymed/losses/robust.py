"""Noise-robust classification losses: generalized cross entropy (GCE) and symmetric cross entropy (SCE).

GCE (Zhang & Sabuncu, NeurIPS 2018), with ``p_y`` the softmax probability of the given label:

    L_q = (1 - p_y^q) / q,   0 < q <= 1

``q -> 0`` gives cross entropy, ``q = 1`` gives MAE (``1 - p_y``), both bounds of the family.

SCE (Wang et al., ICCV 2019): ``alpha * CE + beta * RCE`` where the reverse cross entropy swaps the roles of
prediction and label, with ``log 0`` clipped to ``A``:

    RCE = -sum_k p_k log(y_k)  =  -A * (1 - p_y)       (y one-hot, log 0 := A < 0)

The paper's defaults for CIFAR-10 are ``alpha=0.1, beta=1.0, A=-4``.

References:
    Zhang Z, Sabuncu MR. Generalized cross entropy loss for training deep neural networks with noisy labels.
    NeurIPS 2018.
    Wang Y, Ma X, Chen Z, Luo Y, Yi J, Bailey J. Symmetric cross entropy for robust learning with noisy labels.
    ICCV 2019.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.nn.modules.loss import _Loss

from noisymed.utils import at_least_float32

__all__ = ["GeneralizedCrossEntropyLoss", "SymmetricCrossEntropyLoss", "REDUCTIONS"]

REDUCTIONS = ("mean", "sum", "none")


def _class_indices(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``target`` as a (B,) long tensor of class indices; accepts (B,), (B, 1) and one-hot (B, K) targets."""
    if logits.ndim != 2:
        raise ValueError(f"logits must be (batch, classes), got shape {tuple(logits.shape)}.")
    if target.ndim == 2 and target.shape[1] == logits.shape[1] and target.shape[1] > 1:
        target = target.argmax(1)
    target = target.reshape(-1).long()
    if target.shape[0] != logits.shape[0]:
        raise ValueError(f"target has {target.shape[0]} labels for a batch of {logits.shape[0]}.")
    if target.numel() and (target.min() < 0 or target.max() >= logits.shape[1]):
        raise ValueError(f"target labels must be in 0..{logits.shape[1] - 1}, got {target.min()}..{target.max()}.")
    return target


def _reduce(loss: torch.Tensor, reduction: str) -> torch.Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


class GeneralizedCrossEntropyLoss(_Loss):
    """Generalized cross entropy ``(1 - p_y^q) / q`` on logits.

    Args:
        q: the exponent, in (0, 1]; the paper uses 0.7.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (per sample).

    Raises:
        ValueError: for ``q`` outside (0, 1] or an unknown reduction.

    Example::

        loss = GeneralizedCrossEntropyLoss(q=0.7)
        loss(torch.randn(8, 3), torch.randint(0, 3, (8,)))
    """

    def __init__(self, q: float = 0.7, reduction: str = "mean") -> None:
        if not 0.0 < q <= 1.0:
            raise ValueError(f"q must be in (0, 1], got {q}.")
        if reduction not in REDUCTIONS:
            raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}.")
        super().__init__(reduction=reduction)
        self.q = float(q)

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Args: input: (B, K) logits. target: (B,), (B, 1) class indices or (B, K) one-hot."""
        target = _class_indices(input, target)
        p_y = F.softmax(at_least_float32(input), dim=1).gather(1, target[:, None]).squeeze(1)
        loss = (1.0 - p_y.clamp_min(1e-12) ** self.q) / self.q
        return _reduce(loss, self.reduction)


class SymmetricCrossEntropyLoss(_Loss):
    """Symmetric cross entropy ``alpha * CE + beta * RCE`` on logits.

    Args:
        alpha: weight of cross entropy.
        beta: weight of reverse cross entropy.
        log_zero: ``A``, the value ``log 0`` is clipped to (negative).
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (per sample).

    Raises:
        ValueError: for negative weights, a non-negative ``log_zero`` or an unknown reduction.
    """

    def __init__(self, alpha: float = 0.1, beta: float = 1.0, log_zero: float = -4.0, reduction: str = "mean") -> None:
        if alpha < 0 or beta < 0:
            raise ValueError(f"alpha and beta must be >= 0, got alpha={alpha}, beta={beta}.")
        if log_zero >= 0:
            raise ValueError(f"log_zero (A) must be negative, got {log_zero}.")
        if reduction not in REDUCTIONS:
            raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}.")
        super().__init__(reduction=reduction)
        self.alpha, self.beta, self.log_zero = float(alpha), float(beta), float(log_zero)

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Args: input: (B, K) logits. target: (B,), (B, 1) class indices or (B, K) one-hot."""
        target = _class_indices(input, target)
        ce = F.cross_entropy(input, target, reduction="none")
        p_y = F.softmax(at_least_float32(input), dim=1).gather(1, target[:, None]).squeeze(1)
        rce = -self.log_zero * (1.0 - p_y)
        return _reduce(self.alpha * ce + self.beta * rce, self.reduction)
