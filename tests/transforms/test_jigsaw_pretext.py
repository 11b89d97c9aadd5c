from __future__ import annotations

import pytest
import torch

from noisymed.transforms import jigsaw_permutations, jigsaw_tiles


def test_permutation_sets():
    p2 = jigsaw_permutations(2)
    assert p2.shape == (24, 4) and len({tuple(r) for r in p2.tolist()}) == 24 and p2[0].tolist() == [0, 1, 2, 3]
    p3 = jigsaw_permutations(3, 10, seed=3)
    assert p3.shape == (10, 8) and len({tuple(r) for r in p3.tolist()}) == 10 and p3[0].tolist() == list(range(8))
    assert all(sorted(r) == list(range(8)) for r in p3.tolist())
    assert torch.equal(p3, jigsaw_permutations(3, 10, seed=3))  # fixed by the seed


def test_2d_tiles_by_hand():
    image = torch.tensor([[[1.0, 1.0, 2.0, 2.0], [1.0, 1.0, 2.0, 2.0], [3.0, 3.0, 4.0, 4.0], [3.0, 3.0, 4.0, 4.0]]])
    perms = torch.tensor([[0, 1, 2, 3], [3, 2, 1, 0]])
    tiles = jigsaw_tiles(image[None].repeat(2, 1, 1, 1), perms, torch.tensor([0, 1]))
    assert tiles.shape == (2, 4, 1, 2, 2)
    assert [float(t.mean()) for t in tiles[0]] == [1.0, 2.0, 3.0, 4.0]
    assert [float(t.mean()) for t in tiles[1]] == [4.0, 3.0, 2.0, 1.0]


def test_3d_tiles_are_row_major_and_odd_sides_lose_the_last_voxel():
    volume = torch.zeros(1, 1, 5, 4, 4)
    for t, (i, j, k) in enumerate([(a, b, c) for a in (0, 1) for b in (0, 1) for c in (0, 1)]):
        volume[0, 0, 2 * i : 2 * i + 2, 2 * j : 2 * j + 2, 2 * k : 2 * k + 2] = t
    perms = jigsaw_permutations(3, 2)
    tiles = jigsaw_tiles(volume, perms, torch.tensor([1]))
    assert tiles.shape == (1, 8, 1, 2, 2, 2)
    assert [float(t.mean()) for t in tiles[0]] == [float(p) for p in perms[1].tolist()]


def test_errors_are_named():
    with pytest.raises(ValueError, match=r"num_permutations must be in \[2, 24\] for 4 tiles, got 25"):
        jigsaw_permutations(2, 25)
    with pytest.raises(ValueError, match="spatial_dims must be 2 or 3, got 1"):
        jigsaw_permutations(1)
    with pytest.raises(ValueError, match=r"permutations must be \(P, 4\) for 2D images"):
        jigsaw_tiles(torch.zeros(1, 1, 4, 4), jigsaw_permutations(3, 2), torch.tensor([0]))
    with pytest.raises(ValueError, match=r"labels must be \(1,\) in \[0, 24\), got \[24\]"):
        jigsaw_tiles(torch.zeros(1, 1, 4, 4), jigsaw_permutations(2), torch.tensor([24]))
