"""The random augmentation of one contrastive view (SimCLR-style), built from MONAI transforms, 2D or 3D.

Contrastive pretraining needs two independent random views of each image. MONAI's dictionary transforms draw
one set of random parameters for all their keys, so each view gets its own instance of this chain (one for
``image``, one for its copy ``image_2``). The chain follows SimCLR's recipe adapted to grey medical images
(no colour jitter): random resized crop, flips, contrast (gamma) change, Gaussian blur and Gaussian noise.
Rotation is left out: on 28 px images it costs as much as the rest of the chain together on these CPUs
(about 1.5 of 3.4 ms per view) for a transformation the random crop already approximates.
"""

from __future__ import annotations

from collections.abc import Sequence

from monai.transforms import (
    Compose,
    RandAdjustContrastd,
    RandFlipd,
    RandGaussianNoised,
    RandGaussianSmoothd,
    RandSpatialCropd,
    Resized,
)

__all__ = ["contrastive_view"]


def contrastive_view(key: str, spatial_size: Sequence[int], min_crop: float = 0.6) -> Compose:
    """A random view of the image under ``key`` (channel first, intensities in [0, 1]) at ``spatial_size``.

    Args:
        key: the image key this chain augments.
        spatial_size: output size, 2 or 3 values.
        min_crop: smallest crop side as a fraction of the image side.

    Returns:
        A MONAI ``Compose`` of random dictionary transforms.

    Raises:
        ValueError: for a ``spatial_size`` that is not 2D or 3D, or ``min_crop`` outside (0, 1].
    """
    size = [int(s) for s in spatial_size]
    if len(size) not in (2, 3):
        raise ValueError(f"spatial_size must have 2 or 3 values, got {spatial_size}.")
    if not 0.0 < min_crop <= 1.0:
        raise ValueError(f"min_crop must be in (0, 1], got {min_crop}.")
    three_d = len(size) == 3
    return Compose(
        [
            RandSpatialCropd(key, roi_size=[max(1, int(s * min_crop)) for s in size], random_size=True),
            Resized(key, spatial_size=size, mode="trilinear" if three_d else "bilinear"),
            RandFlipd(key, prob=0.5, spatial_axis=0),
            RandFlipd(key, prob=0.5, spatial_axis=1),
            RandAdjustContrastd(key, prob=0.8, gamma=(0.6, 1.6)),
            RandGaussianSmoothd(key, prob=0.3, sigma_x=(0.1, 1.0), sigma_y=(0.1, 1.0), sigma_z=(0.1, 1.0)),
            RandGaussianNoised(key, prob=0.5, std=0.05),
        ]
    )
