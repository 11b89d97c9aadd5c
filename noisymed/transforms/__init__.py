"""MONAI-style transforms that MONAI lacks."""

from __future__ import annotations

from .contrastive_views import contrastive_view
from .labeled_flag import MarkLabeledd
from .load_image import (
    IMAGE_SUFFIXES,
    EnsureChannels,
    EnsureChannelsd,
    LoadClassificationImage,
    LoadClassificationImaged,
)

__all__ = [
    "MarkLabeledd",
    "LoadClassificationImage",
    "LoadClassificationImaged",
    "EnsureChannels",
    "EnsureChannelsd",
    "IMAGE_SUFFIXES",
    "contrastive_view",
]
