"""The predictor-to-target cosine losses of the negative-free methods BYOL and SimSiam.

Both methods pass each of two views through an online branch ending in a predictor (``p1``, ``p2``) and compare
the prediction with the other view's target embedding (``z2``, ``z1``), whose gradient is stopped (a momentum
encoder's output in BYOL, the same encoder's in SimSiam). With ``cos`` the cosine similarity and both directions
averaged over the batch:

    SimSiam:  L = -1/2 * ( mean_i cos(p1_i, sg(z2_i)) + mean_i cos(p2_i, sg(z1_i)) )          in [-1, 1]
    BYOL:     L =  1/2 * ( mean_i ||p1_i/|p1_i| - z2_i/|z2_i| ||^2 + mean_i ||p2_i/|p2_i| - z1_i/|z1_i| ||^2 )
              =  2 + 2 * SimSiam                                                              in [0, 4]

BYOL's paper sums the two directions; the mean here halves that sum, which only rescales the learning rate.

References:
    Grill J-B, et al. Bootstrap your own latent. NeurIPS 2020.
    Chen X, He K. Exploring simple Siamese representation learning. CVPR 2021.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.nn.modules.loss import _Loss

__all__ = ["SimSiamLoss", "BYOLLoss"]


def _check(p1: torch.Tensor, p2: torch.Tensor, z1: torch.Tensor, z2: torch.Tensor) -> None:
    shapes = {tuple(t.shape) for t in (p1, p2, z1, z2)}
    if p1.ndim != 2 or len(shapes) != 1:
        got = [tuple(t.shape) for t in (p1, p2, z1, z2)]
        raise ValueError(f"predictions and targets must all be (B, D), got shapes {got}.")


def _mean_cosine(p1: torch.Tensor, p2: torch.Tensor, z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
    _check(p1, p2, z1, z2)
    cos12 = F.cosine_similarity(p1, z2.detach(), dim=1).mean()
    cos21 = F.cosine_similarity(p2, z1.detach(), dim=1).mean()
    return 0.5 * (cos12 + cos21)


class SimSiamLoss(_Loss):
    """Symmetrised negative cosine similarity with stop-gradient on the targets (SimSiam)."""

    def forward(self, p1: torch.Tensor, p2: torch.Tensor, z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
        """The loss.

        Args:
            p1: (B, D) predictions from view 1.
            p2: (B, D) predictions from view 2.
            z1: (B, D) targets of view 1 (detached here).
            z2: (B, D) targets of view 2 (detached here).

        Returns:
            Scalar loss in [-1, 1].

        Raises:
            ValueError: when the four tensors are not all the same (B, D) shape.
        """
        return -_mean_cosine(p1, p2, z1, z2)


class BYOLLoss(_Loss):
    """Symmetrised squared distance of the normalised prediction and target, ``2 - 2 cos`` (BYOL)."""

    def forward(self, p1: torch.Tensor, p2: torch.Tensor, z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
        """The loss.

        Args:
            p1: (B, D) online predictions from view 1.
            p2: (B, D) online predictions from view 2.
            z1: (B, D) target-network projections of view 1 (detached here).
            z2: (B, D) target-network projections of view 2 (detached here).

        Returns:
            Scalar loss in [0, 4].

        Raises:
            ValueError: when the four tensors are not all the same (B, D) shape.
        """
        return 2.0 - 2.0 * _mean_cosine(p1, p2, z1, z2)
