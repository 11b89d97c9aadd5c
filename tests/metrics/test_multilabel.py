from __future__ import annotations

import csv
import json

import pytest
import torch

from noisymed.metrics import (
    MultiLabelMetric,
    average_precision,
    multilabel_scores,
    roc_auc,
    save_multilabel_predictions,
    save_multilabel_report,
)


def test_average_precision_by_hand():
    # ranking: 0.9 (pos), 0.8 (neg), 0.7 (pos), 0.1 (neg): precision at the positives 1 and 2/3
    assert average_precision([0.9, 0.8, 0.7, 0.1], [1, 0, 1, 0]) == pytest.approx((1 + 2 / 3) / 2)
    # ties form one threshold: {0.5, 0.5} holds 1 pos of 2 -> recall 0.5 at precision 0.5; then 0.2 (pos): 2/3
    assert average_precision([0.5, 0.5, 0.2], [1, 0, 1]) == pytest.approx(0.5 * 0.5 + 0.5 * 2 / 3)
    assert average_precision([0.3, 0.2], [0, 0]) is None


def test_roc_auc_by_hand():
    # pairs (pos, neg): (0.9, 0.8) ok, (0.9, 0.1) ok, (0.7, 0.8) wrong, (0.7, 0.1) ok -> 3/4
    assert roc_auc([0.9, 0.8, 0.7, 0.1], [1, 0, 1, 0]) == pytest.approx(0.75)
    assert roc_auc([0.5, 0.5], [1, 0]) == pytest.approx(0.5)  # a tie counts one half
    assert roc_auc([0.5, 0.4], [1, 1]) is None and roc_auc([0.5, 0.4], [0, 0]) is None


def test_classes_without_positives_or_negatives_are_excluded_and_listed():
    scores = torch.tensor([[0.9, 0.1, 0.3], [0.8, 0.2, 0.6], [0.7, 0.4, 0.2], [0.1, 0.3, 0.9]])
    targets = torch.tensor([[1, 0, 1], [0, 0, 1], [1, 0, 1], [0, 0, 1]])
    out = multilabel_scores(scores, targets, ["a", "b", "c"])
    assert out["excluded_ap"] == ["b"] and out["excluded_auroc"] == ["b", "c"]
    assert out["per_class_ap"]["b"] is None and out["per_class_ap"]["c"] == pytest.approx(1.0)
    assert out["per_class_ap"]["a"] == pytest.approx((1 + 2 / 3) / 2)
    assert out["map"] == pytest.approx(((1 + 2 / 3) / 2 + 1.0) / 2)
    assert out["auroc"] == pytest.approx(0.75) and out["num_samples"] == 4
    assert out["positives"] == {"a": 2, "b": 0, "c": 4}
    with pytest.raises(ValueError, match="no class has a positive"):
        multilabel_scores(scores, torch.zeros_like(targets))


def test_monai_metric_scores_the_first_columns(tmp_path):
    metric = MultiLabelMetric("map", class_names=["a", "c"])
    # decollated items, as IgniteMetricHandler passes them; the third column (an extra "No Finding") is ignored
    preds = [torch.tensor([0.9, 0.3, 0.0]), torch.tensor([0.8, 0.6, 1.0]), torch.tensor([0.7, 0.2, 0.5]), torch.tensor([0.1, 0.9, 0.0])]
    labels = [torch.tensor([1.0, 1.0]), torch.tensor([0.0, 0.0]), torch.tensor([1.0, 1.0]), torch.tensor([0.0, 1.0])]
    metric(y_pred=preds[:2], y=labels[:2])
    metric(y_pred=preds[2:], y=labels[2:])
    ap_c = (1 / 1 + 2 / 3 + 3 / 4) / 3  # c ranked 0.9 (pos), 0.6 (neg), 0.3 (pos), 0.2 (pos)
    assert metric.aggregate() == pytest.approx(((1 + 2 / 3) / 2 + ap_c) / 2)
    auroc = MultiLabelMetric("auroc", class_names=["a", "c"])
    auroc(y_pred=preds, y=labels)
    assert auroc.aggregate() == pytest.approx((0.75 + 1 / 3) / 2)  # c: 0.9 > 0.6 only, of 3 pairs
    path = save_multilabel_report(tmp_path / "r" / "per_class.json", metric.details)
    assert json.loads(path.read_text())["per_class_ap"]["c"] == pytest.approx(ap_c)
    with pytest.raises(ValueError, match="no predictions to save"):
        save_multilabel_predictions(tmp_path / "p.csv", MultiLabelMetric("map", class_names=["a"]))
    with pytest.raises(ValueError, match="3 ids for 4 evaluated samples"):
        save_multilabel_predictions(tmp_path / "p.csv", metric, ids=["w", "x", "y"])
    rows = list(csv.reader(save_multilabel_predictions(tmp_path / "p" / "p.csv", metric, ids="wxyz").open()))
    assert rows[0] == ["id", "score:a", "score:c", "label:a", "label:c"]
    assert rows[1:] == [["w", "0.9", "0.3", "1", "1"], ["x", "0.8", "0.6", "0", "0"], ["y", "0.7", "0.2", "1", "1"], ["z", "0.1", "0.9", "0", "1"]]
    with pytest.raises(ValueError, match="metric must be one of"):
        MultiLabelMetric("f1", class_names=["a"])
