"""bench_la.py: arms, log parsing, paired summary by hand, plot, and one tiny real run (reused when run again)."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

import bench_la  # noqa: E402
from bench_common import paired_difference, stats, t_interval  # noqa: E402


def test_arm_settings():
    over, label = bench_la.arm_settings("mask8", 68, 30)
    assert over == {"num_labeled": 8, "rampup_interval": 30, "mutual_weight": "false"} and "entropy mask only" in label
    assert bench_la.arm_settings("weight16", 68, 30)[0]["mutual_mask"] == "false"
    assert bench_la.arm_settings("probs8", 68, 30)[0]["ce_input"] == "probs"
    assert bench_la.arm_settings("sup8", 68, 30)[0] == {"num_labeled": 8, "max_unlabeled": 0, "mutual_loss": "$None"}
    assert bench_la.arm_settings("full", 68, 30)[0]["num_labeled"] == 68
    with pytest.raises(ValueError, match="unknown arm 'mutual'"):
        bench_la.arm_settings("mutual", 68, 30)
    with pytest.raises(ValueError, match="68"):
        bench_la.arm_settings("sup80", 68, 30)


def test_epoch_values_and_curves(tmp_path):
    (tmp_path / "train.0.log").write_text(
        "x - INFO - Epoch[1] Metrics -- val_mean_dice: 0.2500 \n"
        "x - INFO - Epoch[1] Metrics -- diag_agree: 0.9000 diag_mask_a: nan \n"
        "x - INFO - Epoch[2] Metrics -- val_mean_dice: 0.3000 \n"
    )
    (tmp_path / "train.log").write_text(  # the resumed attempt re-ran epoch 2
        "x - INFO - Epoch[2] Metrics -- val_mean_dice: 0.3500 \nx - INFO - Epoch[3] Metrics -- val_mean_dice: 0.4000 \n"
    )
    curves = bench_la.read_curves(tmp_path, 150)
    assert curves["val_dice"] == [[150, 0.25], [300, 0.35], [450, 0.4]]
    assert curves["diagnostics"][0]["iteration"] == 150 and curves["diagnostics"][0]["diag_agree"] == 0.9
    assert math.isnan(curves["diagnostics"][0]["diag_mask_a"])


def test_paired_statistics_by_hand():
    assert stats([1.0, 2.0, 3.0]) == {"mean": 2.0, "sd": 1.0, "n": 3, "values": [1.0, 2.0, 3.0]}
    lo, hi = t_interval([1.0, 2.0, 3.0])
    half = 4.302652729911275 * 1.0 / 3**0.5  # t(0.975, 2)
    assert (lo, hi) == pytest.approx((2 - half, 2 + half))
    d = paired_difference({"seed1": 0.7, "seed2": 0.6, "seed3": 0.5}, {"seed1": 0.6, "seed2": 0.6})
    assert d["runs"] == ["seed1", "seed2"] and d["mean"] == pytest.approx(0.05) and d["n"] == 2
    assert paired_difference({"a": 1.0}, {"b": 1.0}) is None


def _result(arm, dice):
    return {"label": arm, "metrics": {"dice": dice, "hd95_voxel": 1.0}, "empty_predictions": 0, "seconds_per_iteration": 0.5,
            "val_dice": [[150, dice - 0.1], [300, dice]]}  # fmt: skip


def test_summarize_gap_closed_by_hand(tmp_path):
    runs = {
        "sup8": {"seed1": _result("sup8", 0.60), "seed2": _result("sup8", 0.50)},
        "mutual8": {"seed1": _result("mutual8", 0.70), "seed2": _result("mutual8", 0.55)},
        "full": {"seed1": _result("full", 0.80), "seed2": _result("full", 0.90)},
        "mask8": {"seed1": _result("mask8", 0.65)},
    }
    s = bench_la.summarize(runs, ["sup8", "mutual8", "full", "mask8"], [1, 2])
    assert s["arms"]["mutual8"]["metrics"]["dice"]["mean"] == pytest.approx(0.625)
    assert s["comparisons"]["mutual8 - sup8"]["values"] == pytest.approx([0.10, 0.05])
    assert s["comparisons"]["mask8 - sup8"]["mean"] == pytest.approx(0.05)
    assert s["comparisons"]["mask8 - mutual8"]["mean"] == pytest.approx(-0.05)
    # no checkpoint choice: the mean of the last (here both) validations, dice - 0.1 and dice
    assert bench_la.last_k_dice(runs["sup8"]["seed1"], k=5) == pytest.approx(0.55)
    assert bench_la.last_k_dice(runs["sup8"]["seed1"], k=1) == pytest.approx(0.60)
    assert bench_la.last_k_dice({"val_dice": []}) is None
    assert s["arms"]["full"]["dice_last_k"]["mean"] == pytest.approx(0.80)
    assert s["comparisons_last_k"]["mutual8 - sup8"]["values"] == pytest.approx([0.10, 0.05])
    gap = s["gap_closed"]["mutual8"]
    assert gap["fraction"] == pytest.approx((0.625 - 0.55) / (0.85 - 0.55))
    assert gap["per_seed"] == pytest.approx([0.10 / 0.20, 0.05 / 0.40])
    assert s["complete"] is False  # mask8 lacks seed 2
    results = {"protocol": {"val_cases": ["A", "B"]}, "summary": s,
               "environment": {"threads": 1, "jobs": 2, "torch": "t", "monai": "m", "commit": "abc", "uncommitted_changes": False}}  # fmt: skip
    text = bench_la.table(results, "python scripts/bench_la.py")
    assert "**Partial" in text and "| mutual8: mutual8 | 2 | 62.50 ± 10.61 | 57.50 ± 10.61 |" in text
    assert "closes 25 %" in text and "- mutual8 - sup8: +7.50 (95 % t interval" in text
    assert "[+7.50, 95 % t interval" in text
    bench_la.plot_curves(runs, ["sup8", "mutual8", "full", "mask8"], tmp_path / "curves.png")
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_tiny_real_run_then_reused(tmp_path):
    """One arm, four iterations, through the bundle; the JSON records threads, versions and the commit; run again
    with the same settings it reuses the result instead of training."""
    from noisymed.data import ensure_la_demo

    data = ensure_la_demo(tmp_path / "data", num_train=5, num_test=1, shape=(32, 32, 32))
    args = ["--dataset_dir", str(data), "--num_val", "1", "--arms", "mutual2", "--seeds", "5", "--iterations", "4",
            "--val_interval", "2", "--pixdim", "1.25", "--patch_size", "[16, 16, 16]", "--features", "4",
            "--work_dir", str(tmp_path / "w"), "--out", str(tmp_path / "b.json")]  # fmt: skip
    assert bench_la.main(args) == 0
    first = json.loads((tmp_path / "b.json").read_text())
    assert first["environment"]["threads"] == 1 and first["environment"]["torch"] == torch.__version__
    assert len(first["environment"]["commit"]) in (40, 7)  # a hash, or "unknown" outside git
    run = first["runs"]["mutual2"]["seed5"]
    assert [c[0] for c in run["val_dice"]] == [2, 4] and 0.0 <= run["metrics"]["dice"] <= 1.0
    assert run["torch"] == torch.__version__ and run["cpu"] == first["environment"]["cpu"]
    assert {"diag_agree", "diag_weight_mean"} <= set(run["diagnostics"][0])
    assert (tmp_path / "w" / "seed5" / "mutual2" / "val_eval" / "metrics.csv").is_file()
    assert (tmp_path / "b.png").is_file() and first["summary"]["complete"] is True
    model = tmp_path / "w" / "seed5" / "mutual2" / "models" / "model.pt"
    before = model.stat().st_mtime_ns
    assert bench_la.main(args) == 0  # resumable: the finished run is reused
    assert model.stat().st_mtime_ns == before
    assert json.loads((tmp_path / "b.json").read_text())["runs"] == first["runs"]
    with pytest.raises(SystemExit):
        bench_la.main(args + ["--threads", "0"])


def test_killed_run_resumes_and_other_settings_refuse(tmp_path, monkeypatch):
    """A run folder with checkpoints but no result continues with --resume true and keeps the killed attempt's
    log; a folder made with other settings is refused unless --rerun."""
    commands = []

    def fake_run(cmd, log, cwd, env=None):
        commands.append(cmd)
        assert env["OMP_NUM_THREADS"] == "1" and env["MKL_NUM_THREADS"] == "1"
        if "configs/train.json" in cmd:
            log.write_text("x.MutualLearningTrainer - INFO - Epoch[2] Complete. Time taken: 00:00:03.000\n"
                           "x.SupervisedEvaluator - INFO - Epoch[2] Complete. Time taken: 00:00:01.000\n"
                           "x - INFO - Epoch[2] Metrics -- val_mean_dice: 0.5000 \n")  # fmt: skip
        else:
            eval_dir = Path(cmd[cmd.index("--eval_dir") + 1])
            eval_dir.mkdir(parents=True)
            (eval_dir / "metrics.csv").write_text("dice,0.5\nempty_pred,0.5\n")
        return 1.0, 0.1

    monkeypatch.setattr(bench_la, "run_logged", fake_run)
    args = bench_la.argparse.Namespace(threads=1, rerun=False, iterations=4, val_interval=2)
    run_dir = tmp_path / "seed1" / "mutual2"
    overrides = {"num_labeled": 2, "seed": 1, "bundle_root": str(run_dir)}
    (run_dir / "models").mkdir(parents=True)
    (run_dir / "models" / "checkpoint_1.pt").write_bytes(b"x")
    (run_dir / "settings.json").write_text(json.dumps(overrides))
    (run_dir / "train.log").write_text("x - INFO - Epoch[1] Metrics -- val_mean_dice: 0.2500 \n")
    result = bench_la.run_one("mutual2", 1, overrides, "label", run_dir, ["A", "B"], args)
    train_cmd = commands[0]
    assert train_cmd[train_cmd.index("--resume") + 1] == "true"
    assert result["val_dice"] == [[2, 0.25], [4, 0.5]] and result["resumed"] is True
    assert result["empty_predictions"] == 1 and result["seconds_per_iteration"] == pytest.approx((3.0 - 1.0) / 2)  # validation excluded
    assert (run_dir / "train.0.log").is_file()
    with pytest.raises(ValueError, match="other settings.*--rerun"):
        bench_la.run_one("mutual2", 1, {**overrides, "seed": 2}, "label", run_dir, ["A", "B"], args)
    assert len(commands) == 2  # refused before running anything


def test_results_recorded_in_the_json_are_reused_only_when_made_the_same_way(tmp_path, monkeypatch):
    """A fresh clone has no run folders: the committed JSON's results are reused when their overrides and thread
    count match this invocation's, and trained again otherwise."""
    from noisymed.data import ensure_la_demo

    data = ensure_la_demo(tmp_path / "data", num_train=5, num_test=1, shape=(32, 32, 32))
    trained = []

    def fake_run_one(arm, seed, overrides, label, run_dir, val_cases, args):
        trained.append((arm, seed))
        return {
            "arm": arm, "seed": seed, "label": label, "metrics": {"dice": 0.5}, "val_dice": [[2, 0.5]], "diagnostics": [],
            "seconds_per_iteration": 1.0, "empty_predictions": 0, "threads": args.threads,
            "overrides": {k: v for k, v in overrides.items() if k != "bundle_root"},
        }  # fmt: skip

    monkeypatch.setattr(bench_la, "run_one", fake_run_one)
    monkeypatch.setattr(bench_la, "plot_curves", lambda *a, **k: None)
    args = ["--dataset_dir", str(data), "--num_val", "1", "--arms", "sup2,mutual2", "--seeds", "5", "--iterations", "4",
            "--val_interval", "2", "--work_dir", str(tmp_path / "w"), "--out", str(tmp_path / "b.json")]  # fmt: skip
    assert bench_la.main(args) == 0 and trained == [(a, 5) for a in ("sup2", "mutual2")]
    record = json.loads((tmp_path / "b.json").read_text())
    record["runs"]["sup2"]["seed5"]["metrics"]["dice"] = 0.25  # marks the recorded result
    (tmp_path / "b.json").write_text(json.dumps(record))
    trained.clear()
    assert bench_la.main(args) == 0 and trained == []  # both reused from the JSON, no run folder needed
    assert json.loads((tmp_path / "b.json").read_text())["runs"]["sup2"]["seed5"]["metrics"]["dice"] == 0.25
    assert bench_la.main(args[:-4] + ["--iterations", "6"] + args[-4:]) == 0  # other settings: trained again
    assert sorted(trained) == [("mutual2", 5), ("sup2", 5)]
    trained.clear()
    assert bench_la.main(args + ["--threads", "2"]) == 0 and len(trained) == 2  # other thread count: trained again
    assert bench_la.recorded_result({"sup2": {"seed5": {"metrics": {}}}}, "sup2", 5, {}, 1) is None  # no overrides recorded


def test_amp_and_channels_last_are_overrides_only_when_on(tmp_path, monkeypatch):
    """--amp/--channels_last reach the bundle as overrides (recorded with the run); off, the overrides are those of
    runs recorded before the options existed, so their results are still reused."""
    from noisymed.data import ensure_la_demo

    data = ensure_la_demo(tmp_path / "data", num_train=5, num_test=1, shape=(32, 32, 32))
    seen = []

    def fake_run_one(arm, seed, overrides, label, run_dir, val_cases, args):
        seen.append(overrides)
        return {"arm": arm, "seed": seed, "label": label, "metrics": {"dice": 0.5}, "val_dice": [], "diagnostics": [],
                "seconds_per_iteration": 1.0, "empty_predictions": 0, "threads": args.threads,
                "overrides": {k: v for k, v in overrides.items() if k != "bundle_root"}}  # fmt: skip

    monkeypatch.setattr(bench_la, "run_one", fake_run_one)
    monkeypatch.setattr(bench_la, "plot_curves", lambda *a, **k: None)
    args = ["--dataset_dir", str(data), "--num_val", "1", "--arms", "sup2", "--seeds", "5", "--iterations", "4",
            "--val_interval", "2", "--work_dir", str(tmp_path / "w"), "--out", str(tmp_path / "b.json")]  # fmt: skip
    assert bench_la.main(args + ["--amp", "false", "--channels_last", "false"]) == 0
    assert "amp" not in seen[0] and "channels_last" not in seen[0]
    assert json.loads((tmp_path / "b.json").read_text())["protocol"]["amp"] is False
    assert bench_la.main(args + ["--amp", "true", "--channels_last", "TRUE", "--rerun"]) == 0
    assert seen[1]["amp"] == "true" and seen[1]["channels_last"] == "true"
    record = json.loads((tmp_path / "b.json").read_text())
    assert record["runs"]["sup2"]["seed5"]["overrides"]["amp"] == "true" and record["protocol"]["channels_last"] is True
    assert bench_la.main(args) == 0 and len(seen) == 3  # amp off now: the amp run's record does not match
    with pytest.raises(SystemExit):
        bench_la.main(args + ["--amp", "maybe"])


def test_a_killed_benchmark_keeps_every_recorded_run(tmp_path, monkeypatch):
    """Runs the JSON records are in the new JSON before anything trains: a benchmark killed at its first new run
    still records the runs of later seeds that an earlier invocation made (they used to vanish until reached)."""
    from noisymed.data import ensure_la_demo

    data = ensure_la_demo(tmp_path / "data", num_train=5, num_test=1, shape=(32, 32, 32))
    at_kill = []

    def fake_run_one(arm, seed, overrides, label, run_dir, val_cases, args):
        if arm == "mutual2":  # a kill while this run trains leaves the JSON as it is now
            at_kill.append(json.loads((tmp_path / "b.json").read_text()))
            raise KeyboardInterrupt
        return {
            "arm": arm, "seed": seed, "label": label, "metrics": {"dice": seed / 10}, "val_dice": [[2, 0.5]],
            "diagnostics": [], "seconds_per_iteration": 1.0, "empty_predictions": 0, "threads": args.threads,
            "overrides": {k: v for k, v in overrides.items() if k != "bundle_root"},
        }  # fmt: skip

    monkeypatch.setattr(bench_la, "run_one", fake_run_one)
    monkeypatch.setattr(bench_la, "plot_curves", lambda *a, **k: None)
    common = ["--dataset_dir", str(data), "--num_val", "1", "--seeds", "5,6", "--iterations", "4", "--val_interval",
              "2", "--work_dir", str(tmp_path / "w"), "--out", str(tmp_path / "b.json")]  # fmt: skip
    assert bench_la.main(common + ["--arms", "sup2"]) == 0
    with pytest.raises(KeyboardInterrupt):
        bench_la.main(common + ["--arms", "sup2,mutual2", "--jobs", "1"])
    record = at_kill[0]  # killed at (seed 5, mutual2), the first run to train, before seed 6 is reached
    assert {s: r["metrics"]["dice"] for s, r in record["runs"]["sup2"].items()} == {"seed5": 0.5, "seed6": 0.6}
    assert "mutual2" not in record["runs"] and record["summary"]["complete"] is False


def test_a_relative_work_dir_is_read_from_where_the_command_runs(tmp_path, monkeypatch):
    """The bundle runs in its own folder; a relative --work_dir must still mean the caller's folder (before the
    fix the evaluation wrote its CSVs under bundles/la_mutual_learning/ and the run failed)."""
    from noisymed.data import ensure_la_demo

    data = ensure_la_demo(tmp_path / "data", num_train=4, num_test=1, shape=(32, 32, 32))
    monkeypatch.chdir(tmp_path)
    args = ["--dataset_dir", str(data), "--num_val", "1", "--arms", "sup2", "--seeds", "5", "--iterations", "2",
            "--val_interval", "2", "--pixdim", "1.25", "--patch_size", "[16, 16, 16]", "--features", "4",
            "--work_dir", "rel/w", "--out", "b.json"]  # fmt: skip
    assert bench_la.main(args) == 0
    assert (tmp_path / "rel" / "w" / "seed5" / "sup2" / "val_eval" / "metrics.csv").is_file()
    assert not (bench_la.BUNDLE / "rel").exists()
