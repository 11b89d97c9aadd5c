"""Pseudo-label consistency for single-positive multi-label learning (the IPC / FPC / BTC terms of MPC).

One weak view gives the pseudo labels; other predictions of the same images (a strongly augmented view
for IPC, a feature-perturbed stream for FPC, the batch-transformer stream for BTC) are fitted to them
where confident. The thresholding follows FixMatch (Sohn et al., NeurIPS 2020) per label, as in the MPC
paper (Xiao et al., IEEE TMI 2024) and, for the feature-perturbation stream, UniMatch (Yang et al., CVPR 2023).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["check_thresholds", "make_pseudo_labels", "PseudoLabelConsistencyLoss"]


def check_thresholds(tau_pos: float, tau_neg: float) -> None:
    """Validate pseudo-label thresholds.

    Raises:
        ValueError: unless ``0 <= tau_neg <= tau_pos < 1`` and ``tau_pos > 0``.
    """
    if not 0.0 < tau_pos < 1.0 or not 0.0 <= tau_neg <= tau_pos:
        raise ValueError(f"need 0 <= tau_neg <= tau_pos < 1 and tau_pos > 0, got tau_pos={tau_pos}, tau_neg={tau_neg}.")


def make_pseudo_labels(
    weak_logits: torch.Tensor,
    observed: torch.Tensor,
    tau_pos: float = 0.7,
    tau_neg: float = 0.05,
    exclusive_class: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pseudo labels from the weak view: ``1`` where ``p > τ_pos``, ``0`` where ``p < τ_neg``, the observed
    positive forced to 1; entries in between are masked out.

    With ``exclusive_class`` (the "No Finding" class added by the single-positive simulation's
    ``"no_finding"`` rule) the known structure is applied: an image whose observed positive is that class
    has every other label 0, and an image with another observed positive has that class 0 (both kept).

    Args:
        weak_logits: ``(B, C)`` logits of the weak view (detached here).
        observed: ``(B, C)`` 0/1 observed positives.
        tau_pos: positive threshold in (0, 1).
        tau_neg: negative threshold in [0, τ_pos].
        exclusive_class: column of a class exclusive with all others, or None.

    Returns:
        ``(targets, mask)``, float ``(B, C)`` tensors; ``mask`` is 1 where the target is used.

    Raises:
        ValueError: for thresholds out of order or range, or mismatched shapes.
    """
    check_thresholds(tau_pos, tau_neg)
    if weak_logits.shape != observed.shape:
        raise ValueError(
            f"weak_logits {tuple(weak_logits.shape)} and observed {tuple(observed.shape)} differ in shape."
        )
    p = torch.sigmoid(weak_logits.detach())
    obs = observed.to(p.dtype) > 0.5
    positive = (p > tau_pos) | obs
    keep = (p > tau_pos) | (p < tau_neg) | obs
    if exclusive_class is not None:
        if not -p.shape[1] <= exclusive_class < p.shape[1]:
            raise ValueError(f"exclusive_class={exclusive_class} is out of range for {p.shape[1]} classes.")
        col = exclusive_class % p.shape[1]
        normal = obs[:, col]
        positive = torch.where(normal[:, None], obs, positive)  # a "No Finding" image has nothing else
        positive[~normal, col] = False  # an image with a finding is not "No Finding"
        keep = keep | normal[:, None]
        keep[:, col] = True
    return positive.to(p.dtype), keep.to(p.dtype)


class PseudoLabelConsistencyLoss(nn.Module):
    """Masked BCE of a prediction against pseudo labels: ``Σ_{i,c} m_ic BCE(z_ic, t_ic) / (B · C)``.

    Dividing by all ``B × C`` entries (not by the kept ones) lets the term grow as the pseudo labels
    become confident, as in FixMatch.
    """

    def forward(self, logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Args:
            logits: ``(B, C)`` prediction to be fitted.
            targets: ``(B, C)`` 0/1 pseudo labels.
            mask: ``(B, C)`` 0/1 weights.

        Returns:
            The scalar loss.

        Raises:
            ValueError: for mismatched shapes.
        """
        if logits.shape != targets.shape or logits.shape != mask.shape:
            raise ValueError(
                f"shapes differ: logits {tuple(logits.shape)}, targets {tuple(targets.shape)}, mask {tuple(mask.shape)}."
            )
        bce = F.binary_cross_entropy_with_logits(logits, targets.to(logits.dtype), reduction="none")
        return (mask.to(logits.dtype) * bce).sum() / logits.numel()
