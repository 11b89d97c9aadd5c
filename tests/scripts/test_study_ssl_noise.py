"""The SSL x label-noise study runner: spec checks, the grid and its hashes, reading runs, resume after SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

import study_ssl_noise as study  # noqa: E402
from tests.bundles.test_noisy_label_ssl import _npz  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
TINY_SPEC = """
name: tiny
epochs: 1
pretrain_epochs: 1
overrides: {{backbone: resnet10, widths: [4, 8, 8, 16], batch_size: 8, num_workers: 0, spatial_size: [16, 16]}}
pretrain_options: {{hidden_dim: 16, embedding_dim: 8}}
datasets:
  toy: {{path: toy.npz}}
noise_types: [symmetric]
noise_rates: {rates}
initialisations: [random, rotation]
strategies: [ce]
fisher_components: 4
"""


@pytest.fixture()
def spec_dir(tmp_path):
    _npz(tmp_path / "toy.npz", (16, 16), n_train=16, n_val=8)
    return tmp_path


def _write(spec_dir: Path, rates="[0.25]", extra="") -> Path:
    path = spec_dir / "spec.yaml"
    path.write_text(TINY_SPEC.format(rates=rates) + extra)
    return path


def test_spec_errors_name_the_key(spec_dir):
    with pytest.raises(study.SpecError, match=r"unknown key\(s\) \['epoch'\]"):
        study.load_spec(_write(spec_dir, extra="epoch: 3\n"))
    with pytest.raises(study.SpecError, match=r"noise_rates must be in \[0, 1\), got \[1.0\]"):
        study.load_spec(_write(spec_dir, rates="[0.2, 1.0]"))
    bad = TINY_SPEC.format(rates="[0.2]").replace("[random, rotation]", "[random, dino]")
    (spec_dir / "bad.yaml").write_text(bad)
    with pytest.raises(study.SpecError, match=r"unknown initialisation\(s\) \['dino'\]"):
        study.load_spec(spec_dir / "bad.yaml")
    (spec_dir / "bad.yaml").write_text(TINY_SPEC.format(rates="[0.2]").replace("[symmetric]", "[grouped]"))
    with pytest.raises(study.SpecError, match="'toy' uses grouped noise but gives no noise_groups"):
        study.load_spec(spec_dir / "bad.yaml")
    (spec_dir / "bad.yaml").write_text(TINY_SPEC.format(rates="[0.2]").replace("toy.npz", "nothere.npz"))
    with pytest.raises(FileNotFoundError, match="nothere.npz: dataset 'toy'"):
        study.load_spec(spec_dir / "bad.yaml")


def test_grid_shares_rate_zero_and_pretraining_and_hashes_only_what_a_setting_touches(spec_dir):
    spec_file = _write(spec_dir, rates="[0.0, 0.2, 0.4]")
    spec_file.write_text(spec_file.read_text().replace("noise_types: [symmetric]", "noise_types: [symmetric, pairflip]"))
    spec = study.load_spec(spec_file)
    pretrains, cells = study.plan(spec, spec_dir / "work")
    # rate 0 once + 2 types x 2 rates, times 2 initialisations x 1 strategy; one pretraining (rotation)
    assert len(cells) == (1 + 2 * 2) * 2 and len(pretrains) == 1
    assert {c["noise_type"] for c in cells if c["noise_rate"] == 0.0} == {"none"}
    assert all(c["pretrain"] is pretrains[0] for c in cells if c["init"] == "rotation")
    keys = {(c["noise_type"], c["noise_rate"], c["init"]): c["key"] for c in cells}
    spec["strategies"]["ce"]["options"] = {}
    spec["pretrain_options"] = {"hidden_dim": 32, "embedding_dim": 8}  # touches the pretraining and its cells only
    pretrains2, cells2 = study.plan(spec, spec_dir / "work")
    assert pretrains2[0]["key"] != pretrains[0]["key"]
    for c in cells2:
        same = c["key"] == keys[(c["noise_type"], c["noise_rate"], c["init"])]
        assert same == (c["init"] == "random")


def test_curve_parsing_and_the_two_model_choices():
    log = (
        "x - INFO - Epoch[1] Metrics -- val_acc: 0.6000 val_auc: 0.7 val_clean_acc: 0.7000 \n"
        "x - INFO - Epoch[2] Metrics -- val_acc: 0.8000 val_auc: 0.8 val_clean_acc: 0.6500 \n"
        "x - INFO - Epoch[3] Metrics -- val_acc: 0.8000 val_auc: 0.9 val_clean_acc: 0.9000 \n"
    )
    curve = study.parse_curve(log)
    assert curve[1] == {"epoch": 2, "val_acc": 0.8, "val_auc": 0.8, "val_clean_acc": 0.65}
    s = study.summarise_curve(curve, val_noise=True)
    # selected on the noisy val_acc (tie 2 vs 3 -> earlier), scored on the clean labels
    assert (s["acc_last"], s["acc_selected"], s["selected_epoch"]) == (0.9, 0.65, 2)
    assert study.summarise_curve(curve, val_noise=False)["acc_selected"] == 0.8
    with pytest.raises(ValueError, match="no 'val_clean_acc'"):
        study.summarise_curve([{"epoch": 1, "val_acc": 0.5}], val_noise=True)


def _row(t, rate, init, acc, seed=0):
    return {"dataset": "d", "noise_type": t, "noise_rate": rate, "init": init, "strategy": "ce", "seed": seed,
            "acc_last": acc, "acc_selected": acc - 0.1, "selected_epoch": 1}  # fmt: skip


def test_gains_and_drops_by_hand():
    rows = [_row("none", 0.0, "random", 0.9), _row("none", 0.0, "moco", 0.92), _row("symmetric", 0.2, "random", 0.8),
            _row("symmetric", 0.2, "moco", 0.85), _row("symmetric", 0.4, "random", 0.6), _row("symmetric", 0.4, "moco", 0.75)]  # fmt: skip
    (g,) = study.gains(rows)
    assert g["init"] == "moco" and g["rates"] == 2 and g["gain_last"] == pytest.approx((0.05 + 0.15) / 2)
    assert g["gain_last_stats"]["sd"] is None and g["gain_last_stats"]["ci95"] is None  # one seed: no spread
    spec = {"strategies": {"ce": {}}, "noise_rates": [0.0, 0.2, 0.4], "seeds": [0], "datasets": {"d": {"noise_types": ["symmetric"]}}}
    (drop,) = study.accuracy_drops(spec, rows)
    assert drop["drop_last"] == pytest.approx(0.3) and drop["rate"] == 0.4


def test_seeds_pair_gains_and_drops_by_seed_by_hand(tmp_path):
    """Two seeds: each seed's gain is the mean over its noisy rates of (SSL - random) of that seed; the table gives
    mean ± sd over seeds with the t interval (t(0.975, 1) = 12.706)."""
    rows = [
        _row("none", 0.0, "random", 0.90, 0), _row("symmetric", 0.4, "random", 0.60, 0), _row("symmetric", 0.4, "moco", 0.70, 0),
        _row("none", 0.0, "random", 0.80, 1), _row("symmetric", 0.4, "random", 0.60, 1), _row("symmetric", 0.4, "moco", 0.64, 1),
    ]  # fmt: skip
    (g,) = study.gains(rows)
    assert g["seeds"] == [0, 1] and g["gain_last_stats"]["values"] == pytest.approx([0.10, 0.04])
    assert g["gain_last"] == pytest.approx(0.07) and g["gain_last_stats"]["sd"] == pytest.approx(0.06 / 2**0.5)
    half = 12.706 * (0.06 / 2**0.5) / 2**0.5
    assert g["gain_last_stats"]["ci95"] == pytest.approx([0.07 - half, 0.07 + half], abs=1e-4)
    spec = {"strategies": {"ce": {}}, "noise_rates": [0.0, 0.4], "seeds": [0, 1], "datasets": {"d": {"noise_types": ["symmetric"]}}}
    (drop,) = study.accuracy_drops(spec, rows)
    assert drop["drop_last_stats"]["values"] == pytest.approx([0.30, 0.20]) and drop["seeds"] == 2
    means = {(m["noise_type"], m["init"]): m for m in study.mean_rows(rows)}
    assert means[("symmetric", "moco")]["acc_last"]["mean"] == pytest.approx(0.67) and means[("symmetric", "moco")]["seeds"] == [0, 1]
    text = study.summary_markdown({**spec, "jobs": 1, "threads": 1, "val_noise": True}, rows, [g], [drop], {"d": {"fisher": 1.0}}, "cmd")
    assert "mean ± sd over 2 seeds" in text and "| d | symmetric | 0.4 | moco | ce | 0.6700 ± 0.0424 |" in text
    assert "| d | symmetric | moco | ce | +7.00 ± 4.24 |" in text
    pivot = study.pivot_markdown({**spec, "initialisations": ["random", "moco"]}, rows)
    assert "**d, symmetric noise, ce**" in pivot and "| moco | - | 67.0 / 57.0 |" in pivot and "| random | 85.0 / 75.0 | 60.0 / 50.0 |" in pivot
    written = study.plot({**spec, "initialisations": ["random", "moco"]}, rows, [g], tmp_path)  # error bars over seeds
    assert [p.name for p in written] == ["accuracy_d.png", "ssl_gain.png"]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in written)


def test_seeds_multiply_the_grid_and_keep_a_single_seed_study_hashes(spec_dir):
    spec_file = _write(spec_dir, rates="[0.0, 0.25]")
    one = study.load_spec(spec_file)
    spec_file.write_text(spec_file.read_text() + "seeds: [0, 7]\n")
    two = study.load_spec(spec_file)
    p1, c1 = study.plan(one, spec_dir / "work")
    p2, c2 = study.plan(two, spec_dir / "work")
    assert len(c2) == 2 * len(c1) and len(p2) == 2 * len(p1)
    assert {c["key"] for c in c1} == {c["key"] for c in c2 if c["seed"] == 0}  # seed 0's runs are the one-seed study's
    assert all(c["settings"]["seed"] == c["seed"] for c in c2)
    spec_file.write_text(spec_file.read_text() + "seed: 3\n")
    with pytest.raises(study.SpecError, match="'seed' \\(one\\) or 'seeds'"):
        study.load_spec(spec_file)
    spec_file.write_text(_write(spec_dir).read_text() + "seeds: [1, 1]\n")
    with pytest.raises(study.SpecError, match="distinct integers"):
        study.load_spec(spec_file)


def _study(spec: Path, work: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    cmd = [sys.executable, str(REPO / "scripts" / "study_ssl_noise.py"), str(spec), "--work_dir", str(work), *extra]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)


@pytest.mark.slow
def test_a_killed_study_resumes_and_a_changed_setting_reruns_only_what_it_touches(spec_dir):
    spec, work = _write(spec_dir), spec_dir / "work"
    proc = _study(spec, work)
    deadline = time.time() + 300
    # kill (the runner and its bundle run) once the pretraining has finished and the first cell is under way
    while not list((work / "cells").glob("toy/*.partial")) and time.time() < deadline and proc.poll() is None:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = list(work.glob("pretrain/*/result.json"))
    assert len(finished) == 1 and not list(work.glob("cells/toy/*/result.json"))
    stamp = finished[0].stat().st_mtime_ns

    out = _study(spec, work).communicate(timeout=600)[0]
    assert "ran 2, reused 1" in out, out[-3000:]
    assert finished[0].stat().st_mtime_ns == stamp  # the pretraining was not run again
    assert not list(work.rglob("*.partial"))
    rows = (work / "report" / "results.csv").read_text().splitlines()
    assert len(rows) == 3 and rows[0].startswith("dataset,noise_type,noise_rate,init,strategy")
    for name in ("results.json", "summary.md", "pivot.md", "accuracy_toy.png", "ssl_gain.png"):
        assert (work / "report" / name).is_file()
    assert json.loads((work / "report" / "results.json").read_text())["fisher"]["toy"]["components"] == 4

    # another rate: only its two cells are new; the pretraining and the 0.25 cells are reused
    out = _study(_write(spec_dir, rates="[0.25, 0.5]"), work, "--dry_run").communicate(timeout=120)[0]
    assert "1 pretraining run(s) + 4 cell(s), 3 finished already" in out
    assert out.count(": to run") == 2 and "symmetric 0.5 random ce: to run" in out


def test_progress_estimates_each_kind_by_its_own_mean(capsys):
    progress = study.Progress({"pretrain": 2, "cell": 4})
    progress.step("pretrain", "p1", 600.0, jobs=1)
    # nothing measured for cells yet: 1 pretraining + 4 cells at the pretraining mean
    assert progress.eta(jobs=1) == pytest.approx(5 * 600.0)
    progress.step("pretrain", "p2", None, jobs=1)  # cached: counted, not timed
    progress.step("cell", "c1", 60.0, jobs=1)
    assert progress.eta(jobs=1) == pytest.approx(3 * 60.0) and progress.eta(jobs=2) == pytest.approx(90.0)
    assert "[3/6 runs, 1 cached |" in capsys.readouterr().out.splitlines()[-1]
