from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "bench_cxr.py"
sys.path.insert(0, str(SCRIPT.parent))  # the script imports its sibling bench_common


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
    trainer_line = "x - INFO - Epoch[1] Metrics -- hidden_pos_recall: 0.2500 pseudo_pos_precision: 0.5000 pseudo_pos_rate: 0.0100 \n"
    curves = bench._curves(trainer_line + log)
    assert curves["pseudo_pos_rate"] == [0.01] and curves["pseudo_pos_precision"] == [0.5]
    assert curves["hidden_pos_recall"] == [0.25] and curves["map"] == [0.1, 0.12]
    assert bench.engine_epoch_seconds(log, "SinglePositiveTrainer") == pytest.approx([62.5])


def test_stats(bench):
    st = bench._stats([0.1, 0.2, 0.3])
    assert st["mean"] == pytest.approx(0.2) and st["sd"] == pytest.approx(0.1)
    assert bench._stats([0.5])["sd"] is None


def test_table_between_markers(bench, tmp_path):
    def stat(mean, sd=None, values=None):
        return {"mean": mean, "sd": sd, "values": values or [mean]}

    arm = {"map_mean_last3": stat(0.1), "auroc_mean_last3": stat(0.6), "seconds_per_epoch": stat(12.0), "excluded_ap": ["Hernia"], "excluded_auroc": ["Hernia"]}
    results = {
        "protocol": {"threads": 1, "seeds": [0, 1], "seed_arms": ["an", "mpc"], "split_seed": 0, "max_epochs": 5, "batch_size": 32, "image_size": 64},
        "single_positive": {"0": {"num_images": 640, "true_positives": 519, "observed_positives": 318, "hidden_positives": 201}},
        "wall_seconds": 600.0,
        "arms": {
            "full": {**arm, "label": "full", "seeds": [0], "map": stat(0.20), "auroc": stat(0.70)},
            "an": {**arm, "label": "AN", "seeds": [0, 1], "map": stat(0.10, 0.01), "auroc": stat(0.60, 0.02)},
            "mpc": {
                **arm, "label": "MPC", "seeds": [0, 1], "map": stat(0.15, 0.02), "auroc": stat(0.62, 0.01),
                "pseudo_labels_last_epoch": {"pseudo_pos_rate": stat(0.0), "pseudo_pos_precision": stat(0.5, 0.1), "hidden_pos_recall": stat(0.25)},
            },  # fmt: skip
        },
        "mpc_minus_an": {"map": stat(0.05, 0.01, [0.04, 0.06]), "auroc": stat(0.02, 0.01), "seeds": [0, 1]},
        "gap_closed": {"map": 0.5, "auroc": 0.2},
    }
    docs = tmp_path / "README.md"
    docs.write_text(f"# title\n\n{bench.MARK_START}\nold\n{bench.MARK_END}\n\ntail\n", encoding="utf-8")
    bench._write_table(results, docs, "python scripts/bench_cxr.py")
    text = docs.read_text(encoding="utf-8")
    assert text.startswith("# title") and text.endswith("tail\n") and "old" not in text
    assert "| MPC | 2 | 15.00 ± 2.00 | 62.00 ± 1.00 | 10.00 | 60.00 | 12.0 |" in text
    assert "| full | 1 | 20.00 | 70.00 |" in text
    assert "**201 hidden**" in text and "Excluded (no positive in the validation images): AP ['Hernia']" in text
    assert "MPC − AN (seeds [0, 1]): 5.00 ± 1.00 mAP points (per seed +4.00, +6.00), 2.00 ± 1.00 AUROC points" in text
    assert "gap closed (means over those seeds): 50 % (mAP), 20 % (AUROC)." in text
    assert "| MPC | 0.00 | 50.00 ± 10.00 | 25.00 |" in text and "| AN | 0.00" not in text


def test_unknown_arm_is_refused(bench, tmp_path):
    with pytest.raises(SystemExit):
        bench.main(["--arms", "an,magic", "--dataset_dir", str(tmp_path)])
