"""A MONAI cumulative metric that computes medpy-style segmentation scores.

:class:`SegmentationSurfaceMetric` wraps :func:`noisymed.metrics.surface.segmentation_scores` in
MONAI's :class:`~monai.metrics.CumulativeIterationMetric` interface. It can be used anywhere a
MONAI metric is accepted, for example in
``monai.handlers.IgniteMetricHandler(metric_fn=..., save_details=True)``, which lets
``MetricsSaver`` write per-case values.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from monai.data import MetaTensor
from monai.data.utils import affine_to_spacing
from monai.metrics import CumulativeIterationMetric
from monai.metrics.utils import do_metric_reduction, is_binary_tensor
from monai.utils import MetricReduction
from monai.utils.type_conversion import convert_to_numpy

from noisymed.metrics.surface import CONVENTIONS, segmentation_scores

__all__ = ["METRIC_NAMES", "SegmentationSurfaceMetric"]

#: Scores that :class:`SegmentationSurfaceMetric` can report.
METRIC_NAMES: tuple[str, ...] = ("dice", "jaccard", "hd95", "asd", "empty_pred")


class SegmentationSurfaceMetric(CumulativeIterationMetric):
    """Per-case, per-class Dice / Jaccard / HD95 / ASD in the medpy (LA literature) style.

    ``y_pred`` and ``y`` are binarized one-hot tensors, batch-first ``(B, C, spatial...)``, or
    lists of channel-first ``(C, spatial...)`` tensors. This is the usual output of
    ``AsDiscrete(argmax=True, to_onehot=C)`` / ``AsDiscrete(to_onehot=C)``. Every case and
    class is scored with :func:`noisymed.metrics.surface.segmentation_scores`, and
    ``_compute_tensor`` returns a ``(B, C')`` tensor, where ``C' = C - 1`` when the
    background channel is dropped.

    See :mod:`noisymed.metrics.surface` for why this HD95 differs from MONAI's
    ``HausdorffDistanceMetric(percentile=95)``.

    Example::

        metric = SegmentationSurfaceMetric("hd95", convention="literature")
        metric(y_pred=[p0, p1], y=[y0, y1])  # channel-first one-hot tensors
        value = metric.aggregate()  # nan-ignoring mean over cases and classes
        metric.reset()

    Args:
        metric_name: one of ``"dice"``, ``"jaccard"``, ``"hd95"``, ``"asd"``, or ``"empty_pred"`` (1 for a case
            whose prediction has no foreground voxel, else 0: its mean is the share of empty predictions, its sum
            their count; the convention does not matter).
        convention: ``"literature"`` (voxel units; an empty prediction scores 0), ``"mm"``
            (physical units; NaN distances when a mask is empty) or ``"strict"`` (voxel units; an empty
            prediction scores the image diagonal). See
            :func:`~noisymed.metrics.surface.segmentation_scores`.
        include_background: whether to score channel 0. Defaults to ``False``. With a single
            channel input this option is ignored (with a warning), as in MONAI's ``DiceMetric``.
        reduction: MONAI reduction mode applied by :meth:`aggregate`, one of ``"none"``,
            ``"mean"``, ``"sum"``, ``"mean_batch"``, ``"sum_batch"``, ``"mean_channel"``,
            ``"sum_channel"``. NaN values are ignored. Defaults to ``"mean"``.
        spacing: voxel size per spatial dimension (one number for isotropic spacing), used by
            the ``"mm"`` convention. If ``None`` and the convention is ``"mm"``, the spacing is
            read from ``y_pred.pixdim`` (per item for a batched :class:`~monai.data.MetaTensor`).
            A ``spacing=`` keyword passed to ``__call__`` takes precedence, in any form accepted by
            :func:`monai.metrics.utils.prepare_spacing`. Ignored by the ``"literature"`` convention.
        get_not_nans: whether :meth:`aggregate` also returns the count of non-NaN values.

    Raises:
        ValueError: when ``metric_name`` or ``convention`` is not supported, or ``spacing`` is
            not positive.
    """

    def __init__(
        self,
        metric_name: str = "dice",
        convention: str = "literature",
        include_background: bool = False,
        reduction: MetricReduction | str = MetricReduction.MEAN,
        spacing: float | Sequence[float] | None = None,
        get_not_nans: bool = False,
    ) -> None:
        super().__init__()
        if metric_name not in METRIC_NAMES:
            raise ValueError(f"`metric_name` must be one of {METRIC_NAMES}, got {metric_name!r}.")
        if convention not in CONVENTIONS:
            raise ValueError(f"`convention` must be one of {CONVENTIONS}, got {convention!r}.")
        if spacing is not None:
            sp = np.asarray(spacing, dtype=np.float64).reshape(-1)
            if sp.size == 0 or not np.all(np.isfinite(sp)) or np.any(sp <= 0):
                raise ValueError(f"`spacing` must contain positive finite values, got {spacing!r}.")
        self.metric_name = metric_name
        self.convention = convention
        self.include_background = include_background
        self.reduction = reduction
        self.spacing = spacing
        self.get_not_nans = get_not_nans

    def _resolve_spacing(
        self, y_pred: torch.Tensor, batch_size: int, n_spatial: int, spacing: Any = None
    ) -> list[np.ndarray | None]:
        """Spacing for each case of the batch.

        Args:
            y_pred: the batch-first prediction (possibly a :class:`~monai.data.MetaTensor`).
            batch_size: number of cases.
            n_spatial: number of spatial dimensions.
            spacing: spacing passed to ``__call__``; overrides ``self.spacing``.

        Returns:
            a list with one spacing array (or ``None`` for voxel units) per case.

        Raises:
            ValueError: when ``"mm"`` is requested and no spacing can be found, or the spacing
                has the wrong length.
        """
        if self.convention != "mm":  # "literature" and "strict" are in voxel units
            return [None] * batch_size
        given = spacing if spacing is not None else self.spacing
        if given is not None:
            return [self._as_spacing(s, n_spatial) for s in _per_case(given, batch_size, n_spatial)]
        if not isinstance(y_pred, MetaTensor):
            raise ValueError(
                'convention="mm" needs a spacing: pass `spacing=` to SegmentationSurfaceMetric (or to the call), '
                f"or give `y_pred` as a monai.data.MetaTensor with an affine; got {type(y_pred).__name__}."
            )
        affine = convert_to_numpy(y_pred.affine, dtype=np.float64)
        if affine.ndim == 2:
            affines = [affine] * batch_size
        elif affine.ndim == 3 and affine.shape[0] in (1, batch_size):
            affines = [affine[0]] * batch_size if affine.shape[0] == 1 else list(affine)
        else:
            raise ValueError(
                f"cannot read the spacing from a MetaTensor affine of shape {tuple(affine.shape)} "
                f"for a batch of {batch_size}."
            )
        if affines[0].shape[-1] - 1 < n_spatial:
            raise ValueError(
                f"the MetaTensor affine {tuple(affines[0].shape)} has fewer than {n_spatial} spatial dimensions."
            )
        return [self._as_spacing(affine_to_spacing(a, r=n_spatial), n_spatial) for a in affines]

    @staticmethod
    def _as_spacing(value: Any, n_spatial: int) -> np.ndarray:
        """Turn a number or a sequence into a spacing array of length ``n_spatial``.

        Args:
            value: a number (isotropic) or a sequence with one value per spatial dimension.
            n_spatial: number of spatial dimensions.

        Returns:
            a float64 array of length ``n_spatial``.

        Raises:
            ValueError: when the length is wrong.
        """
        sp = np.asarray(convert_to_numpy(value), dtype=np.float64).reshape(-1)
        if sp.size == 1:
            sp = np.repeat(sp, n_spatial)
        if sp.size != n_spatial:
            raise ValueError(f"spacing must have {n_spatial} values (one per spatial dimension), got {sp.tolist()}.")
        return sp

    def _compute_tensor(self, y_pred: torch.Tensor, y: torch.Tensor | None = None, **kwargs: Any) -> torch.Tensor:
        """Score every case and class of a batch.

        Args:
            y_pred: binarized one-hot prediction, shape ``(B, C, spatial...)``.
            y: binarized one-hot reference with the same shape.
            kwargs: optional ``spacing`` for the ``"mm"`` convention, see the class docstring.

        Returns:
            float64 tensor of shape ``(B, C')`` on ``y_pred``'s device, where ``C' = C - 1`` when
            the background channel is dropped.

        Raises:
            ValueError: when ``y`` is missing, the shapes differ, the input has fewer than three
                dimensions, or no spacing is available for the ``"mm"`` convention.
        """
        if y is None:
            raise ValueError("SegmentationSurfaceMetric needs the reference `y`.")
        if not isinstance(y_pred, torch.Tensor) or not isinstance(y, torch.Tensor):
            raise ValueError(
                f"`y_pred` and `y` must be torch tensors, got {type(y_pred).__name__} and {type(y).__name__}."
            )
        if y_pred.ndim < 3:
            raise ValueError(
                f"`y_pred` must be (B, C, spatial...) with at least three dims, got {tuple(y_pred.shape)}."
            )
        if y_pred.shape != y.shape:
            raise ValueError(
                f"`y_pred` and `y` must have the same shape, got {tuple(y_pred.shape)} and {tuple(y.shape)}."
            )
        is_binary_tensor(y_pred, "y_pred")
        is_binary_tensor(y, "y")

        batch_size, n_channels = int(y_pred.shape[0]), int(y_pred.shape[1])
        n_spatial = y_pred.ndim - 2
        spacings = self._resolve_spacing(y_pred, batch_size, n_spatial, kwargs.get("spacing"))

        first = 0
        if not self.include_background:
            if n_channels == 1:
                warnings.warn("single channel prediction, `include_background=False` ignored.", stacklevel=2)
            else:
                first = 1
        pred_np = convert_to_numpy(y_pred[:, first:]).astype(bool)
        ref_np = convert_to_numpy(y[:, first:]).astype(bool)

        out = np.empty(pred_np.shape[:2], dtype=np.float64)
        for b, c in np.ndindex(*out.shape):
            if self.metric_name == "empty_pred":
                out[b, c] = 0.0 if pred_np[b, c].any() else 1.0
                continue
            scores = segmentation_scores(pred_np[b, c], ref_np[b, c], spacing=spacings[b], convention=self.convention)
            out[b, c] = scores[self.metric_name]
        return torch.as_tensor(out, device=y_pred.device)

    def aggregate(
        self, reduction: MetricReduction | str | None = None
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Reduce the buffered ``(N, C')`` per-case values with MONAI's NaN-ignoring reduction.

        Args:
            reduction: overrides ``self.reduction`` when given; see the class docstring.

        Returns:
            the reduced metric, or ``(metric, not_nans)`` when ``get_not_nans=True``.

        Raises:
            ValueError: when the buffer is not a tensor (nothing has been accumulated).
        """
        data = self.get_buffer()
        if not isinstance(data, torch.Tensor):
            raise ValueError("the data to aggregate must be a PyTorch tensor; call the metric on some data first.")
        f, not_nans = do_metric_reduction(data, reduction or self.reduction)
        return (f, not_nans) if self.get_not_nans else f


def _per_case(spacing: Any, batch_size: int, n_spatial: int) -> list[Any]:
    """Expand a spacing to one entry per case.

    Accepts a number, one sequence of ``n_spatial`` numbers for the whole batch, or a sequence
    of ``batch_size`` per-case entries (numbers or sequences), like
    :func:`monai.metrics.utils.prepare_spacing`.

    Args:
        spacing: the spacing specification.
        batch_size: number of cases.
        n_spatial: number of spatial dimensions.

    Returns:
        a list of ``batch_size`` per-case spacings.

    Raises:
        ValueError: when the shape of ``spacing`` fits neither form.
    """
    arr = np.asarray(convert_to_numpy(spacing, wrap_sequence=True), dtype=np.float64)
    if arr.ndim == 0:
        return [arr] * batch_size
    if arr.ndim == 1 and arr.shape[0] == n_spatial:
        return [arr] * batch_size
    if arr.shape[0] == batch_size and arr.ndim in (1, 2):
        return list(arr)
    raise ValueError(
        f"spacing must be a number, {n_spatial} numbers, or one entry per case ({batch_size}); "
        f"got shape {tuple(arr.shape)}."
    )
