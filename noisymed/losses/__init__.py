"""Losses that MONAI lacks."""

from __future__ import annotations

from .barlow_twins import BarlowTwinsLoss
from .consistency import PseudoLabelConsistencyLoss, check_thresholds, make_pseudo_labels
from .contrastive import SupConLoss
from .cosine_prediction import BYOLLoss, SimSiamLoss
from .info_nce import InfoNCELoss
from .reliable_pseudo_label import CE_INPUTS, PseudoLabelTerm, ReliablePseudoLabelLoss, reliable_pseudo_label_term
from .robust import GeneralizedCrossEntropyLoss, SymmetricCrossEntropyLoss
from .spml import (
    SPML_METHODS,
    AssumeNegativeLoss,
    EntropyMaximizationLoss,
    ExpectedPositiveLoss,
    FullLabelBCELoss,
    LabelSmoothingLoss,
    LargeLossLoss,
    ROLELoss,
    WeakAssumeNegativeLoss,
    spml_loss,
)
from .vae import VAELoss

__all__ = [
    "ReliablePseudoLabelLoss",
    "PseudoLabelTerm",
    "reliable_pseudo_label_term",
    "CE_INPUTS",
    "GeneralizedCrossEntropyLoss",
    "SymmetricCrossEntropyLoss",
    "SupConLoss",
    "InfoNCELoss",
    "BYOLLoss",
    "SimSiamLoss",
    "BarlowTwinsLoss",
    "VAELoss",
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
    "make_pseudo_labels",
    "check_thresholds",
    "PseudoLabelConsistencyLoss",
]
