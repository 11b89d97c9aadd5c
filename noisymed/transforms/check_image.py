"""Refuse an image a model must not see: the wrong number of spatial axes (a 3D volume given to a 2D model) or
NaN/infinite values (one such image trains every later step on ``loss=nan``).

MONAI's readers pass both through: a NIfTI volume loads as ``(1, H, W, D)`` and fails (or is silently resized) in a
later transform, and NaN voxels survive ``ScaleIntensity`` as NaN. The check runs right after loading, where the
file is still known, so the error names it.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

import torch
from monai.config import KeysCollection
from monai.transforms import MapTransform, Transform

__all__ = ["check_image", "CheckImage", "CheckImaged"]


def _source(img: Any, source: Any) -> str:
    if source is not None:
        return str(source)
    name = (getattr(img, "meta", None) or {}).get("filename_or_obj")
    return str(name) if name else "an image"


def check_image(
    img: torch.Tensor, spatial_dims: int | None = 2, finite: bool = True, source: Any = None, hint: str = ""
) -> torch.Tensor:
    """Return ``img`` (channel first) unchanged, or raise naming its source.

    Args:
        img: the channel-first image.
        spatial_dims: the spatial axes the model takes (None: any).
        finite: refuse NaN and infinite values.
        source: how to name the image (default: its meta ``filename_or_obj``).
        hint: what the user can do instead, added to a wrong-dimensions message.

    Returns:
        ``img``.

    Raises:
        ValueError: for an image with another number of spatial axes (its shape named) or with non-finite values
            (their count and the first one's position named).
    """
    if spatial_dims is not None and img.ndim != spatial_dims + 1:
        kind = {3: "2D image", 4: "3D volume"}.get(img.ndim, f"{img.ndim - 1}D array")
        raise ValueError(
            f"{_source(img, source)}: a {kind} of shape {tuple(img.shape)} (channel first), but this model takes "
            f"{spatial_dims}D images{'; ' + hint if hint else ''}."
        )
    if finite and torch.is_floating_point(img):
        bad = ~torch.isfinite(torch.as_tensor(img))
        if bool(bad.any()):
            first = tuple(int(i) for i in torch.nonzero(bad)[0])
            raise ValueError(
                f"{_source(img, source)}: {int(bad.sum())} of {img.numel()} values are NaN or infinite (the first at "
                f"{first}); fix or remove this image: training on it gives loss=nan."
            )
    return img


class CheckImage(Transform):
    """Array transform of :func:`check_image`.

    Args:
        spatial_dims: the spatial axes the model takes (None: any).
        finite: refuse NaN and infinite values.
        hint: what the user can do instead, added to a wrong-dimensions message.
    """

    def __init__(self, spatial_dims: int | None = 2, finite: bool = True, hint: str = "") -> None:
        if spatial_dims not in (None, 1, 2, 3):
            raise ValueError(f"spatial_dims must be 1, 2, 3 or None, got {spatial_dims!r}.")
        self.spatial_dims, self.finite, self.hint = spatial_dims, finite, hint

    def __call__(self, img: torch.Tensor, source: Any = None) -> torch.Tensor:
        return check_image(img, self.spatial_dims, self.finite, source, self.hint)


class CheckImaged(MapTransform):
    """Dictionary version of :class:`CheckImage`; the image is named by its metadata or the item's ``path``.

    Args:
        keys: image keys.
        spatial_dims: the spatial axes the model takes (None: any).
        finite: refuse NaN and infinite values.
        hint: what the user can do instead, added to a wrong-dimensions message.
        allow_missing_keys: skip absent keys.
    """

    def __init__(
        self,
        keys: KeysCollection = "image",
        spatial_dims: int | None = 2,
        finite: bool = True,
        hint: str = "",
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.checker = CheckImage(spatial_dims, finite, hint)

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        for key in self.key_iterator(d):
            meta = getattr(d[key], "meta", None) or {}
            name = meta.get("filename_or_obj") or d.get(f"{key}_source") or d.get("path")
            d[key] = self.checker(d[key], name)
        return d
