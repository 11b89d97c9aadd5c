from __future__ import annotations

import pytest
import torch

from noisymed.transforms import rotate_batch


def test_2d_quarter_turns_by_hand():
    image = torch.tensor([[[1.0, 2.0], [3.0, 4.0]]])  # (C=1, 2, 2)
    batch = image.expand(16, 1, 2, 2)
    rotated, k = rotate_batch(batch, torch.Generator().manual_seed(0))
    expected = {
        0: [[1.0, 2.0], [3.0, 4.0]],
        1: [[2.0, 4.0], [1.0, 3.0]],  # counter-clockwise
        2: [[4.0, 3.0], [2.0, 1.0]],
        3: [[3.0, 1.0], [4.0, 2.0]],
    }
    assert set(k.tolist()) == {0, 1, 2, 3}
    for img, turns in zip(rotated, k.tolist()):
        assert img[0].tolist() == expected[turns]


def test_3d_turns_about_the_last_axis_only():
    volume = torch.arange(8.0).reshape(1, 1, 2, 2, 2).expand(8, 1, 2, 2, 2)
    rotated, k = rotate_batch(volume, torch.Generator().manual_seed(1))
    for img, turns in zip(rotated, k.tolist()):
        assert torch.equal(img, torch.rot90(volume[0], turns, dims=(1, 2)))
        # every slice along the last axis keeps its own voxels
        assert sorted(img[0, :, :, 0].flatten().tolist()) == [0.0, 2.0, 4.0, 6.0]


def test_non_square_plane_is_refused_with_the_shape():
    with pytest.raises(ValueError, match=r"needs H == W; got shape \(2, 1, 4, 6\)"):
        rotate_batch(torch.zeros(2, 1, 4, 6))
    with pytest.raises(ValueError, match="must be"):
        rotate_batch(torch.zeros(2, 4, 4))
