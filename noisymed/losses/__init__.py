"""Losses that MONAI lacks."""

from __future__ import annotations

from .reliable_pseudo_label import CE_INPUTS, PseudoLabelTerm, ReliablePseudoLabelLoss, reliable_pseudo_label_term

__all__ = ["ReliablePseudoLabelLoss", "PseudoLabelTerm", "reliable_pseudo_label_term", "CE_INPUTS"]
