"""The noisy-label bundle validating on labels as noisy as the training labels (--val_noise true)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
from monai.bundle import ConfigParser
from monai.bundle import run as bundle_run

from tests.bundles.test_noisy_label_ssl import CONFIGS, LOGGING, TINY, _npz


def test_noisy_validation_selects_on_noisy_labels_and_reports_clean_accuracy(tmp_path):
    toy = _npz(tmp_path / "toy.npz", (16, 16), n_train=32, n_val=20)
    common = {**TINY, "bundle_root": str(tmp_path), "dataset": str(toy), "spatial_size": [16, 16], "noise_rate": 0.2}
    bundle_run(config_file=str(CONFIGS / "train.json"), logging_file=LOGGING, epochs=2, val_noise=True, **common)
    record = json.loads((tmp_path / "runs" / "noisy_val_labels_symmetric_exact_0.2_seed0.json").read_text())
    noisy, clean = np.array(record["noisy_labels"]), np.load(toy)["val_labels"].reshape(-1)
    assert (noisy != clean).sum() == 4  # exact mode: round(0.2 * 10) flips in each class
    assert (tmp_path / "models" / "model.pt").is_file() and (tmp_path / "models" / "checkpoint_final.pt").is_file()

    bundle_run(config_file=[str(CONFIGS / "train.json"), str(CONFIGS / "evaluate.json")], logging_file=LOGGING, val_noise=True, **common)
    metrics = {k: float(v) for k, v in (line.split(",") for line in (tmp_path / "eval" / "metrics.csv").read_text().split())}
    rows = list(csv.reader((tmp_path / "eval" / "probabilities.csv").open()))[1:]
    predicted = np.array([int(np.argmax([float(v) for v in r[1:]])) for r in rows])
    # the same predictions scored against the noisy labels (selection) and the clean ones (report)
    assert metrics["val_acc"] == (predicted == noisy).mean()
    assert metrics["val_clean_acc"] == (predicted == clean).mean()


def test_clean_validation_stays_the_default(tmp_path):
    toy = _npz(tmp_path / "toy.npz", (16, 16), n_train=16, n_val=8)
    parser = ConfigParser()
    parser.read_config(str(CONFIGS / "train.json"))
    parser.update({"bundle_root": str(tmp_path), "dataset": str(toy), "noise_rate": 0.25})
    assert set(parser.get_parsed_content("validate#additional_metrics")) == {"val_auc"}
    val = parser.get_parsed_content("val_files")
    assert [v["label"] for v in val] == np.load(toy)["val_labels"].reshape(-1).tolist() and "clean_label" not in val[0]
    assert not list(tmp_path.rglob("noisy_val_labels_*"))
