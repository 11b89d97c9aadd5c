from __future__ import annotations

import pytest
import torch
from monai.data import MetaTensor

from noisymed.transforms import MarkLabeledd


def test_labeled_and_unlabeled_items():
    image = MetaTensor(torch.randn(1, 4, 4, 2), affine=torch.diag(torch.tensor([2.0, 2.0, 2.0, 1.0])))
    label = torch.ones(1, 4, 4, 2)
    out = MarkLabeledd("label")({"image": image, "label": label})
    assert out["labeled"].item() == 1 and out["label"] is label
    out = MarkLabeledd("label")({"image": image})
    assert out["labeled"].item() == 0
    assert out["label"].shape == image.shape and out["label"].sum() == 0 and out["label"].dtype == torch.uint8
    assert torch.equal(out["label"].affine, image.affine)
    multi = MetaTensor(torch.randn(3, 4, 4, 2))  # three modalities as channels: the dummy label keeps one channel
    assert MarkLabeledd("label")({"image": multi})["label"].shape == (1, 4, 4, 2)
    with pytest.raises(KeyError, match="image"):
        MarkLabeledd("label")({"label": label})
