"""The MLP projection head of contrastive pretraining (SimCLR / SupCon), used in training only."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["ProjectionHead"]


class ProjectionHead(nn.Module):
    """``Linear -> BatchNorm -> ReLU -> Linear``: features to the embedding the contrastive loss sees.

    The contrastive loss is computed on this embedding and the head is dropped after pretraining
    (Chen et al., ICML 2020: the representation before the head transfers better).

    Args:
        in_features: backbone feature size.
        hidden_features: hidden width.
        out_features: embedding size.

    Raises:
        ValueError: for a non-positive size.
    """

    def __init__(self, in_features: int, hidden_features: int = 256, out_features: int = 128) -> None:
        super().__init__()
        if min(in_features, hidden_features, out_features) < 1:
            raise ValueError(f"sizes must be positive, got {in_features}, {hidden_features}, {out_features}.")
        self.net = nn.Sequential(
            nn.Linear(in_features, hidden_features),
            nn.BatchNorm1d(hidden_features),
            nn.ReLU(inplace=True),
            nn.Linear(hidden_features, out_features),
        )

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """(B, in_features) -> (B, out_features)."""
        return self.net(features)
