from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from bench_brats import mean_sd, plot_curves, seed_split, val_curve, write_table  # noqa: E402

CASES = [f"C{i}" for i in range(7)]


def test_seed_split_is_a_seeded_shuffle_cut_in_three():
    order = sorted(CASES)
    random.Random(3).shuffle(order)
    assert seed_split(list(reversed(CASES)), 3, 2, 3, 2) == {"labeled": order[:2], "unlabeled": order[2:5], "val": order[5:]}
    assert seed_split(CASES, 0, 2, 3, 2) != seed_split(CASES, 1, 2, 3, 2)
    with pytest.raises(ValueError, match=r"8 cases needed \(2 labeled \+ 3 unlabeled \+ 3 val\), found 7"):
        seed_split(CASES, 0, 2, 3, 3)


def test_mean_sd_is_the_sample_sd():
    assert mean_sd([1.0, 2.0, 4.0]) == {"mean": 7 / 3, "sd": pytest.approx(1.5275252, abs=1e-6), "n": 3, "values": [1.0, 2.0, 4.0]}
    assert mean_sd([0.5])["sd"] is None


def test_val_curve_reads_the_stats_handler(tmp_path):
    log = tmp_path / "train.log"
    log.write_text("x - INFO - Epoch[1] Metrics -- val_mean_dice: 0.3861 \nx - INFO - Epoch[2] Metrics -- val_mean_dice: 0.7168 \n")
    assert val_curve(log) == [0.3861, 0.7168] and val_curve(tmp_path / "none.log") == []


def test_table_and_plot(tmp_path):
    metrics = {m: mean_sd([0.5, 0.7]) for m in ("dice", "jaccard", "hd95_voxel", "asd_voxel", "hd95_mm", "asd_mm")}
    arm = {"label": "(a) sup", "metrics": metrics, "seconds_per_iteration": 0.5, "peak_memory_gib": 1.0,
           "per_seed": {"0": {"val_dice_curve": [0.2, 0.4]}, "1": {"val_dice_curve": [0.3, 0.5, 0.6]}}}  # fmt: skip
    results = {"protocol": {"val_interval": 40, "seeds": [0, 1], "pixdim": "[3.0, 3.0, 3.0]"}, "arms": {"sup": arm},
               "mutual_minus_sup_dice": mean_sd([0.01, 0.03]), "gap_closed": 0.5}  # fmt: skip
    plot = tmp_path / "curve.png"
    plot_curves(results, plot)
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    docs = tmp_path / "README.md"
    write_table(results, docs, "python scripts/bench_brats.py", plot)
    text = docs.read_text(encoding="utf-8")
    assert "| (a) sup | 60.00 ± 14.14 | 60.00 ± 14.14 | 0.60 ± 0.14 |" in text
    assert "Mutual learning minus supervised-only, paired by seed: 2.00 ± 1.41 Dice points (+1.00, +3.00)." in text
    assert "closes 50 % of the gap" in text and "](curve.png)" in text
