"""Networks that MONAI lacks."""

from __future__ import annotations

from .batch_transformer import BatchTransformer
from .classifier import BACKBONES, RESNET_LAYERS, FeatureClassifier, WithFeatures
from .cxr_classifier import SinglePositiveClassifier
from .feature_decoder import FeatureDecoder
from .mixup_attention import GROUPINGS, IntraGroupMixupAttention, MixedGroup, make_groups
from .projection_head import ProjectionHead
from .two_decoder_vnet import DECODER_MODES, UPSAMPLE_MODES, TwoDecoderVNet, VNetDecoder, VNetEncoder

__all__ = [
    "TwoDecoderVNet",
    "VNetEncoder",
    "VNetDecoder",
    "DECODER_MODES",
    "UPSAMPLE_MODES",
    "FeatureClassifier",
    "WithFeatures",
    "BACKBONES",
    "RESNET_LAYERS",
    "IntraGroupMixupAttention",
    "MixedGroup",
    "GROUPINGS",
    "make_groups",
    "ProjectionHead",
    "FeatureDecoder",
    "BatchTransformer",
    "SinglePositiveClassifier",
]
