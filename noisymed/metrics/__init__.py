"""noisymed.metrics."""

from __future__ import annotations

from noisymed.metrics.multilabel import (
    MULTILABEL_METRICS,
    MultiLabelMetric,
    average_precision,
    multilabel_scores,
    roc_auc,
    save_multilabel_predictions,
    save_multilabel_report,
)
from noisymed.metrics.segmentation import METRIC_NAMES, SegmentationSurfaceMetric
from noisymed.metrics.separability import fisher_separability, pca_features
from noisymed.metrics.surface import CONVENTIONS, asd, dice, hd95, jaccard, segmentation_scores, surface_distances

__all__ = [
    "fisher_separability",
    "pca_features",
    "CONVENTIONS",
    "METRIC_NAMES",
    "SegmentationSurfaceMetric",
    "asd",
    "dice",
    "hd95",
    "jaccard",
    "segmentation_scores",
    "surface_distances",
    "MULTILABEL_METRICS",
    "MultiLabelMetric",
    "average_precision",
    "multilabel_scores",
    "roc_auc",
    "save_multilabel_predictions",
    "save_multilabel_report",
]
