"""MONAI-style transforms that MONAI lacks, and the chest X-ray view pipelines built from MONAI's."""

from __future__ import annotations

from .cxr_views import cxr_preprocessing, strong_view, weak_augmentation
from .labeled_flag import MarkLabeledd
from .monochrome import PHOTOMETRIC_TAG, InvertMonochrome1, InvertMonochrome1d, photometric_interpretation

__all__ = [
    "MarkLabeledd",
    "PHOTOMETRIC_TAG",
    "InvertMonochrome1",
    "InvertMonochrome1d",
    "photometric_interpretation",
    "cxr_preprocessing",
    "weak_augmentation",
    "strong_view",
]
