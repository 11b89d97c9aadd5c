"""Intra-group mixup attention: group samples, weigh each by a learned attention, mix features and labels.

Formulation implemented (the Phys Med Biol 2024 paper's text is not available here; this follows the closest
public design, AFM: Peng et al., "Suppressing Mislabeled Data via Grouping and Self-Attention", ECCV 2020):

1. **Groups.** Each sample ``i`` of the mini-batch anchors one group of ``k = group_size`` samples: itself plus
   ``k - 1`` partners drawn at random among the samples with the same (possibly noisy) label
   (``grouping="class"``, intra-class groups), or among the whole batch (``grouping="random"``). A sample whose
   class has no other member in the batch is grouped with itself.
2. **Attention.** The group's features are concatenated in group order (anchor first) and scored by
   ``Linear(k*D, H) -> ReLU -> Linear(H, k) -> sigmoid``, one weight ``a_m`` in (0, 1) per member; the mixing weights
   are ``w_m = a_m / sum_m a_m``.
3. **Weighted mixup.** ``f' = sum_m w_m f_m`` and ``y' = sum_m w_m onehot(y_m)``.

The trainer adds ``gamma * CE(head(f'), y')`` to the plain loss on the un-mixed samples. Minimising the mixed loss
teaches the attention to down-weight the members whose features disagree with the group's label — a mislabeled
sample in a group of its noisy class — so the mixed samples the classifier learns from are noise-suppressed.
With intra-class groups every member shares the label, so ``y'`` equals it and only the features are mixed.
The module is used in training only; inference is the plain backbone and head.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["IntraGroupMixupAttention", "MixedGroup", "GROUPINGS", "make_groups"]

GROUPINGS = ("class", "random")


class MixedGroup(NamedTuple):
    """What :class:`IntraGroupMixupAttention` returns.

    Attributes:
        features: (B, D) mixed features ``f'``, one per anchor.
        targets: (B, K) mixed soft labels ``y'``.
        weights: (B, k) normalised mixing weights ``w`` (rows sum to 1).
        groups: (B, k) batch indices of each group's members, the anchor first.
    """

    features: torch.Tensor
    targets: torch.Tensor
    weights: torch.Tensor
    groups: torch.Tensor


def make_groups(
    labels: torch.Tensor, group_size: int, grouping: str = "class", generator: torch.Generator | None = None
) -> torch.Tensor:
    """Indices of ``group_size`` members per anchor: the anchor, then partners (see the module docstring).

    Partners are drawn without replacement while enough candidates exist, then with replacement.

    Args:
        labels: (B,) integer labels.
        group_size: members per group, >= 2.
        grouping: ``"class"`` (partners share the anchor's label) or ``"random"`` (any other sample).
        generator: torch generator for reproducible groups.

    Returns:
        (B, group_size) long tensor on ``labels.device``.

    Raises:
        ValueError: for ``group_size`` < 2 or an unknown grouping.
    """
    if group_size < 2:
        raise ValueError(f"group_size must be >= 2, got {group_size}.")
    if grouping not in GROUPINGS:
        raise ValueError(f"grouping must be one of {GROUPINGS}, got {grouping!r}.")
    labels = labels.reshape(-1).cpu()
    b = labels.shape[0]
    groups = torch.empty(b, group_size, dtype=torch.long)
    groups[:, 0] = torch.arange(b)
    for i in range(b):
        if grouping == "class":
            candidates = torch.nonzero((labels == labels[i]) & (torch.arange(b) != i)).reshape(-1)
        else:
            candidates = torch.cat([torch.arange(i), torch.arange(i + 1, b)])
        need = group_size - 1
        if candidates.numel() == 0:
            groups[i, 1:] = i
        elif candidates.numel() >= need:
            groups[i, 1:] = candidates[torch.randperm(candidates.numel(), generator=generator)[:need]]
        else:
            groups[i, 1:] = candidates[torch.randint(candidates.numel(), (need,), generator=generator)]
    return groups.to(labels.device if labels.device.type != "cpu" else groups.device)


class IntraGroupMixupAttention(nn.Module):
    """Attention-weighted mixup of the features and labels of groups of samples (training only).

    Args:
        feature_dim: ``D``, size of the backbone features.
        num_classes: ``K``.
        group_size: ``k`` members per group (the AFM paper uses 2).
        hidden_dim: ``H``, width of the attention MLP.
        grouping: ``"class"`` (intra-class groups by the given labels) or ``"random"``.

    Raises:
        ValueError: for sizes below their minimum or an unknown grouping.

    Example::

        attn = IntraGroupMixupAttention(feature_dim=128, num_classes=2)
        mixed = attn(features, labels)          # features (B, 128), labels (B,)
        loss = F.cross_entropy(head(mixed.features), mixed.targets)
    """

    def __init__(
        self, feature_dim: int, num_classes: int, group_size: int = 2, hidden_dim: int = 128, grouping: str = "class"
    ) -> None:
        super().__init__()
        if feature_dim < 1 or hidden_dim < 1:
            raise ValueError(f"feature_dim and hidden_dim must be positive, got {feature_dim}, {hidden_dim}.")
        if num_classes < 2:
            raise ValueError(f"num_classes must be >= 2, got {num_classes}.")
        if group_size < 2:
            raise ValueError(f"group_size must be >= 2, got {group_size}.")
        if grouping not in GROUPINGS:
            raise ValueError(f"grouping must be one of {GROUPINGS}, got {grouping!r}.")
        self.num_classes, self.group_size, self.grouping = num_classes, group_size, grouping
        self.score = nn.Sequential(
            nn.Linear(group_size * feature_dim, hidden_dim), nn.ReLU(inplace=True), nn.Linear(hidden_dim, group_size)
        )

    def attention(self, grouped: torch.Tensor) -> torch.Tensor:
        """(G, k, D) group features -> (G, k) normalised mixing weights."""
        a = torch.sigmoid(self.score(grouped.flatten(1)))
        return a / a.sum(1, keepdim=True)

    def forward(
        self,
        features: torch.Tensor,
        labels: torch.Tensor,
        groups: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> MixedGroup:
        """Mix each anchor's group.

        Args:
            features: (B, D) features.
            labels: (B,) integer labels (the noisy training labels).
            groups: (B, k) member indices to use instead of drawing them (tests, reproducibility).
            generator: torch generator for the draw.

        Returns:
            :class:`MixedGroup`.

        Raises:
            ValueError: for mismatched shapes.
        """
        if features.ndim != 2:
            raise ValueError(f"features must be (B, D), got {tuple(features.shape)}.")
        labels = labels.reshape(-1).long()
        if labels.shape[0] != features.shape[0]:
            raise ValueError(f"{labels.shape[0]} labels for {features.shape[0]} feature rows.")
        if groups is None:
            groups = make_groups(labels, self.group_size, self.grouping, generator)
        groups = groups.to(features.device)
        if groups.shape != (features.shape[0], self.group_size):
            raise ValueError(f"groups must be ({features.shape[0]}, {self.group_size}), got {tuple(groups.shape)}.")
        grouped = features[groups]  # (B, k, D)
        w = self.attention(grouped)
        mixed = (w.unsqueeze(-1) * grouped).sum(1)
        onehot = F.one_hot(labels.to(features.device), self.num_classes).to(features.dtype)[groups]  # (B, k, K)
        targets = (w.unsqueeze(-1) * onehot).sum(1)
        return MixedGroup(mixed, targets, w, groups)
