"""Multi-label classification metrics: per-class average precision and ROC AUC, mAP and macro AUROC.

Rule for classes that cannot be scored: a class without any positive in the evaluation set has no
average precision and no AUROC; a class without any negative has no AUROC. Such classes are excluded
from the mean and listed (``excluded_ap``, ``excluded_auroc``); a mean is never NaN. When no class at
all can be scored a ``ValueError`` is raised.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from monai.metrics import CumulativeIterationMetric
from scipy.stats import rankdata

from noisymed.utils import write_text_atomic

__all__ = [
    "average_precision",
    "roc_auc",
    "multilabel_scores",
    "MultiLabelMetric",
    "MULTILABEL_METRICS",
    "save_multilabel_report",
    "save_multilabel_predictions",
]

MULTILABEL_METRICS = ("map", "auroc")


def _vectors(scores: Any, targets: Any) -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    t = np.asarray(targets, dtype=np.float64).reshape(-1)
    if s.shape != t.shape:
        raise ValueError(f"scores and targets differ in size: {s.shape} vs {t.shape}.")
    if not np.all((t == 0) | (t == 1)):
        raise ValueError("targets must be 0/1.")
    return s, t


def average_precision(scores: Any, targets: Any) -> float | None:
    """Average precision of one class: ``Σ_n (R_n - R_{n-1}) P_n`` over the distinct score thresholds
    (tied scores form one threshold), as scikit-learn's ``average_precision_score``.

    Args:
        scores: one score per sample (higher = more likely positive).
        targets: 0/1 per sample.

    Returns:
        The AP, or None when there is no positive.
    """
    s, t = _vectors(scores, targets)
    n_pos = t.sum()
    if n_pos == 0:
        return None
    order = np.argsort(-s, kind="mergesort")
    s, t = s[order], t[order]
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]  # last index of each tie group
    tp = np.cumsum(t)[last]
    precision = tp / (last + 1)
    recall = tp / n_pos
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def roc_auc(scores: Any, targets: Any) -> float | None:
    """ROC AUC of one class by the Mann–Whitney statistic (ties count one half).

    Args:
        scores: one score per sample.
        targets: 0/1 per sample.

    Returns:
        The AUROC, or None when there is no positive or no negative.
    """
    s, t = _vectors(scores, targets)
    n_pos, n_neg = int(t.sum()), int((1 - t).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    ranks = rankdata(s)
    return float((ranks[t == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def multilabel_scores(scores: Any, targets: Any, class_names: Sequence[str] | None = None) -> dict:
    """mAP, macro AUROC and the per-class values of a ``(N, C)`` score matrix against ``(N, C)`` 0/1 targets.

    Args:
        scores: ``(N, C)`` scores (probabilities or logits: both metrics only use the ranking).
        targets: ``(N, C)`` 0/1.
        class_names: ``C`` names; default ``"0"``, ``"1"``...

    Returns:
        ``{"map", "auroc", "per_class_ap", "per_class_auroc", "excluded_ap", "excluded_auroc", "num_samples",
        "positives"}``: per-class dicts map each name to a float or None; the excluded lists name the classes
        left out (see the module docstring); ``positives`` counts each class's positive samples.

    Raises:
        ValueError: for mismatched shapes or names, or when no class has a positive (nothing to score).
    """
    s = np.asarray(scores.detach().cpu() if isinstance(scores, torch.Tensor) else scores, dtype=np.float64)
    t = np.asarray(targets.detach().cpu() if isinstance(targets, torch.Tensor) else targets, dtype=np.float64)
    if s.ndim != 2 or s.shape != t.shape:
        raise ValueError(f"scores and targets must both be (N, C); got {s.shape} and {t.shape}.")
    names = [str(c) for c in range(s.shape[1])] if class_names is None else list(class_names)
    if len(names) != s.shape[1]:
        raise ValueError(f"{len(names)} class names for {s.shape[1]} columns.")
    ap = {n: average_precision(s[:, c], t[:, c]) for c, n in enumerate(names)}
    auc = {n: roc_auc(s[:, c], t[:, c]) for c, n in enumerate(names)}
    ap_vals = [v for v in ap.values() if v is not None]
    auc_vals = [v for v in auc.values() if v is not None]
    if not ap_vals:
        raise ValueError(f"no class has a positive among the {s.shape[0]} samples: mAP is undefined.")
    return {
        "map": float(np.mean(ap_vals)),
        "auroc": float(np.mean(auc_vals)) if auc_vals else None,
        "per_class_ap": ap,
        "per_class_auroc": auc,
        "excluded_ap": [n for n, v in ap.items() if v is None],
        "excluded_auroc": [n for n, v in auc.items() if v is None],
        "num_samples": int(s.shape[0]),
        "positives": {n: int((t[:, c] > 0.5).sum()) for c, n in enumerate(names)},
    }


class MultiLabelMetric(CumulativeIterationMetric):
    """mAP or macro AUROC accumulated over an evaluation run, for MONAI's ``IgniteMetricHandler`` (so it can
    be an evaluator's ``key_val_metric``).

    Only the first ``len(class_names)`` columns of ``y_pred`` and ``y`` are scored, so a network with an
    extra last "No Finding" output is evaluated on the findings. ``self.details`` holds the full
    :func:`multilabel_scores` result of the last :meth:`aggregate`, ``self.scores`` and ``self.targets`` the
    ``(N, C)`` arrays it scored, in the order seen.

    Args:
        metric: ``"map"`` or ``"auroc"``.
        class_names: the scored classes (the first columns).

    Raises:
        ValueError: for an unknown metric or no class names.
    """

    def __init__(self, metric: str = "map", class_names: Sequence[str] = ()):
        super().__init__()
        if metric not in MULTILABEL_METRICS:
            raise ValueError(f"metric must be one of {MULTILABEL_METRICS}, got {metric!r}.")
        if not class_names:
            raise ValueError("class_names must name the scored classes.")
        self.metric = metric
        self.class_names = list(class_names)
        self.details: dict = {}
        self.scores: np.ndarray | None = None
        self.targets: np.ndarray | None = None

    def _compute_tensor(self, y_pred: torch.Tensor, y: torch.Tensor | None = None, **kwargs: Any) -> torch.Tensor:
        if y is None:
            raise ValueError("MultiLabelMetric needs targets y.")
        c = len(self.class_names)
        y_pred = torch.as_tensor(y_pred).reshape(y_pred.shape[0], -1)
        y = torch.as_tensor(y).reshape(y.shape[0], -1)
        if y_pred.shape[1] < c or y.shape[1] < c:
            raise ValueError(f"need at least {c} columns, got y_pred {tuple(y_pred.shape)} and y {tuple(y.shape)}.")
        return torch.cat([y_pred[:, :c].float(), y[:, :c].float()], dim=1)

    def aggregate(self) -> float:
        """Score everything seen since the last reset.

        Returns:
            mAP or macro AUROC (see the module docstring for excluded classes).
        """
        data = self.get_buffer()
        if data is None or len(data) == 0:
            raise ValueError("MultiLabelMetric has seen no data.")
        data = torch.as_tensor(data).reshape(-1, 2 * len(self.class_names))
        c = len(self.class_names)
        self.scores, self.targets = data[:, :c].cpu().numpy(), data[:, c:].cpu().numpy()
        self.details = multilabel_scores(self.scores, self.targets, self.class_names)
        value = self.details[self.metric]
        if value is None:
            raise ValueError(f"no class has both positives and negatives: {self.metric} is undefined.")
        return float(value)


def save_multilabel_report(path: str | Path, details: dict) -> Path:
    """Write a :func:`multilabel_scores` result (mAP, macro AUROC, per-class AP/AUROC, excluded classes) as JSON.

    Args:
        path: the JSON file (its folder is created; written whole, atomically).
        details: the result, e.g. ``MultiLabelMetric.details`` after an evaluation run.

    Returns:
        The path.

    Raises:
        ValueError: when ``details`` is empty (nothing was evaluated).
    """
    if not details:
        raise ValueError("no multi-label scores to save: run the evaluation first.")
    return write_text_atomic(path, json.dumps(details, indent=2) + "\n")


def save_multilabel_predictions(path: str | Path, metric: MultiLabelMetric, ids: Sequence[str] | None = None) -> Path:
    """Write the per-sample scores and targets of a :class:`MultiLabelMetric`'s last evaluation as CSV.

    One row per sample in the order the evaluator saw them: ``id``, then ``score:<class>`` and
    ``label:<class>`` for every scored class. Pooling such files over cross-validation folds scores every
    image once (out-of-fold predictions).

    Args:
        path: the CSV file (its folder is created; written whole, atomically).
        metric: a metric after :meth:`MultiLabelMetric.aggregate`.
        ids: one id per sample (e.g. the image paths of an unshuffled validation list); default the row index.

    Returns:
        The path.

    Raises:
        ValueError: when the metric has not aggregated anything, or ``ids`` has another length.
    """
    if metric.scores is None or metric.targets is None:
        raise ValueError("no predictions to save: run the evaluation first.")
    n = metric.scores.shape[0]
    ids = [str(i) for i in range(n)] if ids is None else [str(i) for i in ids]
    if len(ids) != n:
        raise ValueError(f"{len(ids)} ids for {n} evaluated samples.")
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(["id"] + [f"score:{c}" for c in metric.class_names] + [f"label:{c}" for c in metric.class_names])
    for i in range(n):
        writer.writerow([ids[i]] + [f"{v:.6g}" for v in metric.scores[i]] + [f"{v:g}" for v in metric.targets[i]])
    return write_text_atomic(path, text.getvalue())
