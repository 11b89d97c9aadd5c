"""Fisher's class separability of a labelled set of feature vectors: how far apart the classes' means are,
measured in units of the spread inside the classes.

With ``N`` samples in ``K`` classes, class means ``m_c`` (``n_c`` samples each), overall mean ``m``:

    S_w = 1/N * sum_c sum_{i in c} (x_i - m_c)(x_i - m_c)^T          within-class scatter
    S_b = sum_c n_c/N * (m_c - m)(m_c - m)^T                          between-class scatter
    J   = trace( (S_w + ridge * I)^-1 S_b )

``J`` is Fisher's multi-class criterion (the sum of the generalised eigenvalues of the pair); in one dimension it is
the ratio of between- to within-class variance. Larger means more separable; a dataset with a smaller ``J`` is
expected to be harder to learn and hurt more by label noise (Khanal et al. 2024, question ii).

References:
    Fukunaga K. Introduction to statistical pattern recognition, 2nd ed., ch. 10 (1990).
    Khanal B, et al. How does self-supervised pretraining improve robustness against noisy labels across various
    medical image classification datasets? 2024.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["fisher_separability", "pca_features"]


def fisher_separability(features: ArrayLike, labels: ArrayLike, ridge: float = 1e-6) -> float:
    """Fisher's criterion ``trace(S_w^-1 S_b)`` of ``features`` grouped by ``labels``.

    Args:
        features: (N, D) feature vectors.
        labels: (N,) class labels, at least two classes.
        ridge: added to the diagonal of ``S_w`` (relative to its mean diagonal) so a singular scatter still inverts.

    Returns:
        ``J`` >= 0.

    Raises:
        ValueError: for mismatched or empty inputs, fewer than two classes, non-finite features or a negative ridge.
    """
    x = np.asarray(features, dtype=np.float64)
    y = np.asarray(labels).reshape(-1)
    if x.ndim != 2 or x.shape[0] != y.shape[0] or x.shape[0] == 0:
        raise ValueError(f"features must be (N, D) with N = len(labels) > 0, got {x.shape} and {y.shape[0]} labels.")
    if not np.isfinite(x).all():
        raise ValueError("features hold NaN or infinite values.")
    if ridge < 0:
        raise ValueError(f"ridge must be >= 0, got {ridge}.")
    classes = np.unique(y)
    if classes.size < 2:
        raise ValueError(f"Fisher separability needs at least two classes, got {classes.tolist()}.")
    mean = x.mean(0)
    d = x.shape[1]
    s_w, s_b = np.zeros((d, d)), np.zeros((d, d))
    for c in classes:
        xc = x[y == c]
        centred = xc - xc.mean(0)
        s_w += centred.T @ centred
        diff = (xc.mean(0) - mean)[:, None]
        s_b += xc.shape[0] * diff @ diff.T
    s_w, s_b = s_w / x.shape[0], s_b / x.shape[0]
    scale = max(float(np.trace(s_w)) / d, np.finfo(np.float64).tiny)
    return float(np.trace(np.linalg.solve(s_w + ridge * scale * np.eye(d), s_b)))


def pca_features(images: ArrayLike, components: int = 32) -> np.ndarray:
    """Project flattened images on their first ``components`` principal components (a fixed, model-free feature
    space for :func:`fisher_separability`).

    Args:
        images: (N, ...) images; each is flattened.
        components: number of components kept (at most min(N, pixels)).

    Returns:
        (N, k) scores, k = min(components, N, pixels).

    Raises:
        ValueError: for fewer than two images or ``components`` < 1.
    """
    x = np.asarray(images, dtype=np.float64).reshape(len(images), -1)
    if x.shape[0] < 2 or components < 1:
        raise ValueError(f"need >= 2 images and components >= 1, got {x.shape[0]} images and {components}.")
    centred = x - x.mean(0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    k = min(components, vt.shape[0])
    return centred @ vt[:k].T
