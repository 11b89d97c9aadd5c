"""Mutual learning from reliable pseudo labels between two decoders.

For a student decoder ``s`` and a teacher decoder ``t`` (both see the same batch), per voxel ``v``:

* mask ``M_v = 1`` where the student's prediction entropy is higher than the teacher's
  (the less confident decoder learns from the more confident one);
* teacher prototypes, per sample and class ``c``: the L2-normalised mean of the teacher's features over
  the voxels whose teacher argmax is ``c``;
* reliability ``w_v = 1 - mean_c (cos(f^t_v, proto_c) - p^t_v(c))^2``, with no gradient;
* term ``L(s <- t) = sum_v CE(z^s_v, argmax p^t_v) * w_v * M_v / (sum_v M_v + eps)``.

The mutual loss is ``L(a <- b) + L(b <- a)`` over every sample in the batch, labeled or not.

Ablations (the paper's, at no extra cost): ``use_mask=False`` drops the entropy mask (every voxel counts,
``M = 1``), ``use_weight=False`` drops the reliability weight (``w = 1``); both False is plain cross-entropy on
the other decoder's argmax.

Under mixed precision (``torch.autocast``) everything here is computed in float32: float16/bfloat16 logits and
features are cast to float32 and autocast is off inside the loss, so the softmax, entropies, cosines to the
prototypes and the cross-entropy never run in half precision.

Differences from the official code, none of which changes a value for its network:
``w`` is clamped to [0, 1] (the paper's features come out of a ReLU, so the cosine is already in
[0, 1] and the clamp never acts), and the per-sample/per-class loops are vectorised.

Reference:
    Su J, Luo Z, Lian S, Lin D, Li S. Mutual learning with reliable pseudo label for semi-supervised
    medical image segmentation. Med Image Anal. 2024;94:103111.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from noisymed.utils import at_least_float32, autocast_off

__all__ = ["ReliablePseudoLabelLoss", "PseudoLabelTerm", "reliable_pseudo_label_term", "CE_INPUTS"]

CE_INPUTS = ("logits", "probs")


class PseudoLabelTerm(NamedTuple):
    """One direction of the mutual loss and what it was made of.

    Attributes:
        loss: scalar, ``sum(CE * w * M) / (sum(M) + eps)``.
        mask: (B, *spatial) float, 1 where the student is less confident than the teacher.
        weight: (B, *spatial) reliability ``w`` in [0, 1] (detached).
        pseudo_label: (B, *spatial) teacher argmax.
    """

    loss: torch.Tensor
    mask: torch.Tensor
    weight: torch.Tensor
    pseudo_label: torch.Tensor


def _entropy(prob: torch.Tensor, eps: float) -> torch.Tensor:
    return -(prob * torch.log(prob + eps)).sum(1)


def reliable_pseudo_label_term(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    teacher_features: torch.Tensor,
    ce_input: str = "logits",
    eps: float = 1e-6,
    use_mask: bool = True,
    use_weight: bool = True,
) -> PseudoLabelTerm:
    """The student-learns-from-teacher term of the mutual loss.

    Args:
        student_logits: (B, K, *spatial) raw scores of the student decoder.
        teacher_logits: (B, K, *spatial) raw scores of the teacher decoder.
        teacher_features: (B, C, *spatial) the teacher's last full-resolution feature map.
        ce_input: ``"logits"`` feeds the student's logits to the cross-entropy (the official code
            after its last fix); ``"probs"`` feeds its softmax probabilities (the code before that fix,
            which likely produced the paper's numbers).
        eps: added to the entropy's log, to the prototypes' voxel counts and to ``sum(M)``.
        use_mask: apply the entropy mask; False sets ``M = 1`` everywhere (the "reliability weight only" ablation).
        use_weight: apply the reliability weight; False sets ``w = 1`` (the "entropy mask only" ablation).

    Returns:
        PseudoLabelTerm with the loss, the mask and the reliability weight that were applied (all ones where
        switched off), and the pseudo label.

    Raises:
        ValueError: for a bad ``ce_input`` or mismatched shapes.
    """
    if ce_input not in CE_INPUTS:
        raise ValueError(f"ce_input must be one of {CE_INPUTS}, got {ce_input!r}.")
    if student_logits.shape != teacher_logits.shape:
        raise ValueError(
            f"student and teacher logits must have the same shape, got {tuple(student_logits.shape)} "
            f"and {tuple(teacher_logits.shape)}."
        )
    if teacher_features.shape[0] != teacher_logits.shape[0] or teacher_features.shape[2:] != teacher_logits.shape[2:]:
        raise ValueError(
            f"teacher features {tuple(teacher_features.shape)} must match the logits {tuple(teacher_logits.shape)} "
            "in batch and spatial size."
        )
    with autocast_off(student_logits):  # float32 under mixed precision (see the module docstring)
        return _pseudo_label_term(
            at_least_float32(student_logits),
            at_least_float32(teacher_logits),
            at_least_float32(teacher_features),
            ce_input,
            eps,
            use_mask,
            use_weight,
        )


def _pseudo_label_term(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    teacher_features: torch.Tensor,
    ce_input: str,
    eps: float,
    use_mask: bool,
    use_weight: bool,
) -> PseudoLabelTerm:
    """:func:`reliable_pseudo_label_term` on checked inputs, in their dtype."""
    num_classes = teacher_logits.shape[1]
    student_prob = torch.softmax(student_logits, 1)
    with torch.no_grad():
        teacher_prob = torch.softmax(teacher_logits, 1)
        pseudo = teacher_prob.argmax(1)
        if use_mask:
            mask = (_entropy(student_prob, eps) > _entropy(teacher_prob, eps)).float()
        else:
            mask = torch.ones_like(pseudo, dtype=student_prob.dtype)
        if not use_weight:
            return _term(student_logits, student_prob, pseudo, mask, torch.ones_like(mask), ce_input, eps)

        b, c = teacher_features.shape[:2]
        feats = teacher_features.reshape(b, c, -1)  # (B, C, N)
        onehot = F.one_hot(pseudo.reshape(b, -1), num_classes).to(feats.dtype)  # (B, N, K)
        proto = torch.einsum("bcn,bnk->bkc", feats, onehot) / (onehot.sum(1).unsqueeze(-1) + eps)  # (B, K, C)
        proto = F.normalize(proto, dim=-1)
        cos = torch.einsum("bcn,bkc->bkn", F.normalize(feats, dim=1, eps=1e-8), proto)  # (B, K, N)
        dist = (cos - teacher_prob.reshape(b, num_classes, -1)) ** 2
        weight = (1.0 - dist.mean(1)).clamp(0.0, 1.0).reshape(mask.shape)
    return _term(student_logits, student_prob, pseudo, mask, weight, ce_input, eps)


def _term(
    student_logits: torch.Tensor,
    student_prob: torch.Tensor,
    pseudo: torch.Tensor,
    mask: torch.Tensor,
    weight: torch.Tensor,
    ce_input: str,
    eps: float,
) -> PseudoLabelTerm:
    """``sum(CE * w * M) / (sum(M) + eps)`` with the cross-entropy on the student's logits or probabilities."""
    ce_in = student_logits if ce_input == "logits" else student_prob
    ce = F.cross_entropy(ce_in, pseudo, reduction="none")
    loss = (ce * weight * mask).sum() / (mask.sum() + eps)
    return PseudoLabelTerm(loss, mask, weight, pseudo)


class ReliablePseudoLabelLoss(nn.Module):
    """Mutual loss between two decoders: ``L(a <- b) + L(b <- a)`` (see the module docstring).

    Args:
        ce_input: what the cross-entropy receives from the student, ``"logits"`` or ``"probs"``.
        eps: numerical guard of the entropy, the prototypes and the mask normaliser.
        use_mask: apply the entropy mask (False: the "reliability weight only" ablation).
        use_weight: apply the reliability weight (False: the "entropy mask only" ablation).

    Raises:
        ValueError: for a bad ``ce_input`` or a ``use_mask``/``use_weight`` that is not a bool.

    Example::

        loss_fn = ReliablePseudoLabelLoss()
        logits_a, logits_b, feat_a, feat_b = net.forward_train(image)
        loss = loss_fn(logits_a, logits_b, feat_a, feat_b)
    """

    def __init__(self, ce_input: str = "logits", eps: float = 1e-6, use_mask: bool = True, use_weight: bool = True):
        super().__init__()
        if ce_input not in CE_INPUTS:
            raise ValueError(f"ce_input must be one of {CE_INPUTS}, got {ce_input!r}.")
        for name, value in (("use_mask", use_mask), ("use_weight", use_weight)):
            if not isinstance(value, bool):
                raise ValueError(f"{name} must be true or false, got {value!r}.")
        self.ce_input = ce_input
        self.eps = eps
        self.use_mask = use_mask
        self.use_weight = use_weight

    def terms(
        self, logits_a: torch.Tensor, logits_b: torch.Tensor, feat_a: torch.Tensor, feat_b: torch.Tensor
    ) -> tuple[PseudoLabelTerm, PseudoLabelTerm]:
        """Both directions: ``(a learns from b, b learns from a)``."""
        a_from_b = reliable_pseudo_label_term(
            logits_a, logits_b, feat_b, self.ce_input, self.eps, self.use_mask, self.use_weight
        )
        b_from_a = reliable_pseudo_label_term(
            logits_b, logits_a, feat_a, self.ce_input, self.eps, self.use_mask, self.use_weight
        )
        return a_from_b, b_from_a

    def forward(
        self, logits_a: torch.Tensor, logits_b: torch.Tensor, feat_a: torch.Tensor, feat_b: torch.Tensor
    ) -> torch.Tensor:
        a_from_b, b_from_a = self.terms(logits_a, logits_b, feat_a, feat_b)
        return a_from_b.loss + b_from_a.loss
