"""Tests for noisymed.metrics.surface."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from noisymed.metrics.surface import asd, dice, hd95, jaccard, segmentation_scores, surface_distances

# --------------------------------------------------------------------------- hand-computed cases


def _case_1d() -> tuple[np.ndarray, np.ndarray]:
    pred = np.zeros(8, dtype=bool)
    pred[1:4] = True  # voxels 1..3, surface {1, 3}
    ref = np.zeros(8, dtype=bool)
    ref[3:7] = True  # voxels 3..6, surface {3, 6}
    return pred, ref


def _case_2d() -> tuple[np.ndarray, np.ndarray]:
    pred = np.zeros((7, 7), dtype=bool)
    pred[1:4, 1:4] = True  # 3x3 square; its surface is the 8-voxel ring
    ref = np.zeros((7, 7), dtype=bool)
    ref[1:4, 3:6] = True  # same square moved two columns right
    return pred, ref


def _case_3d() -> tuple[np.ndarray, np.ndarray]:
    pred = np.zeros((6, 6, 6), dtype=bool)
    pred[2, 2, 2] = True  # single voxel (its own surface)
    ref = np.zeros((6, 6, 6), dtype=bool)
    ref[1:4, 1:4, 1:4] = True  # 3x3x3 cube around it; surface = 26 voxels
    return pred, ref


def test_hand_1d() -> None:
    pred, ref = _case_1d()
    # |P|=3, |R|=4, |P∩R|=1, |P∪R|=6
    assert dice(pred, ref) == pytest.approx(2 / 7)
    assert jaccard(pred, ref) == pytest.approx(1 / 6)
    d = surface_distances(pred, ref)
    assert d.shape == (2,)
    np.testing.assert_allclose(d, [2.0, 0.0])
    np.testing.assert_allclose(surface_distances(ref, pred), [0.0, 3.0])
    # pooled [0, 0, 2, 3]: 95th percentile at position 2.85 -> 2 + 0.85 * (3 - 2)
    assert hd95(pred, ref) == pytest.approx(2.85)
    assert asd(pred, ref) == pytest.approx(1.0)
    assert asd(ref, pred) == pytest.approx(1.5)
    assert hd95(pred, ref, spacing=(2.0,)) == pytest.approx(5.7)
    assert asd(pred, ref, spacing=[2.0]) == pytest.approx(2.0)


def test_hand_2d() -> None:
    pred, ref = _case_2d()
    # overlap is one column of 3 voxels: dice 6/18, jaccard 3/15
    assert dice(pred, ref) == pytest.approx(1 / 3)
    assert jaccard(pred, ref) == pytest.approx(1 / 5)
    d = surface_distances(pred, ref)
    assert d.shape == (8,)
    np.testing.assert_allclose(d, [2, 1, 0, 2, 0, 2, 1, 0])
    # pooled: six 0s, four 1s, six 2s; position 0.95 * 15 = 14.25 falls in the 2s
    assert hd95(pred, ref) == pytest.approx(2.0)
    assert asd(pred, ref) == pytest.approx(1.0)
    # column spacing 0.5 halves every distance (all nearest partners lie in the same row)
    assert hd95(pred, ref, spacing=(1.0, 0.5)) == pytest.approx(1.0)
    assert asd(pred, ref, spacing=(1.0, 0.5)) == pytest.approx(0.5)


def test_hand_3d() -> None:
    pred, ref = _case_3d()
    assert dice(pred, ref) == pytest.approx(2 / 28)
    assert jaccard(pred, ref) == pytest.approx(1 / 27)
    np.testing.assert_allclose(surface_distances(pred, ref), [1.0])
    back = surface_distances(ref, pred)
    assert back.shape == (26,)
    # 6 face centres at 1, 12 edges at sqrt(2), 8 corners at sqrt(3)
    np.testing.assert_allclose(np.sort(back), np.sort([1.0] * 6 + [math.sqrt(2)] * 12 + [math.sqrt(3)] * 8))
    # pooled 27 values, 95th at position 24.7 -> inside the sqrt(3) block
    assert hd95(pred, ref) == pytest.approx(math.sqrt(3))
    assert asd(pred, ref) == pytest.approx(1.0)
    # spacing (1, 1, 2): corners become sqrt(6)
    assert hd95(pred, ref, spacing=(1, 1, 2)) == pytest.approx(math.sqrt(6))
    scores = segmentation_scores(pred, ref, spacing=(1, 1, 2), convention="mm")
    assert set(scores) == {"dice", "jaccard", "hd95", "asd"}
    assert scores["hd95"] == pytest.approx(math.sqrt(6))
    assert scores["asd"] == pytest.approx(1.0)
    # the literature convention ignores spacing
    lit = segmentation_scores(pred, ref, spacing=(1, 1, 2))
    assert lit["hd95"] == pytest.approx(math.sqrt(3))


def test_identical_masks() -> None:
    _, ref = _case_3d()
    s = segmentation_scores(ref, ref)
    assert s == {"dice": 1.0, "jaccard": 1.0, "hd95": 0.0, "asd": 0.0}


def test_accepts_non_bool_inputs() -> None:
    pred, ref = _case_2d()
    assert hd95(pred.astype(np.uint8) * 3, ref.astype(float)) == pytest.approx(2.0)
    assert dice(pred.tolist(), ref.tolist()) == pytest.approx(1 / 3)


# --------------------------------------------------------------------------- empty masks and validation


def test_empty_prediction_literature_all_zero() -> None:
    _, ref = _case_3d()
    empty = np.zeros_like(ref)
    assert segmentation_scores(empty, ref) == {"dice": 0.0, "jaccard": 0.0, "hd95": 0.0, "asd": 0.0}
    assert segmentation_scores(empty, empty) == {"dice": 0.0, "jaccard": 0.0, "hd95": 0.0, "asd": 0.0}


def test_empty_reference_literature() -> None:
    pred, _ = _case_3d()
    s = segmentation_scores(pred, np.zeros_like(pred))
    assert s["dice"] == 0.0 and s["jaccard"] == 0.0
    assert math.isnan(s["hd95"]) and math.isnan(s["asd"])


def test_empty_masks_mm() -> None:
    pred, ref = _case_3d()
    empty = np.zeros_like(ref)
    s = segmentation_scores(empty, ref, spacing=(1, 1, 1), convention="mm")
    assert s["dice"] == 0.0 and s["jaccard"] == 0.0
    assert math.isnan(s["hd95"]) and math.isnan(s["asd"])
    s = segmentation_scores(pred, empty, spacing=(1, 1, 1), convention="mm")
    assert s["dice"] == 0.0 and math.isnan(s["hd95"])
    s = segmentation_scores(empty, empty, spacing=(1, 1, 1), convention="mm")
    assert s["dice"] == 1.0 and s["jaccard"] == 1.0
    assert math.isnan(s["hd95"]) and math.isnan(s["asd"])


def test_distance_functions_reject_empty() -> None:
    pred, ref = _case_3d()
    empty = np.zeros_like(ref)
    for fn in (surface_distances, hd95, asd):
        with pytest.raises(ValueError, match="pred"):
            fn(empty, ref)
        with pytest.raises(ValueError, match="ref"):
            fn(pred, empty)


def test_bad_shapes() -> None:
    with pytest.raises(ValueError, match=r"\(4, 5\).*\(5, 4\)"):
        segmentation_scores(np.ones((4, 5)), np.ones((5, 4)))
    for fn in (dice, jaccard, surface_distances, hd95, asd):
        with pytest.raises(ValueError, match="same shape"):
            fn(np.ones((3, 3)), np.ones((3, 3, 1)))


def test_bad_convention() -> None:
    pred, ref = _case_2d()
    with pytest.raises(ValueError, match="convention"):
        segmentation_scores(pred, ref, convention="voxel")


def test_missing_spacing_mm() -> None:
    pred, ref = _case_2d()
    with pytest.raises(ValueError, match="spacing"):
        segmentation_scores(pred, ref, convention="mm")


def test_bad_spacing() -> None:
    pred, ref = _case_2d()
    with pytest.raises(ValueError, match="one value per dimension"):
        hd95(pred, ref, spacing=(1.0, 1.0, 1.0))
    with pytest.raises(ValueError, match="one value per dimension"):
        segmentation_scores(pred, ref, spacing=(1.0,), convention="mm")
    with pytest.raises(ValueError, match="positive"):
        asd(pred, ref, spacing=(1.0, 0.0))


# --------------------------------------------------------------------------- agreement with medpy


def _blob_pair(seed: int, shape: tuple[int, ...] = (40, 40, 30)) -> tuple[np.ndarray, np.ndarray]:
    """A reference blob and a prediction that differs from it by smooth noise (both non-empty)."""
    rng = np.random.default_rng(seed)
    field = gaussian_filter(rng.standard_normal(shape), sigma=3.0)
    ref = field > np.quantile(field, 0.7)
    noise = gaussian_filter(rng.standard_normal(shape), sigma=2.0)
    mixed = field + (0.3 + 0.1 * (seed % 4)) * noise * field.std() / noise.std()
    pred = mixed > np.quantile(mixed, 0.68 + 0.01 * (seed % 5))
    return pred, ref


SEEDS = list(range(10))


@pytest.mark.parametrize("seed", SEEDS)
def test_literature_matches_medpy(seed: int) -> None:
    binary = pytest.importorskip("medpy.metric.binary", reason="medpy is needed for the reference values")
    pred, ref = _blob_pair(seed)
    s = segmentation_scores(pred, ref, convention="literature")
    assert s["dice"] == pytest.approx(binary.dc(pred, ref), abs=1e-6)
    assert s["jaccard"] == pytest.approx(binary.jc(pred, ref), abs=1e-6)
    assert s["hd95"] == pytest.approx(binary.hd95(pred, ref), abs=1e-6)
    assert s["asd"] == pytest.approx(binary.asd(pred, ref), abs=1e-6)


@pytest.mark.parametrize("spacing", [(0.625, 0.625, 0.625), (0.7, 0.9, 2.5)])
@pytest.mark.parametrize("seed", SEEDS[:5])
def test_mm_matches_medpy(seed: int, spacing: tuple[float, float, float]) -> None:
    binary = pytest.importorskip("medpy.metric.binary", reason="medpy is needed for the reference values")
    pred, ref = _blob_pair(seed)
    s = segmentation_scores(pred, ref, spacing=spacing, convention="mm")
    assert s["dice"] == pytest.approx(binary.dc(pred, ref), abs=1e-6)
    assert s["jaccard"] == pytest.approx(binary.jc(pred, ref), abs=1e-6)
    assert s["hd95"] == pytest.approx(binary.hd95(pred, ref, voxelspacing=spacing), abs=1e-6)
    assert s["asd"] == pytest.approx(binary.asd(pred, ref, voxelspacing=spacing), abs=1e-6)


def test_cropping_matches_medpy_at_array_border() -> None:
    """Objects touching the array border and a far-away small object: the crop must not change anything."""
    binary = pytest.importorskip("medpy.metric.binary", reason="medpy is needed for the reference values")
    ref = np.zeros((30, 25, 20), dtype=bool)
    ref[0:10, 0:12, 5:20] = True  # touches three faces of the array
    pred = np.zeros_like(ref)
    pred[0:11, 1:12, 4:20] = True
    pred[26:29, 20:24, 0:3] = True  # distant false positive
    for spacing in (None, (0.8, 1.1, 3.0)):
        np.testing.assert_allclose(
            np.sort(surface_distances(pred, ref, spacing)),
            np.sort(binary.__dict__["__surface_distances"](pred, ref, spacing)),
            atol=1e-9,
        )
        assert hd95(pred, ref, spacing) == pytest.approx(binary.hd95(pred, ref, voxelspacing=spacing), abs=1e-9)
        assert asd(ref, pred, spacing) == pytest.approx(binary.asd(ref, pred, voxelspacing=spacing), abs=1e-9)


def test_strict_convention_scores_a_failed_case_as_the_worst() -> None:
    pred, ref = _case_3d()
    empty = np.zeros_like(ref)
    diagonal = math.sqrt(3 * 6**2)  # (6, 6, 6) image
    assert segmentation_scores(empty, ref, convention="strict") == {
        "dice": 0.0,
        "jaccard": 0.0,
        "hd95": pytest.approx(diagonal),
        "asd": pytest.approx(diagonal),
    }
    assert segmentation_scores(pred, empty, convention="strict")["hd95"] == pytest.approx(diagonal)
    assert segmentation_scores(empty, empty, convention="strict") == {"dice": 1.0, "jaccard": 1.0, "hd95": 0.0, "asd": 0.0}
    # both non-empty: the literature's numbers (voxel units, spacing ignored)
    assert segmentation_scores(pred, ref, spacing=(1, 1, 2), convention="strict") == segmentation_scores(pred, ref)
