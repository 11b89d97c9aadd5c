from __future__ import annotations

import numpy as np
import torch
from monai.transforms import CropForeground

from noisymed.transforms import is_nonzero


def test_nonzero_keeps_negative_brain_voxels():
    img = np.zeros((1, 6, 5, 4), np.float32)
    img[0, 1:4, 2:4, 1:3] = -0.5  # a z-scored brain is partly negative
    img[0, 2, 2, 2] = 1.0
    assert is_nonzero(img).sum() == 3 * 2 * 2
    assert CropForeground(select_fn=is_nonzero)(img).shape == (1, 3, 2, 2)
    assert CropForeground()(img).shape == (1, 1, 1, 1)  # MONAI's default (img > 0) keeps the bright voxel only
    assert torch.equal(is_nonzero(torch.tensor([0.0, -1.0, 2.0])), torch.tensor([False, True, True]))
