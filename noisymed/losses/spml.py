"""Single-positive multi-label (SPML) losses.

Every loss takes ``(logits, observed)`` of shape ``(B, C)``: ``observed`` is 1 at each image's observed
positive and 0 at its unobserved entries (their truth is unknown). All reduce by the mean over the
``B × C`` entries, following Cole et al. Losses that need the sample positions in the training set
(ROLE) take ``index=``; losses whose behaviour changes with the epoch (LL) have ``set_epoch``.

References:
    - Cole E, Mac Aodha O, Lorieul T, Perona P, Morris D, Jojic N. Multi-label learning from single positive
      labels. CVPR 2021 (AN, WAN, label smoothing, EPR, ROLE).
    - Zhou D, Chen P, Wang Q, Chen G, Heng PA. Acknowledging the unknown for multi-label learning with
      single positive labels. ECCV 2022 (EM: entropy maximisation).
    - Kim Y, Kim JM, Akata Z, Lee J. Large loss matters in weakly supervised multi-label classification.
      CVPR 2022 (LL-R, LL-Ct).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "SPML_METHODS",
    "AssumeNegativeLoss",
    "WeakAssumeNegativeLoss",
    "LabelSmoothingLoss",
    "ExpectedPositiveLoss",
    "ROLELoss",
    "EntropyMaximizationLoss",
    "LargeLossLoss",
    "FullLabelBCELoss",
    "spml_loss",
]

SPML_METHODS = ("full", "an", "wan", "ls", "epr", "role", "em", "ll_r", "ll_ct")


def _check(logits: torch.Tensor, observed: torch.Tensor) -> torch.Tensor:
    if logits.ndim != 2 or logits.shape != observed.shape:
        raise ValueError(
            f"logits and observed must both be (B, C); got {tuple(logits.shape)} and {tuple(observed.shape)}."
        )
    return observed.to(logits.dtype)


def _neg_log_p(logits: torch.Tensor) -> torch.Tensor:
    """``-log sigmoid(z)``, stable."""
    return F.softplus(-logits)


def _neg_log_1mp(logits: torch.Tensor) -> torch.Tensor:
    """``-log(1 - sigmoid(z))``, stable."""
    return F.softplus(logits)


def _expected_positive_reg(probs: torch.Tensor, k: float) -> torch.Tensor:
    """``(mean_i sum_c p_ic - k)^2 / C^2`` (Cole et al., Eq. for R_EPR)."""
    return (probs.sum(1).mean() - k) ** 2 / probs.shape[1] ** 2


class FullLabelBCELoss(nn.Module):
    """Binary cross-entropy on full labels (the upper bound): ``mean BCE(sigmoid(z), y)``.

    Unlike the SPML losses, ``target`` is the full 0/1 label.
    """

    def forward(self, logits: torch.Tensor, target: torch.Tensor, index: torch.Tensor | None = None) -> torch.Tensor:
        target = _check(logits, target)
        return F.binary_cross_entropy_with_logits(logits, target)


class AssumeNegativeLoss(nn.Module):
    """Assume negative (AN): every unobserved label is taken as negative (Cole et al., CVPR 2021).

    ``L = mean_{i,c} [ y_ic (-log p_ic) + γ (1 - y_ic) (-log(1 - p_ic)) ]`` with ``γ = neg_weight``
    (1 for AN).

    Args:
        neg_weight: weight ``γ`` of the assumed negatives, ``>= 0``.

    Raises:
        ValueError: for a negative ``neg_weight``.
    """

    def __init__(self, neg_weight: float = 1.0):
        super().__init__()
        if neg_weight < 0:
            raise ValueError(f"neg_weight must be >= 0, got {neg_weight}.")
        self.neg_weight = float(neg_weight)

    def forward(self, logits: torch.Tensor, observed: torch.Tensor, index: torch.Tensor | None = None) -> torch.Tensor:
        y = _check(logits, observed)
        return (y * _neg_log_p(logits) + self.neg_weight * (1 - y) * _neg_log_1mp(logits)).mean()


class WeakAssumeNegativeLoss(AssumeNegativeLoss):
    """Weak assume negative (WAN): AN with the assumed negatives down-weighted by ``γ = 1 / (C - 1)``
    (Cole et al., CVPR 2021), ``C`` the number of classes, fixed at construction.

    Args:
        num_classes: ``C``, at least 2.

    Raises:
        ValueError: for ``num_classes < 2``.
    """

    def __init__(self, num_classes: int):
        if num_classes < 2:
            raise ValueError(f"num_classes must be >= 2, got {num_classes}.")
        super().__init__(neg_weight=1.0 / (num_classes - 1))


class LabelSmoothingLoss(nn.Module):
    """AN with label smoothing (AN-LS; Cole et al., CVPR 2021, after Szegedy et al. 2016).

    Targets ``y' = (1 - ε) y + ε / 2`` (1 → 1 - ε/2, assumed negatives → ε/2), then ``mean BCE(p, y')``.

    Args:
        epsilon: smoothing ``ε`` in [0, 1).

    Raises:
        ValueError: for ``ε`` outside [0, 1).
    """

    def __init__(self, epsilon: float = 0.1):
        super().__init__()
        if not 0.0 <= epsilon < 1.0:
            raise ValueError(f"epsilon must be in [0, 1), got {epsilon}.")
        self.epsilon = float(epsilon)

    def forward(self, logits: torch.Tensor, observed: torch.Tensor, index: torch.Tensor | None = None) -> torch.Tensor:
        y = _check(logits, observed)
        return F.binary_cross_entropy_with_logits(logits, (1 - self.epsilon) * y + self.epsilon / 2)


class ExpectedPositiveLoss(nn.Module):
    """Expected positive regularisation (EPR; Cole et al., CVPR 2021).

    ``L = mean_{i,c} y_ic (-log p_ic) + λ (mean_i Σ_c p_ic - k)^2 / C^2``: only the observed positives are
    fitted; the regulariser pulls the expected number of positives per image towards ``k``.

    Args:
        expected_positives: ``k`` (> 0), e.g. the mean number of positives per image (Cole et al. take it
            from the training set's full labels; set it from prior knowledge in a real SPML setting).
        reg_weight: ``λ`` (>= 0).

    Raises:
        ValueError: for a non-positive ``k`` or a negative ``λ``.
    """

    def __init__(self, expected_positives: float = 1.0, reg_weight: float = 1.0):
        super().__init__()
        if expected_positives <= 0:
            raise ValueError(f"expected_positives must be > 0, got {expected_positives}.")
        if reg_weight < 0:
            raise ValueError(f"reg_weight must be >= 0, got {reg_weight}.")
        self.k = float(expected_positives)
        self.reg_weight = float(reg_weight)

    def forward(self, logits: torch.Tensor, observed: torch.Tensor, index: torch.Tensor | None = None) -> torch.Tensor:
        y = _check(logits, observed)
        return (y * _neg_log_p(logits)).mean() + self.reg_weight * _expected_positive_reg(torch.sigmoid(logits), self.k)


class ROLELoss(nn.Module):
    """Regularised online label estimation (ROLE; Cole et al., CVPR 2021).

    A label-estimate matrix ``Ŷ = sigmoid(θ)`` (one row per training image, learned with the network) and
    the classifier's ``P`` teach each other. For the batch rows ``i`` (``index``), with the other side detached:

    ``L_P = mean_{i,c}[ y_ic (-log p_ic) + (1 - y_ic) BCE(p_ic, sg(ŷ_ic)) ] + (mean_i Σ_c p_ic - k)^2 / C^2``,
    ``L_Ŷ`` the same with ``p`` and ``ŷ`` swapped, and ``L = (L_P + L_Ŷ) / 2``.

    ``θ`` starts at ``logit(k / C)`` (the prior of an unobserved label). Add ``self.parameters()`` to the
    optimizer (Cole et al. give the estimates a larger learning rate).

    Args:
        num_samples: rows of ``θ`` (training-set size; ``index`` must be in ``[0, num_samples)``).
        num_classes: ``C``.
        expected_positives: ``k`` of the regulariser.

    Raises:
        ValueError: for non-positive sizes or ``k`` outside (0, C).
    """

    requires_index = True

    def __init__(self, num_samples: int, num_classes: int, expected_positives: float = 1.0):
        super().__init__()
        if num_samples < 1 or num_classes < 1:
            raise ValueError(f"num_samples and num_classes must be >= 1, got {num_samples}, {num_classes}.")
        if not 0 < expected_positives < num_classes:
            raise ValueError(f"expected_positives must be in (0, {num_classes}), got {expected_positives}.")
        self.k = float(expected_positives)
        prior = math.log(self.k / num_classes) - math.log(1 - self.k / num_classes)
        self.label_logits = nn.Parameter(torch.full((num_samples, num_classes), prior))

    @staticmethod
    def _side(z: torch.Tensor, teacher: torch.Tensor, y: torch.Tensor, k: float) -> torch.Tensor:
        fit = y * _neg_log_p(z) + (1 - y) * F.binary_cross_entropy_with_logits(z, teacher, reduction="none")
        return fit.mean() + _expected_positive_reg(torch.sigmoid(z), k)

    def forward(self, logits: torch.Tensor, observed: torch.Tensor, index: torch.Tensor | None = None) -> torch.Tensor:
        y = _check(logits, observed)
        if index is None:
            raise ValueError("ROLE needs the training-set index of each sample (index=...).")
        index = torch.as_tensor(index, device=self.label_logits.device).long().reshape(-1)
        if index.numel() != logits.shape[0] or int(index.min()) < 0 or int(index.max()) >= self.label_logits.shape[0]:
            raise ValueError(
                f"index must hold {logits.shape[0]} values in [0, {self.label_logits.shape[0]}), got {index.tolist()}."
            )
        est = self.label_logits[index].to(logits.device)
        loss_p = self._side(logits, torch.sigmoid(est).detach(), y, self.k)
        loss_y = self._side(est, torch.sigmoid(logits).detach(), y, self.k)
        return 0.5 * (loss_p + loss_y)


class EntropyMaximizationLoss(nn.Module):
    """Entropy maximisation (EM; Zhou et al., ECCV 2022).

    ``L = mean_{i,c}[ y_ic (-log p_ic) - α (1 - y_ic) H(p_ic) ]`` with ``H(p) = -p log p - (1 - p) log(1 - p)``:
    unobserved labels are pushed towards maximal uncertainty instead of towards 0.

    Args:
        alpha: weight ``α`` (>= 0) of the entropy term.

    Raises:
        ValueError: for a negative ``α``.
    """

    def __init__(self, alpha: float = 0.1):
        super().__init__()
        if alpha < 0:
            raise ValueError(f"alpha must be >= 0, got {alpha}.")
        self.alpha = float(alpha)

    def forward(self, logits: torch.Tensor, observed: torch.Tensor, index: torch.Tensor | None = None) -> torch.Tensor:
        y = _check(logits, observed)
        p = torch.sigmoid(logits)
        entropy = p * _neg_log_p(logits) + (1 - p) * _neg_log_1mp(logits)
        return (y * _neg_log_p(logits) - self.alpha * (1 - y) * entropy).mean()


class LargeLossLoss(nn.Module):
    """Large-loss rejection (LL-R) and temporary correction (LL-Ct) on top of AN (Kim et al., CVPR 2022).

    Among the unobserved (assumed negative) entries of the batch, the ``ceil(r · n_unobserved)`` with the
    largest AN loss are likely false negatives: LL-R drops them from the loss (weight 0), LL-Ct fits them
    as positives for this iteration. The rate grows with the epoch: ``r = min(max_rate, epoch · delta_rel)``
    (no change in epoch 0, Kim et al.'s warm-up); the trainer calls :meth:`set_epoch` (0-based).
    The mean is over all ``B × C`` entries.

    Args:
        mode: ``"rejection"`` (LL-R) or ``"correction"`` (LL-Ct).
        delta_rel: rate increase per epoch (Kim et al.'s Δ_rel, as a fraction: 0.002 = 0.2 %).
        max_rate: upper bound of the rate.

    Raises:
        ValueError: for an unknown mode or a rate outside [0, 1].
    """

    MODES = ("rejection", "correction")

    def __init__(self, mode: str = "rejection", delta_rel: float = 0.002, max_rate: float = 0.5):
        super().__init__()
        if mode not in self.MODES:
            raise ValueError(f"mode must be one of {self.MODES}, got {mode!r}.")
        if not 0.0 <= delta_rel <= 1.0 or not 0.0 <= max_rate <= 1.0:
            raise ValueError(f"delta_rel and max_rate must be in [0, 1], got {delta_rel}, {max_rate}.")
        self.mode = mode
        self.delta_rel = float(delta_rel)
        self.max_rate = float(max_rate)
        self.rate = 0.0

    def set_epoch(self, epoch: int) -> None:
        """Set the rejection/correction rate for a 0-based epoch."""
        self.rate = min(self.max_rate, max(0, epoch) * self.delta_rel)

    def forward(self, logits: torch.Tensor, observed: torch.Tensor, index: torch.Tensor | None = None) -> torch.Tensor:
        y = _check(logits, observed)
        neg_loss = _neg_log_1mp(logits)
        unobserved = y < 0.5
        n_change = math.ceil(self.rate * int(unobserved.sum())) if self.rate > 0 else 0
        flagged = torch.zeros_like(unobserved)
        if n_change > 0:
            ranked = neg_loss.detach().masked_fill(~unobserved, float("-inf")).reshape(-1)
            flagged.view(-1)[torch.topk(ranked, n_change).indices] = True
        pos_loss = _neg_log_p(logits)
        loss = y * pos_loss + (unobserved & ~flagged).to(logits.dtype) * neg_loss
        if self.mode == "correction":
            loss = loss + flagged.to(logits.dtype) * pos_loss
        return loss.mean()


def spml_loss(
    method: str, num_classes: int, num_samples: int | None = None, expected_positives: float = 1.0, **kwargs: float
) -> nn.Module:
    """Build a loss by name (the bundle's ``method`` override).

    Args:
        method: one of :data:`SPML_METHODS`: ``full`` (BCE on full labels), ``an``, ``wan``, ``ls``, ``epr``,
            ``role``, ``em``, ``ll_r``, ``ll_ct``.
        num_classes: ``C``.
        num_samples: training-set size (ROLE only).
        expected_positives: ``k`` for EPR and ROLE.
        kwargs: extra arguments of the loss class (``epsilon``, ``alpha``, ``delta_rel``...).

    Returns:
        The loss module.

    Raises:
        ValueError: for an unknown method, or ROLE without ``num_samples``.
    """
    if method == "full":
        return FullLabelBCELoss()
    if method == "an":
        return AssumeNegativeLoss(**kwargs)
    if method == "wan":
        return WeakAssumeNegativeLoss(num_classes)
    if method == "ls":
        return LabelSmoothingLoss(**kwargs)
    if method == "epr":
        return ExpectedPositiveLoss(expected_positives, **kwargs)
    if method == "role":
        if num_samples is None:
            raise ValueError("ROLE needs num_samples (the training-set size).")
        return ROLELoss(num_samples, num_classes, expected_positives)
    if method == "em":
        return EntropyMaximizationLoss(**kwargs)
    if method in ("ll_r", "ll_ct"):
        return LargeLossLoss("rejection" if method == "ll_r" else "correction", **kwargs)
    raise ValueError(f"method must be one of {SPML_METHODS}, got {method!r}.")
