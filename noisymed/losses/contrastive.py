"""Supervised contrastive loss (SupCon) over two views, the labelled twin of MONAI's NT-Xent ``ContrastiveLoss``.

With ``z`` the L2-normalised embeddings of both views (2B rows), anchor ``i``, its positives ``P(i)`` (every other
row whose label equals ``i``'s, the other view of ``i`` included) and temperature ``tau``:

    L = mean_i  -1/|P(i)| * sum_{p in P(i)} log( exp(z_i . z_p / tau) / sum_{a != i} exp(z_i . z_a / tau) )

Without labels every sample is its own class, ``P(i)`` is the other view only and the loss is SimCLR's NT-Xent,
equal to :class:`monai.losses.ContrastiveLoss` with the same temperature (a test checks this).

Reference:
    Khosla P, et al. Supervised contrastive learning. NeurIPS 2020.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.nn.modules.loss import _Loss

__all__ = ["SupConLoss"]


class SupConLoss(_Loss):
    """Supervised contrastive loss of two views of a batch.

    Args:
        temperature: ``tau`` > 0.

    Raises:
        ValueError: for a non-positive temperature.
    """

    def __init__(self, temperature: float = 0.1) -> None:
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {temperature}.")
        super().__init__()
        self.temperature = float(temperature)

    def forward(self, view1: torch.Tensor, view2: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """The loss, averaged over the 2B anchors.

        Args:
            view1: (B, D) embeddings of the first view.
            view2: (B, D) embeddings of the second view of the same samples.
            labels: (B,) class labels, or None for the self-supervised (NT-Xent) case.

        Returns:
            Scalar loss.

        Raises:
            ValueError: when the views' shapes differ or are not (B, D), or labels do not match the batch.
        """
        if view1.ndim != 2 or view1.shape != view2.shape:
            raise ValueError(f"views must both be (B, D), got {tuple(view1.shape)} and {tuple(view2.shape)}.")
        b = view1.shape[0]
        if labels is None:
            labels = torch.arange(b, device=view1.device)
        labels = labels.reshape(-1)
        if labels.shape[0] != b:
            raise ValueError(f"labels has {labels.shape[0]} entries for a batch of {b}.")
        z = F.normalize(torch.cat([view1, view2], 0), dim=1)
        logits = z @ z.t() / self.temperature
        self_mask = torch.eye(2 * b, dtype=torch.bool, device=z.device)
        logits = logits.masked_fill(self_mask, float("-inf"))
        log_prob = logits - torch.logsumexp(logits, dim=1, keepdim=True)
        both = torch.cat([labels, labels], 0)
        positives = (both[:, None] == both[None, :]) & ~self_mask
        mean_log_prob_pos = log_prob.masked_fill(~positives, 0.0).sum(1) / positives.sum(1)
        return -mean_log_prob_pos.mean()
