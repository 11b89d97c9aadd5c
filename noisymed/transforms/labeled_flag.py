"""Mark which samples of a semi-supervised batch carry a label."""

from __future__ import annotations

from collections.abc import Hashable, Mapping

import torch
from monai.config import KeysCollection
from monai.transforms import MapTransform

__all__ = ["MarkLabeledd"]


class MarkLabeledd(MapTransform):
    """Set ``flag_key`` to 1 where ``label_key`` is present, else add an all-zero label and set 0.

    Unlabeled items of a semi-supervised datalist have no label; this lets them share a batch (and
    every crop/flip transform) with labeled items. The trainer reads the flag, never the dummy label.

    Args:
        keys: the label key (one key).
        image_key: the channel-first image whose spatial shape the dummy (one-channel) label takes.
        flag_key: where to store the 0/1 flag.

    Raises:
        ValueError: when more than one label key is given.
        KeyError: when the image is missing.
    """

    def __init__(self, keys: KeysCollection = "label", image_key: str = "image", flag_key: str = "labeled"):
        super().__init__(keys, allow_missing_keys=True)
        if len(self.keys) != 1:
            raise ValueError(f"MarkLabeledd takes one label key, got {self.keys}.")
        self.image_key = image_key
        self.flag_key = flag_key

    def __call__(self, data: Mapping[Hashable, torch.Tensor]) -> dict[Hashable, torch.Tensor]:
        d = dict(data)
        key = self.keys[0]
        if self.image_key not in d:
            raise KeyError(f"MarkLabeledd needs {self.image_key!r} in the data, found {list(d)}.")
        labeled = d.get(key) is not None
        if not labeled:
            image = d[self.image_key]
            spatial = torch.as_tensor(image).shape[1:]
            d[key] = torch.zeros((1, *spatial), dtype=torch.uint8)  # one label channel, whatever the image's channels
            if hasattr(image, "meta"):
                from monai.data import MetaTensor

                d[key] = MetaTensor(d[key], meta=dict(image.meta))
        d[self.flag_key] = torch.tensor(int(labeled), dtype=torch.uint8)
        return d
