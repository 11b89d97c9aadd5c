from __future__ import annotations

import pytest
import torch
from monai.transforms import Compose, CopyItemsd
from monai.utils import set_determinism

from noisymed.transforms import contrastive_view


@pytest.mark.parametrize("size", [(28, 28), (12, 12, 12)])
def test_two_views_differ_and_keep_the_size(size):
    set_determinism(seed=0)
    views = Compose([CopyItemsd("image", names="image_2"), contrastive_view("image", size), contrastive_view("image_2", size)])
    out = views({"image": torch.rand(1, *size)})
    assert out["image"].shape == (1, *size) and out["image_2"].shape == (1, *size)
    assert not torch.allclose(torch.as_tensor(out["image"]), torch.as_tensor(out["image_2"]))
    set_determinism(seed=None)


def test_errors():
    with pytest.raises(ValueError, match="2 or 3 values"):
        contrastive_view("image", (28,))
    with pytest.raises(ValueError, match="min_crop"):
        contrastive_view("image", (28, 28), min_crop=0.0)
