"""Networks that MONAI lacks."""

from __future__ import annotations

from .two_decoder_vnet import DECODER_MODES, UPSAMPLE_MODES, TwoDecoderVNet, VNetDecoder, VNetEncoder

__all__ = ["TwoDecoderVNet", "VNetEncoder", "VNetDecoder", "DECODER_MODES", "UPSAMPLE_MODES"]
