"""The rotation-prediction pretext task: each image of a batch turned by 0, 90, 180 or 270 degrees, and by how much.

In 2D the image turns in its plane. In 3D it turns about one axis (the last spatial axis, so in the plane of the
first two spatial axes, MONAI's (H, W) of an (H, W, D) volume), which keeps the task at the same four classes;
rotations about all three axes (24 classes of the cube's rotation group) would also show the network which axis is
the slice axis, something medical volumes already fix. Quarter turns need a square plane; any other is refused.

Reference:
    Gidaris S, Singh P, Komodakis N. Unsupervised representation learning by predicting image rotations. ICLR 2018.
"""

from __future__ import annotations

import torch

__all__ = ["rotate_batch", "NUM_ROTATIONS"]

NUM_ROTATIONS = 4


def rotate_batch(images: torch.Tensor, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Turn each image by a random multiple of 90 degrees in the plane of its first two spatial axes.

    Args:
        images: (B, C, H, W) or (B, C, H, W, D) batch with H == W.
        generator: random generator for the rotations (the global one when None).

    Returns:
        ``(rotated, k)``: the turned batch (same shape) and the (B,) quarter turns ``k`` in {0, 1, 2, 3} (the
        class labels), image ``i`` being ``torch.rot90(images[i], k[i], dims=(1, 2))``.

    Raises:
        ValueError: for a batch that is not 4D/5D or whose first two spatial axes differ in length.
    """
    if images.ndim not in (4, 5):
        raise ValueError(f"images must be (B, C, H, W) or (B, C, H, W, D), got shape {tuple(images.shape)}.")
    if images.shape[2] != images.shape[3]:
        raise ValueError(
            f"rotation prediction turns images by quarter turns in the (H, W) plane, which needs H == W; got "
            f"shape {tuple(images.shape)}: resize to a square spatial_size first."
        )
    k = torch.randint(0, NUM_ROTATIONS, (images.shape[0],), generator=generator).to(images.device)
    rotated = torch.stack([torch.rot90(img, int(turns), dims=(1, 2)) for img, turns in zip(images, k, strict=True)])
    return rotated, k
