"""Barlow Twins' redundancy-reduction loss.

Each embedding dimension is standardised over the batch (mean 0, variance 1, the biased variance plus ``eps`` as
in a batch norm without affine parameters), then the (D, D) cross-correlation of the two views is
``C = z1n^T z2n / B`` and

    L = sum_i (1 - C_ii)^2 + lambda * sum_{i != j} C_ij^2

pulls the views' dimensions together (diagonal to 1) and decorrelates different dimensions (off-diagonal to 0).

Reference:
    Zbontar J, et al. Barlow twins: self-supervised learning via redundancy reduction. ICML 2021.
"""

from __future__ import annotations

import torch
from torch.nn.modules.loss import _Loss

__all__ = ["BarlowTwinsLoss"]


class BarlowTwinsLoss(_Loss):
    """Barlow Twins loss of two views' embeddings.

    Args:
        lambda_offdiag: weight of the off-diagonal (redundancy) term, >= 0; the paper uses 5e-3 for D = 8192,
            about 1/D for smaller embeddings.
        eps: added to the variance before standardising.

    Raises:
        ValueError: for a negative ``lambda_offdiag`` or non-positive ``eps``.
    """

    def __init__(self, lambda_offdiag: float = 5e-3, eps: float = 1e-5) -> None:
        if lambda_offdiag < 0:
            raise ValueError(f"lambda_offdiag must be >= 0, got {lambda_offdiag}.")
        if eps <= 0:
            raise ValueError(f"eps must be > 0, got {eps}.")
        super().__init__()
        self.lambda_offdiag, self.eps = float(lambda_offdiag), float(eps)

    def _standardise(self, z: torch.Tensor) -> torch.Tensor:
        return (z - z.mean(0)) / torch.sqrt(z.var(0, unbiased=False) + self.eps)

    def forward(self, z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
        """The loss.

        Args:
            z1: (B, D) embeddings of the first view, B >= 2.
            z2: (B, D) embeddings of the second view.

        Returns:
            Scalar loss.

        Raises:
            ValueError: when the shapes differ, are not (B, D), or B < 2 (no batch statistics).
        """
        if z1.ndim != 2 or z1.shape != z2.shape:
            raise ValueError(f"views must both be (B, D), got {tuple(z1.shape)} and {tuple(z2.shape)}.")
        if z1.shape[0] < 2:
            raise ValueError(f"Barlow Twins standardises over the batch and needs B >= 2, got B = {z1.shape[0]}.")
        c = self._standardise(z1).t() @ self._standardise(z2) / z1.shape[0]
        diag = torch.diagonal(c)
        on = (1.0 - diag).pow(2).sum()
        off = c.pow(2).sum() - diag.pow(2).sum()
        return on + self.lambda_offdiag * off
