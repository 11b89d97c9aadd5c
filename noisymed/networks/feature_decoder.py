"""A small convolutional decoder from a feature vector to an image, the generative half of the backbone VAE.

The vector goes through a ``Linear`` layer to a coarse grid of ``channels[0]`` maps, each side ``ceil(size / 2**n)``
for ``n = len(channels)`` stages; each stage doubles the grid with MONAI's transposed-convolution ``UpSample`` and
refines it with a MONAI ``Convolution`` (batch norm, ReLU); a last 1-wide convolution gives ``out_channels`` maps,
which are cut to ``spatial_size`` (the grid is at least as large) and squashed to [0, 1] by a sigmoid, the
intensity range the bundle's preprocessing produces.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from monai.networks.blocks import Convolution, UpSample
from torch import nn

__all__ = ["FeatureDecoder"]


class FeatureDecoder(nn.Module):
    """(B, in_features) -> (B, out_channels, *spatial_size) in [0, 1], 2D or 3D.

    Args:
        in_features: size of the input vector (the VAE's latent size).
        out_channels: image channels.
        spatial_size: output size, 2 or 3 values.
        channels: feature maps per stage, coarse to fine; its length is the number of doublings.

    Raises:
        ValueError: for a spatial size that is not 2D/3D or not positive, or non-positive sizes/channels.

    Example::

        decoder = FeatureDecoder(64, 1, (28, 28))
        decoder(torch.zeros(4, 64)).shape  # (4, 1, 28, 28)
    """

    def __init__(
        self, in_features: int, out_channels: int, spatial_size: Sequence[int], channels: Sequence[int] = (64, 32, 16)
    ) -> None:
        super().__init__()
        size = [int(s) for s in spatial_size]
        chans = [int(c) for c in channels]
        if len(size) not in (2, 3) or min(size) < 1:
            raise ValueError(f"spatial_size must be 2 or 3 positive values, got {spatial_size}.")
        if in_features < 1 or out_channels < 1 or not chans or min(chans) < 1:
            raise ValueError(
                f"in_features, out_channels and channels must be positive, got {in_features}, {out_channels}, "
                f"{channels}."
            )
        dims = len(size)
        self.spatial_size, self.base = size, [max(1, math.ceil(s / 2 ** len(chans))) for s in size]
        self.project = nn.Linear(in_features, chans[0] * math.prod(self.base))
        stages: list[nn.Module] = []
        for c_in, c_out in zip(chans, chans[1:] + chans[-1:], strict=True):
            stages.append(UpSample(dims, c_in, c_out, scale_factor=2, mode="deconv"))
            stages.append(Convolution(dims, c_out, c_out, act="RELU", norm="BATCH"))
        stages.append(Convolution(dims, chans[-1], out_channels, kernel_size=1, conv_only=True))
        self.stages = nn.Sequential(*stages)
        self.first_channels, self.out_channels = chans[0], int(out_channels)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """(B, in_features) -> (B, out_channels, *spatial_size) in [0, 1]."""
        x = self.project(features).view(features.shape[0], self.first_channels, *self.base)
        x = self.stages(x)
        crop = (slice(None), slice(None), *(slice(0, s) for s in self.spatial_size))
        return torch.sigmoid(x[crop])
