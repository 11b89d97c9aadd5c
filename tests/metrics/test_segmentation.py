"""Tests for noisymed.metrics.segmentation."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest
import torch
from monai.data import MetaTensor, list_data_collate
from monai.handlers import IgniteMetricHandler, MetricsSaver, from_engine
from monai.transforms import AsDiscrete

from noisymed.metrics import SegmentationSurfaceMetric, segmentation_scores


def _labels(seed: int, shape: tuple[int, ...] = (12, 11, 9), n_classes: int = 3) -> torch.Tensor:
    """A label map (1, spatial...) with classes 0..n_classes-1 laid out as shifted boxes."""
    rng = np.random.default_rng(seed)
    lab = np.zeros(shape, dtype=np.int64)
    for c in range(1, n_classes):
        lo = rng.integers(0, 4, size=len(shape))
        size = rng.integers(3, 6, size=len(shape))
        lab[tuple(slice(int(a), int(a + s)) for a, s in zip(lo, size))] = c
    return torch.as_tensor(lab)[None]


def _onehot(label: torch.Tensor, n_classes: int = 3) -> torch.Tensor:
    return AsDiscrete(to_onehot=n_classes)(label)


def _plain(t: torch.Tensor) -> torch.Tensor:
    return t.as_tensor() if isinstance(t, MetaTensor) else t


def _batch(n: int = 2, n_classes: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    """Plain (B, C, H, W, D) one-hot prediction and reference tensors."""
    preds = torch.stack([_onehot(_labels(10 + i, n_classes=n_classes), n_classes) for i in range(n)])
    refs = torch.stack([_onehot(_labels(20 + i, n_classes=n_classes), n_classes) for i in range(n)])
    return _plain(preds), _plain(refs)


def _expected(
    pred: torch.Tensor,
    ref: torch.Tensor,
    name: str,
    first: int,
    convention: str = "literature",
    spacings: list | None = None,
) -> np.ndarray:
    """Per-case, per-class values from the numpy function, channels ``first:``."""
    p, r = pred.numpy().astype(bool), ref.numpy().astype(bool)
    spacings = spacings if spacings is not None else [None] * p.shape[0]
    out = np.empty((p.shape[0], p.shape[1] - first))
    for b in range(p.shape[0]):
        for c in range(first, p.shape[1]):
            scores = segmentation_scores(p[b, c], r[b, c], spacing=spacings[b], convention=convention)
            out[b, c - first] = scores[name]
    return out


@pytest.mark.parametrize("name", ["dice", "jaccard", "hd95", "asd"])
@pytest.mark.parametrize("include_background", [False, True])
def test_shape_and_values(name: str, include_background: bool) -> None:
    y_pred, y = _batch()
    metric = SegmentationSurfaceMetric(name, include_background=include_background)
    out = metric(y_pred, y)
    n_out = 3 if include_background else 2
    assert isinstance(out, torch.Tensor)
    assert out.shape == (2, n_out)
    first = 0 if include_background else 1
    np.testing.assert_allclose(out.numpy(), _expected(y_pred, y, name, first), atol=1e-12)
    # aggregate: nan-ignoring mean over cases and classes
    expected_mean = np.nanmean(out.numpy())
    assert metric.aggregate().item() == pytest.approx(expected_mean)
    per_class = metric.aggregate("mean_batch")
    assert per_class.shape == (n_out,)
    np.testing.assert_allclose(per_class.numpy(), np.nanmean(out.numpy(), axis=0))


def test_list_input_accumulates_and_resets() -> None:
    y_pred, y = _batch(3)
    metric = SegmentationSurfaceMetric("dice")
    metric(list(y_pred[:2]), list(y[:2]))
    metric([y_pred[2]], [y[2]])
    buf = metric.get_buffer()
    assert buf.shape == (3, 2)
    np.testing.assert_allclose(buf.numpy(), _expected(y_pred, y, "dice", 1))
    metric.reset()
    with pytest.raises(ValueError):
        metric.aggregate()


def test_empty_prediction_literature_and_mean_skips_nan() -> None:
    _, y = _batch(1)
    empty = torch.zeros_like(y)
    empty[:, 0] = 1  # everything predicted as background
    metric = SegmentationSurfaceMetric("hd95")
    assert torch.equal(metric(empty, y), torch.zeros(1, 2, dtype=torch.float64))
    # the "mm" convention gives nan; the mean over a batch ignores it
    metric_mm = SegmentationSurfaceMetric("hd95", convention="mm", spacing=(1.0, 1.0, 1.0))
    y_pred, y2 = _batch(1)
    metric_mm(torch.cat([empty, y_pred]), torch.cat([y, y2]))
    buf = metric_mm.get_buffer()
    assert torch.isnan(buf[0]).all() and not torch.isnan(buf[1]).any()
    assert metric_mm.aggregate().item() == pytest.approx(buf[1].mean().item())


def test_mm_spacing_argument_and_call_override() -> None:
    y_pred, y = _batch(2)
    spacing = (0.7, 0.9, 2.5)
    out = SegmentationSurfaceMetric("asd", convention="mm", spacing=spacing)(y_pred, y)
    np.testing.assert_allclose(out.numpy(), _expected(y_pred, y, "asd", 1, convention="mm", spacings=[spacing] * 2))
    per_case = [(0.5, 0.5, 1.0), (1.0, 2.0, 3.0)]
    out2 = SegmentationSurfaceMetric("asd", convention="mm", spacing=spacing)(y_pred, y, spacing=per_case)
    np.testing.assert_allclose(out2.numpy(), _expected(y_pred, y, "asd", 1, convention="mm", spacings=per_case))


def test_mm_spacing_from_batched_metatensor() -> None:
    y_pred, y = _batch(2)
    spacings = [(0.5, 0.7, 2.0), (1.5, 1.0, 3.0)]
    affines = [torch.diag(torch.tensor([*sp, 1.0], dtype=torch.float64)) for sp in spacings]
    items = [MetaTensor(y_pred[i], affine=affines[i]) for i in range(2)]
    batched = list_data_collate([{"pred": t} for t in items])["pred"]
    assert isinstance(batched, MetaTensor) and batched.affine.shape == (2, 4, 4)
    expected = _expected(y_pred, y, "hd95", 1, convention="mm", spacings=spacings)
    out = SegmentationSurfaceMetric("hd95", convention="mm")(batched, y)
    np.testing.assert_allclose(out.numpy(), expected)
    # decollated (C, spatial) MetaTensors, as IgniteMetricHandler passes them
    out_list = SegmentationSurfaceMetric("hd95", convention="mm")(items, list(y))
    np.testing.assert_allclose(out_list.numpy(), expected)


def test_validation_errors() -> None:
    y_pred, y = _batch(1)
    with pytest.raises(ValueError, match="metric_name"):
        SegmentationSurfaceMetric("hd99")
    with pytest.raises(ValueError, match="convention"):
        SegmentationSurfaceMetric("dice", convention="voxel")
    with pytest.raises(ValueError, match="spacing"):
        SegmentationSurfaceMetric("hd95", convention="mm")(y_pred, y)  # plain tensor, no spacing
    with pytest.raises(ValueError, match="same shape"):
        SegmentationSurfaceMetric("dice")(y_pred, y[:, :2])
    with pytest.raises(ValueError, match="spacing must"):
        SegmentationSurfaceMetric("asd", convention="mm", spacing=(1.0, 1.0))(y_pred, y)
    with pytest.raises(ValueError, match="positive"):
        SegmentationSurfaceMetric("asd", convention="mm", spacing=(1.0, -1.0, 1.0))


def test_single_channel_keeps_channel_with_warning() -> None:
    y_pred, y = _batch(1)
    with pytest.warns(UserWarning, match="single channel"):
        out = SegmentationSurfaceMetric("dice")(y_pred[:, 1:2], y[:, 1:2])
    assert out.shape == (1, 1)


def test_ignite_metric_handler_with_metrics_saver(tmp_path) -> None:
    ignite_engine = pytest.importorskip("ignite.engine", reason="pytorch-ignite is needed for the handler test")
    y_pred, y = _batch(3)
    names = [f"case{i}.nii.gz" for i in range(3)]
    preds = [MetaTensor(y_pred[i], meta={"filename_or_obj": names[i]}) for i in range(3)]
    labels = [y[i] for i in range(3)]
    batches = [{"pred": preds[:2], "label": labels[:2]}, {"pred": preds[2:], "label": labels[2:]}]

    engine = ignite_engine.Engine(lambda e, batch: batch)
    handler = IgniteMetricHandler(
        metric_fn=SegmentationSurfaceMetric("dice", include_background=False),
        output_transform=from_engine(["pred", "label"]),
        save_details=True,
    )
    handler.attach(engine, "val_dice")
    MetricsSaver(
        save_dir=str(tmp_path), metrics="*", metric_details="*", batch_transform=lambda b: [p.meta for p in b["pred"]]
    ).attach(engine)
    engine.run(batches, max_epochs=1)

    expected = _expected(y_pred, y, "dice", 1)
    assert engine.state.metrics["val_dice"] == pytest.approx(float(expected.mean()))
    details = engine.state.metric_details["val_dice"]
    assert details.shape == (3, 2)
    np.testing.assert_allclose(details.numpy(), expected)

    with open(tmp_path / "val_dice_raw.csv") as f:
        rows = list(csv.reader(f))
    assert [r[0] for r in rows[1:]] == names
    assert math.isclose(float(rows[1][1]), expected[0, 0], rel_tol=1e-4)


def test_empty_pred_counts_failed_cases_and_strict_distance() -> None:
    y_pred, y = _batch(2)
    empty = torch.zeros_like(y_pred[:1])
    empty[:, 0] = 1  # case 0: everything background
    batch = torch.cat([empty, y_pred[1:]])
    counter = SegmentationSurfaceMetric("empty_pred")
    out = counter(batch, y)
    expected = [[1.0] * out.shape[1], [0.0 if y_pred[1, c + 1].any() else 1.0 for c in range(out.shape[1])]]
    assert out.tolist() == expected
    assert counter.aggregate("sum").item() == sum(map(sum, expected))
    strict = SegmentationSurfaceMetric("hd95", convention="strict")(batch, y)
    diagonal = math.sqrt(sum(n**2 for n in y.shape[2:]))
    assert strict[0].tolist() == pytest.approx([diagonal if y[0, c + 1].any() else 0.0 for c in range(out.shape[1])])
