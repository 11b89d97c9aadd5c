"""InfoNCE against a queue of negatives: the loss of MoCo (v1/v2).

With ``q`` the L2-normalised queries (B, D), ``k`` their L2-normalised positive keys (B, D) from the momentum
encoder, ``n`` the K normalised negatives held in the queue (K, D) and temperature ``tau``:

    L = mean_i  -log( exp(q_i . k_i / tau) / ( exp(q_i . k_i / tau) + sum_j exp(q_i . n_j / tau) ) )

which is the cross entropy of the logits ``[q_i . k_i, q_i . n_1, ..., q_i . n_K] / tau`` with target 0. Keys and
negatives carry no gradient (they come from the momentum encoder). Without negatives (an empty queue) the loss
is 0: the single positive logit wins every softmax.

Reference:
    He K, et al. Momentum contrast for unsupervised visual representation learning. CVPR 2020.
    Chen X, et al. Improved baselines with momentum contrastive learning. arXiv:2003.04297 (MoCo v2).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.nn.modules.loss import _Loss

__all__ = ["InfoNCELoss"]


class InfoNCELoss(_Loss):
    """InfoNCE of queries against their keys and a bank of negatives (MoCo).

    Args:
        temperature: ``tau`` > 0 (MoCo v2 uses 0.2).

    Raises:
        ValueError: for a non-positive temperature.
    """

    def __init__(self, temperature: float = 0.2) -> None:
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {temperature}.")
        super().__init__()
        self.temperature = float(temperature)

    def forward(self, query: torch.Tensor, key: torch.Tensor, negatives: torch.Tensor) -> torch.Tensor:
        """The loss averaged over the B queries.

        Args:
            query: (B, D) query embeddings (normalised here).
            key: (B, D) positive key embeddings (normalised here, detached).
            negatives: (K, D) negative embeddings (normalised here, detached); K may be 0.

        Returns:
            Scalar loss.

        Raises:
            ValueError: when the shapes do not fit (B, D), (B, D), (K, D).
        """
        if query.ndim != 2 or query.shape != key.shape:
            raise ValueError(f"query and key must both be (B, D), got {tuple(query.shape)} and {tuple(key.shape)}.")
        if negatives.ndim != 2 or negatives.shape[1] != query.shape[1]:
            raise ValueError(f"negatives must be (K, {query.shape[1]}), got {tuple(negatives.shape)}.")
        q = F.normalize(query, dim=1)
        k = F.normalize(key.detach(), dim=1)
        n = F.normalize(negatives.detach(), dim=1)
        positive = (q * k).sum(1, keepdim=True)
        logits = torch.cat([positive, q @ n.t()], 1) / self.temperature
        target = torch.zeros(q.shape[0], dtype=torch.long, device=q.device)
        return F.cross_entropy(logits, target)
