"""The brain mask of skull-stripped MRI: every voxel that is not zero."""

from __future__ import annotations

from monai.config import NdarrayOrTensor

__all__ = ["is_nonzero"]


def is_nonzero(img: NdarrayOrTensor) -> NdarrayOrTensor:
    """``img != 0``: the brain voxels of a skull-stripped MRI, for ``CropForegroundd(select_fn=...)``.

    MONAI's default ``select_fn`` keeps ``img > 0``, which on a volume that is already z-scored (the SSL4MIS
    BraTS h5 files) would crop the brain to its brighter half; on raw MRI (non-negative) both agree.

    Args:
        img: an array or tensor.

    Returns:
        A boolean array of the same type and shape.
    """
    return img != 0
