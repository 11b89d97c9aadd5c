"""Invert MONOCHROME1 radiographs (bright = low values), which MONAI's DICOM readers leave as stored."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

import torch
from monai.config import KeysCollection
from monai.transforms import MapTransform, Transform

__all__ = ["PHOTOMETRIC_TAG", "InvertMonochrome1", "InvertMonochrome1d", "photometric_interpretation"]

PHOTOMETRIC_TAG = "00280004"


def photometric_interpretation(meta: Mapping[str, Any]) -> str | None:
    """``PhotometricInterpretation`` from a MetaTensor's meta dict (``PydicomReader(prune_metadata=False)``).

    Returns:
        e.g. ``"MONOCHROME1"``, or None when the meta has no such tag (PNG/JPEG).
    """
    tag = meta.get(PHOTOMETRIC_TAG)
    if isinstance(tag, Mapping):
        value = tag.get("Value")
        return str(value[0]) if value else None
    return str(tag) if tag is not None else None


class InvertMonochrome1(Transform):
    """``x → max(x) + min(x) - x`` when the image's meta says MONOCHROME1; any other image is returned as is.

    The image must carry the DICOM header in its meta (see :func:`noisymed.data.cxr_readers`).
    """

    def __call__(self, img: torch.Tensor) -> torch.Tensor:
        meta = getattr(img, "meta", {})
        if photometric_interpretation(meta) != "MONOCHROME1":
            return img
        out = img.max() + img.min() - img
        if hasattr(out, "meta"):
            out.meta[PHOTOMETRIC_TAG] = {"vr": "CS", "Value": ["MONOCHROME2"]}
        return out


class InvertMonochrome1d(MapTransform):
    """Dictionary version of :class:`InvertMonochrome1`.

    Args:
        keys: image keys.
        allow_missing_keys: skip absent keys.
    """

    def __init__(self, keys: KeysCollection = "image", allow_missing_keys: bool = False):
        super().__init__(keys, allow_missing_keys)
        self.inverter = InvertMonochrome1()

    def __call__(self, data: Mapping[Hashable, torch.Tensor]) -> dict[Hashable, torch.Tensor]:
        d = dict(data)
        for key in self.key_iterator(d):
            d[key] = self.inverter(d[key])
        return d
