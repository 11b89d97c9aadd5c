from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
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


def test_table_between_markers(bench, tmp_path):
    def stat(mean, sd=None, values=None):
        return {"mean": mean, "sd": sd, "values": values or [mean]}

    arm = {"map_mean_last3": stat(0.1), "auroc_mean_last3": stat(0.6), "seconds_per_epoch": stat(12.0), "excluded_ap": ["Hernia"], "excluded_auroc": ["Hernia"]}
    results = {
        "protocol": {"threads": 1, "seeds": [0], "num_folds": 2, "main_arms": ["an", "mpc"], "split_seed": 0, "max_epochs": 5, "batch_size": 32, "image_size": 64},
        "single_positive": {"seed0/fold0": {"num_images": 640, "true_positives": 519, "observed_positives": 318, "hidden_positives": 201}},
        "wall_seconds": 600.0,
        "arms": {
            "full": {**arm, "label": "full", "runs": ["seed0/fold0"], "map": stat(0.20), "auroc": stat(0.70)},
            "an": {**arm, "label": "AN", "runs": ["seed0/fold0", "seed0/fold1"], "map": stat(0.10, 0.01), "auroc": stat(0.60, 0.02)},
            "mpc": {
                **arm, "label": "MPC", "runs": ["seed0/fold0", "seed0/fold1"], "map": stat(0.15, 0.02), "auroc": stat(0.62, 0.01),
                "pseudo_labels_last_epoch": {"pseudo_pos_rate": stat(0.0), "pseudo_pos_precision": stat(0.5, 0.1), "hidden_pos_recall": stat(0.25)},
            },  # fmt: skip
        },
        "mpc_minus_an": {
            "map": {**stat(0.05, 0.01, [0.04, 0.06]), "paired_t": 7.07},
            "auroc": {**stat(0.02, 0.01), "paired_t": None},
            "runs": ["seed0/fold0", "seed0/fold1"],
        },
        "gap_closed": {"map": 0.5, "auroc": 0.2},
    }
    docs = tmp_path / "README.md"
    docs.write_text(f"# title\n\n{bench.MARK_START}\nold\n{bench.MARK_END}\n\ntail\n", encoding="utf-8")
    bench._write_table(results, docs, "python scripts/bench_cxr.py")
    text = docs.read_text(encoding="utf-8")
    assert text.startswith("# title") and text.endswith("tail\n") and "\nold\n" not in text
    assert "| MPC | 2 | 15.00 ± 2.00 | 62.00 ± 1.00 | 10.00 | 60.00 | 12.0 |" in text
    assert "| full | 1 | 20.00 | 70.00 |" in text
    assert "- seed0/fold0: 640 training images" in text and "**201 hidden**" in text
    assert "2-fold cross-validation (split seed 0)" in text
    assert "Excluded where a validation fold has no positive of them (per run, never NaN): ['Hernia']" in text
    assert (
        "MPC − AN, paired over 2 runs ['seed0/fold0', 'seed0/fold1']: 5.00 ± 1.00 mAP points (per run +4.00, +6.00; "
        "paired t 7.07), 2.00 ± 1.00 AUROC points;" in text
    )
    assert "gap closed (means over those runs): 50 % (mAP), 20 % (AUROC)." in text
    assert "| MPC | 0.00 | 50.00 ± 10.00 | 25.00 |" in text and "| AN | 0.00" not in text


def test_unknown_arm_is_refused(bench, tmp_path):
    with pytest.raises(SystemExit):
        bench.main(["--arms", "an,magic", "--dataset_dir", str(tmp_path)])


def test_one_fold_is_refused(bench, tmp_path, capsys):
    (tmp_path / "labels.csv").write_text("x\n")
    with pytest.raises(SystemExit):
        bench.main(["--folds", "1", "--dataset_dir", str(tmp_path)])
    assert "--folds must be 0 (hold-out split) or at least 2" in capsys.readouterr().err


def _write_predictions(path, ids, scores, labels):
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["id,score:a,score:b,label:a,label:b"]
    lines += [",".join([i, *map(str, s), *map(str, t)]) for i, s, t in zip(ids, scores, labels)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_pool_folds_concatenates_out_of_fold_predictions(bench, tmp_path):
    _write_predictions(tmp_path / "f0.csv", ["x", "y"], [[0.9, 0.1], [0.2, 0.8]], [[1, 0], [0, 1]])
    _write_predictions(tmp_path / "f1.csv", ["z"], [[0.4, 0.6]], [[0, 0]])
    ids, classes, scores, targets = bench.pool_folds([tmp_path / "f0.csv", tmp_path / "f1.csv"])
    assert ids == ["x", "y", "z"] and classes == ["a", "b"]
    assert scores.tolist() == [[0.9, 0.1], [0.2, 0.8], [0.4, 0.6]] and targets[:, 1].tolist() == [0, 1, 0]
    with pytest.raises(ValueError, match="two folds"):
        bench.pool_folds([tmp_path / "f0.csv", tmp_path / "f0.csv"])


def test_paired_bootstrap_over_patients(bench):
    # one class; a ranks the two positives below the two negatives (AP (1/3 + 2/4)/2, AUROC 0), b ranks them
    # on top (AP 1, AUROC 1): every resample that has a positive and a negative favours b
    targets = np.array([[1.0], [1.0], [0.0], [0.0]])
    a = np.array([[0.1], [0.2], [0.8], [0.9]])
    b = np.array([[0.9], [0.8], [0.2], [0.1]])
    out = bench.paired_bootstrap(["p1", "p1", "p2", "p3"], a, b, targets, num=200, seed=0)
    assert out["map"]["diff"] == pytest.approx(1 - (1 / 3 + 2 / 4) / 2) and out["auroc"]["diff"] == pytest.approx(1.0)
    assert out["auroc"]["ci95"] == pytest.approx([1.0, 1.0]) and out["auroc"]["share_positive"] == 1.0
    # resamples without patient p1 have no positive and are skipped (about (2/3)^3 of them); those of p1 alone
    # have no negative: AP 1 for both (a tie, not a win) and no AUROC
    assert 0 < 200 - out["map"]["num"] < 200 * 0.5 and out["auroc"]["num"] < out["map"]["num"]
    ties = out["map"]["num"] - out["auroc"]["num"]
    assert out["map"]["share_positive"] == pytest.approx(1 - ties / out["map"]["num"])
    same = bench.paired_bootstrap(["p1", "p1", "p2", "p3"], a, a, targets, num=50)
    assert same["map"]["diff"] == 0.0 and same["map"]["ci95"] == [0.0, 0.0] and same["map"]["share_positive"] == 0.0


def _runs(seed, an, mpc, full=None):
    """Runs of one seed: per fold mAP values (AUROC = mAP + 0.5)."""
    out = {}
    for k, (a, m) in enumerate(zip(an, mpc)):
        arms = {"an": {"map": a, "auroc": a + 0.5}, "mpc": {"map": m, "auroc": m + 0.5}}
        if full is not None:
            arms["full"] = {"map": full[k], "auroc": full[k] + 0.5}
        out[f"seed{seed}/fold{k}"] = arms
    return out


def test_paired_comparison_by_hand(bench):
    # diffs 0.01, 0.02, 0.03: mean 0.02, sd 0.01, t = 2 sqrt 3, interval 0.02 ± t(0.975, 2) · 0.01 / sqrt 3
    out = bench.paired_comparison(_runs(0, [0.10, 0.10, 0.10], [0.11, 0.12, 0.13], full=[0.14, 0.14, 0.14]))
    d = out["mpc_minus_an"]["map"]
    assert d["mean"] == pytest.approx(0.02) and d["sd"] == pytest.approx(0.01) and d["paired_t"] == pytest.approx(2 * 3**0.5)
    half = 4.302652729911275 * 0.01 / 3**0.5
    assert d["ci95"] == pytest.approx([0.02 - half, 0.02 + half])
    assert out["gap_closed"]["map"] == pytest.approx(0.02 / 0.04) and out["mpc_minus_an"]["runs"] == ["seed0/fold0", "seed0/fold1", "seed0/fold2"]
    assert bench.paired_comparison(_runs(0, [0.1], [0.2]))["mpc_minus_an"]["map"]["ci95"] is None  # one run
    assert bench.paired_comparison(_runs(0, [0.2], [0.1], full=[0.1]))["gap_closed"]["map"] is None  # full <= AN
    assert bench.paired_comparison({"seed0/fold0": {"an": {"map": 0.1, "auroc": 0.6}}}) == {}


def test_combine_joins_seeds_and_refuses_other_protocols(bench, tmp_path):
    protocol = {"max_epochs": 6, "num_folds": 2, "seeds": [0], "jobs": 2, "dataset_dir": "/a"}

    def write(name, seed, runs, pooled_diff, **changes):
        pooled = {f"seed{seed}": {"mpc_minus_an": {"map": {"diff": pooled_diff}, "auroc": {"diff": 2 * pooled_diff}}}}
        data = {"protocol": {**protocol, "seeds": [seed], "dataset_dir": f"/m{seed}", **changes}, "runs": runs, "pooled": pooled}
        (tmp_path / name).write_text(bench.json.dumps(data), encoding="utf-8")
        return tmp_path / name

    a = write("a.json", 0, _runs(0, [0.1, 0.1], [0.11, 0.12]), 0.01)
    b = write("b.json", 1, _runs(1, [0.1, 0.1], [0.13, 0.14]), -0.03)
    out = bench.combine([a, b])
    assert out["mpc_minus_an"]["runs"] == ["seed0/fold0", "seed0/fold1", "seed1/fold0", "seed1/fold1"]
    assert out["mpc_minus_an"]["map"]["mean"] == pytest.approx(0.025)
    assert out["pooled_mpc_minus_an"]["map"]["mean"] == pytest.approx(-0.01)
    assert out["pooled_mpc_minus_an"]["auroc"]["values"] == pytest.approx([0.02, -0.06])
    assert out["arms"]["an"]["map"]["mean"] == pytest.approx(0.1) and "full" not in out["arms"]
    with pytest.raises(ValueError, match="in an earlier file"):
        bench.combine([a, a])
    c = write("c.json", 2, _runs(2, [0.1], [0.1]), 0.0, max_epochs=8)
    with pytest.raises(ValueError, match=r"differs in \['max_epochs'\]"):
        bench.combine([a, c])
    assert bench.main(["--combine", f"{a},{b}", "--out", str(tmp_path / "joined.json")]) == 0
    assert bench.json.loads((tmp_path / "joined.json").read_text(encoding="utf-8"))["mpc_minus_an"]["runs"][-1] == "seed1/fold1"


def test_figures_next_to_the_json(bench, tmp_path):
    pytest.importorskip("matplotlib", reason="figures need the plot extra (matplotlib)")
    curves = {"map": [0.1, 0.2], "auroc": [0.5, 0.6]}
    results = {
        "runs": {"seed0/fold0": {"an": {"val_curves": curves}, "mpc": {"val_curves": curves}}},
        "arms": {
            "an": {"label": "AN", "map": {"mean": 0.2, "sd": 0.01}, "auroc": {"mean": 0.6, "sd": None}},
            "mpc": {"label": "MPC", "map": {"mean": 0.21, "sd": 0.02}, "auroc": {"mean": 0.61, "sd": 0.01}},
        },
    }
    written = bench.write_figures(results, tmp_path / "benchmark_cxr.json")
    assert [p.name for p in written] == ["benchmark_cxr_curves.png", "benchmark_cxr_results.png"]
    # a combined JSON has no curves: the results figure only
    assert [p.name for p in bench.write_figures({"arms": results["arms"]}, tmp_path / "c.json")] == ["c_results.png"]
