"""Losses that MONAI lacks."""

from __future__ import annotations

from .contrastive import SupConLoss
from .reliable_pseudo_label import CE_INPUTS, PseudoLabelTerm, ReliablePseudoLabelLoss, reliable_pseudo_label_term
from .robust import GeneralizedCrossEntropyLoss, SymmetricCrossEntropyLoss

__all__ = [
    "ReliablePseudoLabelLoss",
    "PseudoLabelTerm",
    "reliable_pseudo_label_term",
    "CE_INPUTS",
    "GeneralizedCrossEntropyLoss",
    "SymmetricCrossEntropyLoss",
    "SupConLoss",
]
