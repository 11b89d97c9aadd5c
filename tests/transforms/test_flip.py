from __future__ import annotations

import numpy as np
import pytest
import torch

from noisymed.transforms import RandFlipOneAxisd


def test_flips_only_along_the_chosen_axes():
    image = torch.arange(2 * 3 * 4).reshape(1, 2, 3, 4).float()
    flips = {0: torch.flip(image, [1]), 1: torch.flip(image, [2]), 2: torch.flip(image, [3])}
    seen = set()
    t = RandFlipOneAxisd(["image", "label"], axes=(0, 1))
    t.set_random_state(seed=0)
    for _ in range(40):
        out = t({"image": image.clone(), "label": image.clone()})
        axis = [a for a, f in flips.items() if torch.equal(torch.as_tensor(out["image"]), f)]
        assert len(axis) == 1 and axis[0] in (0, 1)
        assert torch.equal(torch.as_tensor(out["label"]), torch.as_tensor(out["image"]))  # same flip for both keys
        seen.add(axis[0])
    assert seen == {0, 1}


def test_seeded_like_monai_transforms():
    image = torch.from_numpy(np.random.default_rng(0).standard_normal((1, 4, 4, 4))).float()
    runs = []
    for _ in range(2):
        t = RandFlipOneAxisd("image", axes=[0, 1, 2])
        t.set_random_state(seed=7)
        runs.append([torch.as_tensor(t({"image": image})["image"]) for _ in range(6)])
    assert all(torch.equal(a, b) for a, b in zip(*runs))


@pytest.mark.parametrize("axes", [[], [0, 0], [-1], [0.5]])
def test_bad_axes(axes):
    with pytest.raises(ValueError, match="axes must be distinct"):
        RandFlipOneAxisd("image", axes=axes)
