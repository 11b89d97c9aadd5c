"""Networks that MONAI lacks."""

from __future__ import annotations

from .batch_transformer import BatchTransformer
from .cxr_classifier import SinglePositiveClassifier
from .two_decoder_vnet import DECODER_MODES, UPSAMPLE_MODES, TwoDecoderVNet, VNetDecoder, VNetEncoder

__all__ = [
    "TwoDecoderVNet",
    "VNetEncoder",
    "VNetDecoder",
    "DECODER_MODES",
    "UPSAMPLE_MODES",
    "BatchTransformer",
    "SinglePositiveClassifier",
]
