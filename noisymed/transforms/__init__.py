"""MONAI-style transforms that MONAI lacks, and the view pipelines built from MONAI's."""

from __future__ import annotations

from .brain_mask import is_nonzero
from .check_ct import CheckCT, CheckCTd
from .check_image import CheckImage, CheckImaged, check_image
from .check_volume import DEFAULT_MAX_VOXELS, CheckVolume, CheckVolumed
from .contrastive_views import contrastive_view
from .cxr_views import cxr_preprocessing, strong_view, weak_augmentation
from .flip import RandFlipOneAxisd
from .jigsaw_pretext import jigsaw_permutations, jigsaw_tiles
from .labeled_flag import MarkLabeledd
from .load_image import (
    IMAGE_SUFFIXES,
    EnsureChannels,
    EnsureChannelsd,
    LoadClassificationImage,
    LoadClassificationImaged,
)
from .monochrome import PHOTOMETRIC_TAG, InvertMonochrome1, InvertMonochrome1d, photometric_interpretation
from .rotation_pretext import NUM_ROTATIONS, rotate_batch
from .save_mask import SaveMaskd

__all__ = [
    "CheckCT",
    "CheckCTd",
    "CheckVolume",
    "CheckVolumed",
    "DEFAULT_MAX_VOXELS",
    "SaveMaskd",
    "is_nonzero",
    "MarkLabeledd",
    "check_image",
    "CheckImage",
    "CheckImaged",
    "RandFlipOneAxisd",
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
    "rotate_batch",
    "NUM_ROTATIONS",
    "jigsaw_permutations",
    "jigsaw_tiles",
]
