"""MONAI-style transforms that MONAI lacks, and the view pipelines built from MONAI's."""

from __future__ import annotations

from .brain_mask import is_nonzero
from .contrastive_views import contrastive_view
from .cxr_views import cxr_preprocessing, strong_view, weak_augmentation
from .labeled_flag import MarkLabeledd
from .load_image import (
    IMAGE_SUFFIXES,
    EnsureChannels,
    EnsureChannelsd,
    LoadClassificationImage,
    LoadClassificationImaged,
)
from .monochrome import PHOTOMETRIC_TAG, InvertMonochrome1, InvertMonochrome1d, photometric_interpretation

__all__ = [
    "is_nonzero",
    "MarkLabeledd",
    "LoadClassificationImage",
    "LoadClassificationImaged",
    "EnsureChannels",
    "EnsureChannelsd",
    "IMAGE_SUFFIXES",
    "contrastive_view",
    "PHOTOMETRIC_TAG",
    "InvertMonochrome1",
    "InvertMonochrome1d",
    "photometric_interpretation",
    "cxr_preprocessing",
    "weak_augmentation",
    "strong_view",
]
