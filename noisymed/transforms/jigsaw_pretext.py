"""The jigsaw pretext task: cut each image into a grid of tiles, shuffle them by one of a fixed set of
permutations, and make the network name the permutation from the tiles' features.

2D images are cut into 2 x 2 tiles and every one of the 4! = 24 orders is a class. 3D volumes are cut into
2 x 2 x 2 tiles; of the 8! orders a fixed, seeded set of ``num_permutations`` (the identity first, the rest drawn
without repetition) are the classes, as Noroozi and Favaro pick a subset of 9! for their 3 x 3 puzzle. A side of
odd length loses its last voxel so the tiles are equal.

Reference:
    Noroozi M, Favaro P. Unsupervised learning of visual representations by solving jigsaw puzzles. ECCV 2016.
    Taleb A, et al. 3D self-supervised methods for medical imaging. NeurIPS 2020 (3D jigsaw).
"""

from __future__ import annotations

import itertools
import math

import torch

__all__ = ["jigsaw_permutations", "jigsaw_tiles"]


def jigsaw_permutations(spatial_dims: int, num_permutations: int | None = None, seed: int = 0) -> torch.Tensor:
    """The fixed permutations (the classes) of the 2-per-axis puzzle.

    Args:
        spatial_dims: 2 (4 tiles) or 3 (8 tiles).
        num_permutations: how many orders; None means all 24 in 2D and 24 in 3D.
        seed: seed of the draw in 3D (and in 2D when fewer than 24 are asked for).

    Returns:
        (P, T) long tensor, each row a permutation of ``range(T)``, row 0 the identity, rows distinct.

    Raises:
        ValueError: for ``spatial_dims`` not 2 or 3, or ``num_permutations`` outside [2, T!].
    """
    if spatial_dims not in (2, 3):
        raise ValueError(f"spatial_dims must be 2 or 3, got {spatial_dims}.")
    tiles = 2**spatial_dims
    count = 24 if num_permutations is None else int(num_permutations)
    if not 2 <= count <= math.factorial(tiles):
        raise ValueError(f"num_permutations must be in [2, {math.factorial(tiles)}] for {tiles} tiles, got {count}.")
    identity = tuple(range(tiles))
    if spatial_dims == 2 and count == 24:
        return torch.tensor(list(itertools.permutations(identity)), dtype=torch.long)
    generator = torch.Generator().manual_seed(seed)
    chosen, seen = [identity], {identity}
    while len(chosen) < count:
        perm = tuple(torch.randperm(tiles, generator=generator).tolist())
        if perm not in seen:
            seen.add(perm)
            chosen.append(perm)
    return torch.tensor(chosen, dtype=torch.long)


def jigsaw_tiles(images: torch.Tensor, permutations: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cut a batch into 2-per-axis tiles and order each image's tiles by its permutation.

    Tiles are numbered in row-major order of the grid (the last spatial axis fastest). Slot ``j`` of image ``i``
    holds tile ``permutations[labels[i], j]``.

    Args:
        images: (B, C, *spatial) with 2 or 3 spatial axes, each at least 2 long.
        permutations: (P, T) from :func:`jigsaw_permutations`.
        labels: (B,) permutation index of each image.

    Returns:
        (B, T, C, *tile) shuffled tiles.

    Raises:
        ValueError: when the batch, permutations and labels do not fit together.
    """
    spatial = tuple(images.shape[2:])
    if len(spatial) not in (2, 3) or min(spatial) < 2:
        raise ValueError(
            f"images must be (B, C, *spatial) with 2 or 3 spatial axes of length >= 2, got {tuple(images.shape)}."
        )
    tiles = 2 ** len(spatial)
    if permutations.ndim != 2 or permutations.shape[1] != tiles:
        raise ValueError(
            f"permutations must be (P, {tiles}) for {len(spatial)}D images, got {tuple(permutations.shape)}."
        )
    if labels.shape != (images.shape[0],) or int(labels.min()) < 0 or int(labels.max()) >= permutations.shape[0]:
        raise ValueError(f"labels must be ({images.shape[0]},) in [0, {permutations.shape[0]}), got {labels.tolist()}.")
    half = [s // 2 for s in spatial]
    grid = []
    for corner in itertools.product((0, 1), repeat=len(spatial)):
        index = tuple(slice(c * h, (c + 1) * h) for c, h in zip(corner, half, strict=True))
        grid.append(images[(slice(None), slice(None), *index)])
    stacked = torch.stack(grid, 1)  # (B, T, C, *tile)
    order = permutations.to(images.device)[labels.to(images.device)]  # (B, T)
    gather = order.view(*order.shape, *([1] * (stacked.ndim - 2))).expand_as(stacked)
    return torch.gather(stacked, 1, gather)
