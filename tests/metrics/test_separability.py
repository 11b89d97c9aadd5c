from __future__ import annotations

import numpy as np
import pytest

from noisymed.metrics import fisher_separability, pca_features


def test_one_dimension_by_hand():
    # class means 1 and 5, overall 3: S_b = (4 + 4) / 2 = 4; within variance ((1 + 1) + (1 + 1)) / 4 = 1
    x = np.array([[0.0], [2.0], [4.0], [6.0]])
    assert fisher_separability(x, [0, 0, 1, 1], ridge=0.0) == pytest.approx(4.0)
    # class 1 moved 4 further: means 1 and 9, overall 5, S_b = 16, same within variance
    assert fisher_separability(x + [[0.0], [0.0], [4.0], [4.0]], [0, 0, 1, 1], ridge=0.0) == pytest.approx(16.0)


def test_two_dimensions_by_hand_and_invariance_to_scaling_one_axis():
    # axis 0 separates the classes (means -1, 1; within variance 1), axis 1 is noise (variance 4, same means)
    corners = np.array([[-1.0, 2.0], [1.0, -2.0], [-1.0, -2.0], [1.0, 2.0]])
    x = np.concatenate([corners + [-1.0, 0.0], corners + [1.0, 0.0]])
    y = [0] * 4 + [1] * 4
    assert fisher_separability(x, y, ridge=0.0) == pytest.approx(1.0)
    assert fisher_separability(x * [10.0, 0.1], y, ridge=0.0) == pytest.approx(1.0)


def test_pca_features_keep_the_leading_directions():
    rng = np.random.default_rng(0)
    images = rng.normal(size=(50, 4, 4)) * np.linspace(0.1, 3.0, 16).reshape(4, 4)
    scores = pca_features(images, components=3)
    assert scores.shape == (50, 3)
    variances = scores.var(0)
    assert variances[0] >= variances[1] >= variances[2]
    assert np.allclose(scores.mean(0), 0.0, atol=1e-9)


def test_errors_are_named():
    with pytest.raises(ValueError, match=r"at least two classes, got \[1\]"):
        fisher_separability(np.zeros((3, 2)), [1, 1, 1])
    with pytest.raises(ValueError, match="NaN or infinite"):
        fisher_separability(np.array([[np.nan], [1.0]]), [0, 1])
    with pytest.raises(ValueError, match=r"got \(3, 2\) and 2 labels"):
        fisher_separability(np.zeros((3, 2)), [0, 1])
    with pytest.raises(ValueError, match="need >= 2 images"):
        pca_features(np.zeros((1, 4)))
