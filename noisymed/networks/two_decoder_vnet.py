"""One VNet encoder shared by two decoders, as in mutual learning with reliable pseudo labels.

The layout follows the VNet of the semi-supervised left-atrium literature (UA-MT, MC-Net and the
mutual-learning paper's ``Mine3d_v1``), which differs from MONAI's :class:`monai.networks.nets.VNet`
(a 45.6 M-parameter network with 5×5×5 kernels): 3×3×3 convolutions with BatchNorm and ReLU,
1-2-3-3-3 convolutions per encoder stage, 2×2×2 stride-2 convolutions for downsampling, additive
(residual) skip connections from each encoder stage into the decoder, and Dropout3d(0.5) on the
bottleneck and on the last decoder feature map while training.

Reference:
    Su J, Luo Z, Lian S, Lin D, Li S. Mutual learning with reliable pseudo label for semi-supervised
    medical image segmentation. Med Image Anal. 2024;94:103111.
"""

from __future__ import annotations

import torch
from monai.networks.blocks import Convolution
from torch import nn

__all__ = ["TwoDecoderVNet", "VNetEncoder", "VNetDecoder", "DECODER_MODES", "UPSAMPLE_MODES"]

DECODER_MODES = ("a", "b", "mean")
UPSAMPLE_MODES = ("deconv", "nearest")


def _conv_stage(num_convs: int, in_channels: int, out_channels: int, norm: str | tuple) -> nn.Sequential:
    """``num_convs`` times Conv3d(3×3×3) → norm → ReLU."""
    layers = [
        Convolution(3, in_channels if i == 0 else out_channels, out_channels, kernel_size=3, act="RELU", norm=norm)
        for i in range(num_convs)
    ]
    return nn.Sequential(*layers)


class VNetEncoder(nn.Module):
    """Five-stage VNet encoder; returns the feature map of every stage (finest first).

    Args:
        in_channels: number of input channels.
        features: number of filters of the first stage; stage ``k`` has ``features * 2**k``.
        norm: normalisation of every convolution, as MONAI's ``Convolution`` accepts it.
        dropout: Dropout3d probability on the bottleneck (0 disables it).
    """

    stage_convs = (1, 2, 3, 3, 3)

    def __init__(self, in_channels: int = 1, features: int = 16, norm: str | tuple = "BATCH", dropout: float = 0.5):
        super().__init__()
        widths = [features * 2**k for k in range(5)]
        self.stages = nn.ModuleList()
        self.downs = nn.ModuleList()
        prev = in_channels
        for k in range(4):
            self.stages.append(_conv_stage(self.stage_convs[k], prev, widths[k], norm))
            self.downs.append(
                Convolution(3, widths[k], widths[k + 1], strides=2, kernel_size=2, padding=0, act="RELU", norm=norm)
            )
            prev = widths[k + 1]
        self.bottleneck = _conv_stage(self.stage_convs[4], widths[4], widths[4], norm)
        self.dropout = nn.Dropout3d(dropout)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        skips: list[torch.Tensor] = []
        for stage, down in zip(self.stages, self.downs, strict=True):
            x = stage(x)
            skips.append(x)
            x = down(x)
        skips.append(self.dropout(self.bottleneck(x)))
        return skips


class VNetDecoder(nn.Module):
    """VNet decoder with additive skips; returns ``(logits, last full-resolution feature map)``.

    Args:
        out_channels: number of classes.
        features: filters of the encoder's first stage.
        upsample: ``"deconv"`` (2×2×2 transposed convolution) or ``"nearest"`` (nearest-neighbour
            upsampling followed by a 3×3×3 convolution).
        norm: normalisation of every convolution.
        dropout: Dropout3d probability on the last feature map before the 1×1×1 classifier.

    Raises:
        ValueError: when ``upsample`` is not one of ``UPSAMPLE_MODES``.
    """

    stage_convs = (3, 3, 2, 1)

    def __init__(
        self,
        out_channels: int = 2,
        features: int = 16,
        upsample: str = "deconv",
        norm: str | tuple = "BATCH",
        dropout: float = 0.5,
    ):
        super().__init__()
        if upsample not in UPSAMPLE_MODES:
            raise ValueError(f"upsample must be one of {UPSAMPLE_MODES}, got {upsample!r}.")
        widths = [features * 2**k for k in range(5)]
        self.ups = nn.ModuleList()
        self.stages = nn.ModuleList()
        for k, n in zip(range(4, 0, -1), self.stage_convs, strict=True):
            if upsample == "deconv":
                up = Convolution(
                    3,
                    widths[k],
                    widths[k - 1],
                    strides=2,
                    kernel_size=2,
                    padding=0,
                    output_padding=0,
                    is_transposed=True,
                    act="RELU",
                    norm=norm,
                )
            else:
                up = nn.Sequential(
                    nn.Upsample(scale_factor=2, mode="nearest"),
                    Convolution(3, widths[k], widths[k - 1], kernel_size=3, act="RELU", norm=norm),
                )
            self.ups.append(up)
            self.stages.append(_conv_stage(n, widths[k - 1], widths[k - 1], norm))
        self.dropout = nn.Dropout3d(dropout)
        self.out_conv = nn.Conv3d(features, out_channels, kernel_size=1)

    def forward(self, skips: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        x = skips[4]
        for i, (up, stage) in enumerate(zip(self.ups, self.stages, strict=True)):
            x = stage(up(x) + skips[3 - i])
        feat = self.dropout(x)
        return self.out_conv(feat), feat


class TwoDecoderVNet(nn.Module):
    """A VNet encoder shared by decoder A (transposed convolutions) and decoder B (nearest + conv).

    ``forward`` is the inference network (input ``image``, output ``pred``): it returns one logits-like
    tensor of shape (B, out_channels, *spatial) chosen by ``decoder``: ``"a"``, ``"b"``, or ``"mean"``,
    the log of the mean of both decoders' softmax probabilities (so ``softmax(pred)`` is the mean
    probability and ``argmax`` the ensemble's label). ``forward_train`` returns what the
    mutual-learning loss needs: both decoders' logits and last 16-channel feature maps.

    Spatial sizes must be divisible by 16 (four 2× downsamplings); the sliding-window patch is.

    Args:
        in_channels: number of input channels.
        out_channels: number of classes (background included).
        features: filters of the first encoder stage (16 in the paper: about 12.35 M parameters).
        norm: normalisation of every convolution, as MONAI's ``Convolution`` accepts it.
        dropout: Dropout3d probability on the bottleneck and each decoder's last feature map.
        decoder: which output ``forward`` returns, one of ``DECODER_MODES``.

    Raises:
        ValueError: for a bad ``decoder`` or non-positive sizes.

    Example::

        net = TwoDecoderVNet(in_channels=1, out_channels=2, features=16)
        logits_a, logits_b, feat_a, feat_b = net.forward_train(torch.rand(2, 1, 112, 112, 80))
        net.eval(); pred = net(torch.rand(1, 1, 112, 112, 80))  # (1, 2, 112, 112, 80)
    """

    def __init__(
        self,
        in_channels: int = 1,
        out_channels: int = 2,
        features: int = 16,
        norm: str | tuple = "BATCH",
        dropout: float = 0.5,
        decoder: str = "a",
    ):
        super().__init__()
        if decoder not in DECODER_MODES:
            raise ValueError(f"decoder must be one of {DECODER_MODES}, got {decoder!r}.")
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels), ("features", features)):
            if value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value}.")
        self.decoder = decoder
        self.encoder = VNetEncoder(in_channels, features, norm, dropout)
        self.decoder_a = VNetDecoder(out_channels, features, "deconv", norm, dropout)
        self.decoder_b = VNetDecoder(out_channels, features, "nearest", norm, dropout)

    def forward_train(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Return ``(logits_a, logits_b, features_a, features_b)``."""
        skips = self.encoder(x)
        logits_a, feat_a = self.decoder_a(skips)
        logits_b, feat_b = self.decoder_b(skips)
        return logits_a, logits_b, feat_a, feat_b

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = self.encoder(x)
        if self.decoder == "a":
            return self.decoder_a(skips)[0]
        if self.decoder == "b":
            return self.decoder_b(skips)[0]
        prob = 0.5 * (torch.softmax(self.decoder_a(skips)[0], 1) + torch.softmax(self.decoder_b(skips)[0], 1))
        return torch.log(prob.clamp_min(1e-8))
