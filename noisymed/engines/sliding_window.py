"""MONAI's sliding-window inferer with the two options the LA literature's test code differs by.

The official LA test code (UA-MT and its successors, including the mutual-learning paper) slides a window with
integer strides (18, 18, 4 for a 112x112x80 patch) and averages each window's *softmax probabilities*.
MONAI's :class:`~monai.inferers.SlidingWindowInferer` takes an overlap fraction and averages whatever the
network returns (logits). :class:`SlidingWindowAverageInferer` adds:

* ``stride``: window strides in voxels; the overlap that makes MONAI use exactly those strides is computed by
  :func:`overlap_for_stride` (MONAI's interval is ``int(roi * (1 - overlap))``, and the window positions are
  ``min(i * interval, size - roi)``, the official code's positions);
* ``average="probs"``: each window's logits go through a softmax over the channel axis before the windows are
  averaged. The inferer then returns ``log(mean probability)``, so the later ``Activationsd(softmax=True)`` of
  the bundle's postprocessing gives back exactly the averaged probabilities (their argmax is the official
  prediction).
* ``channels_last``: each window goes to the network in channels-last memory format
  (:func:`noisymed.utils.to_channels_last`), for a network converted the same way; the values do not change.

Under mixed precision the window probabilities are computed in float32 from the network's float16/bfloat16 logits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from monai.inferers import SlidingWindowInferer

from noisymed.utils import as_bool, at_least_float32, to_channels_last

__all__ = ["SlidingWindowAverageInferer", "overlap_for_stride", "SW_AVERAGES"]

#: What :class:`SlidingWindowAverageInferer` averages over overlapping windows.
SW_AVERAGES: tuple[str, ...] = ("logits", "probs")


def overlap_for_stride(roi_size: Sequence[int], stride: Sequence[int] | int) -> list[float]:
    """The per-axis overlap for which MONAI's sliding window moves by exactly ``stride`` voxels.

    MONAI computes the interval as ``int(roi * (1 - overlap))``; ``overlap = 1 - (stride + 0.5) / roi`` puts that
    product half a voxel above ``stride``, out of reach of rounding error (0 where ``stride == roi``).

    Args:
        roi_size: window size per spatial axis, e.g. ``[112, 112, 80]``.
        stride: strides in voxels, one per axis (or one number for all), each in ``1..roi``.

    Returns:
        one overlap fraction per axis, e.g. ``[0.8348, 0.8348, 0.9438]`` for ``[18, 18, 4]``.

    Raises:
        ValueError: when the lengths differ or a stride is not an integer in ``1..roi``.
    """
    roi = [int(r) for r in roi_size]
    steps = [stride] * len(roi) if isinstance(stride, int) else list(stride)
    if len(steps) != len(roi):
        raise ValueError(f"stride {list(steps)} must have one value per axis of roi_size {roi}.")
    for s, r in zip(steps, roi, strict=True):
        if isinstance(s, bool) or not isinstance(s, int) or not 1 <= s <= r:
            raise ValueError(f"stride {list(steps)}: each value must be an integer in 1..roi size {roi}, got {s!r}.")
    return [max(0.0, 1.0 - (s + 0.5) / r) for s, r in zip(steps, roi, strict=True)]  # stride == roi: no overlap


class SlidingWindowAverageInferer(SlidingWindowInferer):
    """:class:`~monai.inferers.SlidingWindowInferer` with integer strides and probability averaging.

    Args:
        roi_size: window size.
        overlap: overlap fraction (one or per axis), used when ``stride`` is None.
        stride: window strides in voxels (e.g. ``[18, 18, 4]``, the official LA evaluation); overrides ``overlap``.
        average: ``"logits"`` averages the network's outputs (MONAI's behaviour); ``"probs"`` averages their
            softmax over channels and returns the log of the average (the official LA code's behaviour).
        channels_last: hand each window to the network in channels-last memory format.
        kwargs: anything else :class:`~monai.inferers.SlidingWindowInferer` takes (``sw_batch_size``, ``mode``...).

    Raises:
        ValueError: for an unknown ``average`` or a bad ``stride``.

    Example::

        inferer = SlidingWindowAverageInferer([112, 112, 80], stride=[18, 18, 4], average="probs")
        log_prob = inferer(image, network)  # softmax(log_prob) is the averaged probability
    """

    def __init__(
        self,
        roi_size: Sequence[int] | int,
        overlap: Sequence[float] | float = 0.25,
        stride: Sequence[int] | int | None = None,
        average: str = "logits",
        channels_last: bool | str = False,
        **kwargs: Any,
    ) -> None:
        if average not in SW_AVERAGES:
            raise ValueError(f"average must be one of {SW_AVERAGES}, got {average!r}.")
        if stride is not None:
            if isinstance(roi_size, int):
                raise ValueError(f"stride {stride!r} needs roi_size per axis, got {roi_size!r}.")
            overlap = overlap_for_stride(roi_size, stride)
        super().__init__(roi_size=roi_size, overlap=overlap, **kwargs)
        self.stride = stride
        self.average = average
        self.channels_last = as_bool(channels_last, "channels_last")

    def __call__(
        self, inputs: torch.Tensor, network: Callable[..., torch.Tensor], *args: Any, **kwargs: Any
    ) -> torch.Tensor:
        """Run the sliding window; with ``average="probs"`` return the log of the averaged probabilities."""
        if self.channels_last:
            network = _ChannelsLastWindows(network)
        if self.average == "logits":
            return super().__call__(inputs, network, *args, **kwargs)

        def window_probs(window: torch.Tensor, *a: Any, **k: Any) -> torch.Tensor:
            return torch.softmax(at_least_float32(network(window, *a, **k)), dim=1)

        mean_prob = super().__call__(inputs, window_probs, *args, **kwargs)
        return torch.log(mean_prob.clamp_min(torch.finfo(mean_prob.dtype).tiny))


class _ChannelsLastWindows:
    """``network`` called on windows converted to channels-last memory format."""

    def __init__(self, network: Callable[..., torch.Tensor]) -> None:
        self.network = network

    def __call__(self, window: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
        return self.network(to_channels_last(window), *args, **kwargs)
