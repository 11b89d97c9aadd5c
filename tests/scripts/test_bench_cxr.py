from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "bench_cxr.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_cxr", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_log_parsing(bench):
    log = (
        "2026-01-01 - INFO - Epoch[1] Metrics -- val_auroc: 0.6000 val_map: 0.1000 \n"
        "x - ignite.engine.engine.SinglePositiveTrainer - INFO - Epoch[1] Complete. Time taken: 00:01:02.500\n"
        "x - ignite.engine.engine.SupervisedEvaluator - INFO - Epoch[1] Complete. Time taken: 00:00:00.500\n"
        "2026-01-01 - INFO - Epoch[2] Metrics -- val_auroc: 0.6500 val_map: 0.1200 \n"
    )
    assert bench._curves(log) == {"map": [0.1, 0.12], "auroc": [0.6, 0.65]}
    assert bench._seconds(log, "SinglePositiveTrainer") == pytest.approx(62.5)


def test_table_between_markers(bench, tmp_path):
    arm = {"map_mean_last3": 0.1, "auroc_mean_last3": 0.6, "seconds_per_epoch": 12.0, "excluded_ap": ["Hernia"], "excluded_auroc": ["Hernia"]}
    results = {
        "protocol": {"threads": 1, "seed": 0, "split_seed": 0, "max_epochs": 8, "batch_size": 32, "image_size": 64},
        "single_positive": {"num_images": 640, "true_positives": 519, "observed_positives": 318, "hidden_positives": 201},
        "arms": {
            "full": {**arm, "label": "full", "map": 0.20, "auroc": 0.70},
            "an": {**arm, "label": "AN", "map": 0.10, "auroc": 0.60},
            "mpc": {**arm, "label": "MPC", "map": 0.15, "auroc": 0.62},
        },
        "mpc_minus_an": {"map": 0.05, "auroc": 0.02},
        "gap_closed": {"map": 0.5, "auroc": 0.2},
    }
    docs = tmp_path / "README.md"
    docs.write_text(f"# title\n\n{bench.MARK_START}\nold\n{bench.MARK_END}\n\ntail\n")
    bench._write_table(results, docs, "python scripts/bench_cxr.py")
    text = docs.read_text()
    assert text.startswith("# title") and text.endswith("tail\n") and "old" not in text
    assert "| MPC | 15.00 | 62.00 | 10.00 | 60.00 | 12.0 |" in text
    assert "**201 hidden**" in text and "Excluded (no positive in the validation images): AP ['Hernia']" in text
    assert "MPC − AN: +5.00 mAP points, +2.00 AUROC points; share of the AN → full-label gap closed: 50 % (mAP), 20 % (AUROC)." in text


def test_unknown_arm_is_refused(bench, tmp_path):
    with pytest.raises(SystemExit):
        bench.main(["--arms", "an,magic", "--dataset_dir", str(tmp_path)])
