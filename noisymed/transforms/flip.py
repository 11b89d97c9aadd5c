"""Flip along one axis drawn from a chosen set: the LA literature's augmentation, built from MONAI's transforms."""

from __future__ import annotations

from collections.abc import Sequence

from monai.config import KeysCollection
from monai.transforms import OneOf, RandFlipd

__all__ = ["RandFlipOneAxisd"]


class RandFlipOneAxisd(OneOf):
    """Flip the ``keys`` along one axis drawn uniformly from ``axes`` (always one flip).

    The official LA code (``RandomRotFlip`` of UA-MT and its successors) rotates by k·90° in the first two axes and
    then flips along axis 0 or 1, never along z. MONAI's ``RandAxisFlipd`` draws from every spatial axis.
    ``RandFlipOneAxisd(keys, axes=(0, 1))`` is the official choice; ``axes=(0, 1, 2)`` is ``RandAxisFlipd``'s.
    It is MONAI's :class:`~monai.transforms.OneOf` over one ``RandFlipd(prob=1)`` per axis, so it is invertible and
    seeded like any MONAI random transform.

    Args:
        keys: keys to flip (together, along the same axis).
        axes: spatial axes to draw from (0-based, no repeats).
        allow_missing_keys: do not fail on a missing key.

    Raises:
        ValueError: when ``axes`` is empty, repeats an axis or holds a negative or non-integer value.
    """

    def __init__(self, keys: KeysCollection, axes: Sequence[int] = (0, 1), allow_missing_keys: bool = False) -> None:
        axes = list(axes) if not isinstance(axes, int) else [axes]
        bad = [a for a in axes if isinstance(a, bool) or not isinstance(a, int) or a < 0]
        if not axes or len(set(axes)) != len(axes) or bad:
            raise ValueError(f"axes must be distinct non-negative spatial axes, e.g. [0, 1]; got {axes!r}.")
        super().__init__(
            [RandFlipd(keys, prob=1.0, spatial_axis=a, allow_missing_keys=allow_missing_keys) for a in axes]
        )
        self.axes = axes
