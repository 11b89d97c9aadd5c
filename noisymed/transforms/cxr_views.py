"""Chest X-ray preprocessing and the weak / strong views of MPC, built from MONAI transforms."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from monai.transforms import (
    CopyItemsd,
    EnsureChannelFirstd,
    EnsureTyped,
    LoadImaged,
    Rand2DElasticd,
    RandAdjustContrastd,
    RandAffined,
    RandCoarseDropoutd,
    RandGaussianNoised,
    RandGaussianSharpend,
    RandGaussianSmoothd,
    RandScaleIntensityd,
    RandShiftIntensityd,
    Resized,
    ScaleIntensityd,
    SomeOf,
)

from noisymed.utils import as_bool

from .check_image import CheckImaged
from .monochrome import InvertMonochrome1d

__all__ = ["cxr_preprocessing", "weak_augmentation", "strong_view"]

_CXR_HINT = "give 2D chest radiographs (PNG/JPEG or a single-frame DICOM file)"


def _size(image_size: int | Sequence[int]) -> tuple[int, int]:
    size = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
    if len(size) != 2 or min(size) < 32:
        raise ValueError(f"image_size must be one or two ints >= 32 (DenseNet121 downsamples 32x), got {image_size}.")
    return size  # type: ignore[return-value]


def cxr_preprocessing(image_size: int | Sequence[int] = 64, key: str = "image") -> list:
    """Load a PNG/JPEG or DICOM chest X-ray as a ``(1, H, W)`` float32 image in [0, 1].

    ``LoadImaged`` with :func:`noisymed.data.cxr_readers` (explicit readers), ``EnsureChannelFirstd``,
    :class:`CheckImaged` (a 3D volume or multi-frame DICOM and NaN/infinite pixels are refused, naming the file),
    :class:`InvertMonochrome1d`, ``Resized`` to ``image_size`` (area), ``ScaleIntensityd`` (min-max).

    Args:
        image_size: side (or ``(H, W)``) of the network input, >= 32.
        key: the image key.

    Returns:
        The transforms, for a ``Compose``.

    Raises:
        ValueError: for a bad ``image_size``.
    """
    from noisymed.data import cxr_readers

    return [
        LoadImaged(keys=key, reader=cxr_readers(), image_only=True),
        EnsureChannelFirstd(keys=key, channel_dim="no_channel"),
        CheckImaged(keys=key, spatial_dims=2, hint=_CXR_HINT),
        InvertMonochrome1d(keys=key),
        Resized(keys=key, spatial_size=_size(image_size), mode="area"),
        ScaleIntensityd(keys=key),
        EnsureTyped(keys=key, dtype=torch.float32, track_meta=False),
    ]


def weak_augmentation(key: str = "image", image_size: int = 64) -> list:
    """The weak view: a small random affine (±5°, ±4 % shift, ±5 % scale), no flip (the heart is on the left).

    Args:
        key: the image key.
        image_size: image side, to scale the shift in pixels.

    Returns:
        The transforms.
    """
    shift = 0.04 * image_size
    return [
        RandAffined(
            keys=key, prob=1.0, rotate_range=0.087, translate_range=(shift, shift), scale_range=(0.05, 0.05),
            padding_mode="zeros",
        )
    ]  # fmt: skip


def strong_view(
    key: str = "image", strong_key: str = "image_strong", image_size: int = 64, elastic: bool = True, num_ops: int = 2
) -> list:
    """Add ``strong_key``, a strongly augmented copy of ``key`` (the IPC view of MPC).

    RandAugment-style (Cubuk et al., 2020; as in FixMatch): a larger random affine (±15°, ±10 % shift,
    ±15 % scale, shear), ``num_ops`` intensity operations drawn by ``SomeOf`` (contrast/gamma, scale, shift,
    Gaussian noise, blur, sharpen), a 1/4-size cutout (``RandCoarseDropoutd``) with probability 0.5 and,
    when ``elastic``, MONAI's ``Rand2DElasticd`` (the random elastic deformation of MPC) with probability 0.5.

    Args:
        key: the source image key (before the weak augmentation).
        strong_key: the new key.
        image_size: image side, to scale shifts, cutout and elastic grid.
        elastic: add the random elastic deformation.
        num_ops: intensity operations per image.

    Returns:
        The transforms (``CopyItemsd`` first).

    Raises:
        ValueError: for ``num_ops`` outside [0, 6].
    """
    intensity = [
        RandAdjustContrastd(keys=strong_key, prob=1.0, gamma=(0.5, 2.0)),
        RandScaleIntensityd(keys=strong_key, prob=1.0, factors=0.3),
        RandShiftIntensityd(keys=strong_key, prob=1.0, offsets=0.15),
        RandGaussianNoised(keys=strong_key, prob=1.0, std=0.05),
        RandGaussianSmoothd(keys=strong_key, prob=1.0, sigma_x=(0.5, 1.2), sigma_y=(0.5, 1.2)),
        RandGaussianSharpend(keys=strong_key, prob=1.0),
    ]
    if not 0 <= num_ops <= len(intensity):
        raise ValueError(f"num_ops must be in [0, {len(intensity)}], got {num_ops}.")
    shift = 0.1 * image_size
    out = [
        CopyItemsd(keys=key, names=strong_key),
        RandAffined(
            keys=strong_key, prob=1.0, rotate_range=0.26, translate_range=(shift, shift), scale_range=(0.15, 0.15),
            shear_range=(0.1, 0.1), padding_mode="zeros",
        ),
    ]  # fmt: skip
    if num_ops:
        out.append(SomeOf(intensity, num_transforms=num_ops))
    hole = max(1, image_size // 4)
    out.append(RandCoarseDropoutd(keys=strong_key, holes=1, spatial_size=(hole, hole), fill_value=0.0, prob=0.5))
    if as_bool(elastic, "elastic"):
        grid = max(4, image_size // 4)
        out.append(
            Rand2DElasticd(
                keys=strong_key, spacing=(grid, grid), magnitude_range=(1.0, 2.0), prob=0.5, padding_mode="zeros"
            )
        )
    return out
