"""Single-positive CXR benchmark at CPU scale: full labels, SPML baselines and MPC with its ablations.

    python scripts/bench_cxr.py                     # the documented run (~30 min on 2 cores)
    python scripts/bench_cxr.py --epochs 1 --max_iterations 2 --arms an,mpc --work_dir /tmp/x \\
        --out /tmp/x/b.json --docs /tmp/x/b.md     # a smoke run (~1-2 min)

On the NIH ChestX-ray14 subset (``../shared/data/nih_cxr14_1000``, 800 images at 64 px), the bundle's
patient-grouped split (seeded) gives the validation images, whose full labels score every arm. One
single-positive simulation of the training images (seeded, "No Finding" as an extra observed class for
images without findings) is written once and reused by every arm, so all methods see the same labels.
Each arm runs the bundle's own ``train.json`` through ``python -m monai.bundle run`` in a subprocess with
the same epochs, batch size, learning rate schedule and seed, then ``evaluate.json`` on the last epoch's
checkpoint (per-class AP, excluded classes). The reported numbers are those of the **last epoch**: no
checkpoint is selected on the validation images; the per-epoch validation curves are kept in the JSON.
The arms in ``--seed_arms`` (full, AN, MPC) run at every seed of ``--seeds`` (each seed: another
single-positive draw and another initialisation), the others at the first seed only, to fit ~30 minutes.

Writes ``<out>.json`` and replaces the table between the markers in the bundle's docs/README.md. Each
run's result is cached in ``<work_dir>/seed<seed>/<arm>/result.json`` and reused when its settings are
unchanged.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench_common import engine_epoch_seconds, replace_block, run_logged, thread_env

REPO = Path(__file__).resolve().parents[1]
BUNDLE = REPO / "bundles" / "cxr_single_positive"
MARK_START, MARK_END = "<!-- bench_cxr:start -->", "<!-- bench_cxr:end -->"

ARMS = {
    "full": ({"method": "full"}, "full-label BCE (upper bound)"),
    "an": ({"method": "an"}, "AN: assume negative"),
    "epr": ({"method": "epr"}, "EPR: expected positive regularisation"),
    "role": ({"method": "role"}, "ROLE: online label estimation"),
    "mpc": ({"method": "mpc"}, "MPC: AN + IPC (elastic) + FPC + BTC"),
    "mpc_no_ipc": ({"method": "mpc", "ipc_weight": 0.0}, "MPC without IPC (no strong view)"),
    "mpc_no_elastic": ({"method": "mpc", "elastic": False}, "MPC without elastic deformation"),
    "mpc_no_fpc": ({"method": "mpc", "fpc_weight": 0.0}, "MPC without FPC"),
    "mpc_no_btc": ({"method": "mpc", "btc_weight": 0.0}, "MPC without BTC"),
}


def _env(threads: int) -> dict[str, str]:
    """Thread limits for a training process, and this checkout first on its import path."""
    path = os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return {**thread_env(threads), "PYTHONPATH": path}


CURVES = {"map": "val_map", "auroc": "val_auroc", "pseudo_pos_rate": "pseudo_pos_rate",
          "pseudo_pos_precision": "pseudo_pos_precision", "hidden_pos_recall": "hidden_pos_recall"}  # fmt: skip


PSEUDO_KEYS = ("pseudo_pos_rate", "pseudo_pos_precision", "hidden_pos_recall")


def _curves(text: str) -> dict[str, list[float]]:
    """Per-epoch values the StatsHandlers logged: validation mAP and macro AUROC, and (MPC arms) the trainer's
    pseudo-label share, precision and recall of hidden positives. Keys without values are left out."""
    values: dict[str, list[float]] = {}
    for line in re.findall(r"Metrics -- (.*)", text):
        found = dict(re.findall(r"(\w+): ([-\d.eE+]+)", line))
        for key, logged in CURVES.items():
            if logged in found:
                values.setdefault(key, []).append(float(found[logged]))
    return values


def _stats(values: list[float]) -> dict:
    """Mean, sample standard deviation (None for one value) and the values."""
    n = len(values)
    mean = sum(values) / n
    sd = (sum((v - mean) ** 2 for v in values) / (n - 1)) ** 0.5 if n > 1 else None
    return {"mean": mean, "sd": sd, "values": values}


def _train_arm(arm: str, seed: int, common: dict, work: Path, args: argparse.Namespace) -> dict:
    """Train and evaluate one arm at one seed (or reuse its cached result); return its result."""
    run_dir = work / f"seed{seed}" / arm
    run_dir.mkdir(parents=True, exist_ok=True)
    labels_file = work / "labels" / f"single_positive_seed{seed}.json"
    overrides = {**common, "seed": seed, **ARMS[arm][0], "labels_file": str(labels_file), "bundle_root": str(run_dir)}
    key = {k: v for k, v in overrides.items() if k not in ("labels_file", "bundle_root")}  # paths do not matter
    cached = run_dir / "result.json"
    if not args.rerun and cached.is_file():
        previous = json.loads(cached.read_text(encoding="utf-8"))
        if previous["settings"] == key:
            print(f"[{arm} seed {seed}] reusing {cached} (same settings; --rerun to train again)", flush=True)
            return previous["result"]
    flags = [x for k, v in overrides.items() for x in (f"--{k}", "None" if v is None else str(v))]
    base = [sys.executable, "-m", "monai.bundle", "run", "--logging_file", "configs/logging.conf"]
    print(f"[{arm} seed {seed}] training {args.epochs} epochs ...", flush=True)
    wall, _ = run_logged(base + ["--config_file", "configs/train.json"] + flags, run_dir / "train.log", BUNDLE, _env(args.threads))
    log = (run_dir / "train.log").read_text(encoding="utf-8", errors="replace")
    train_s = sum(engine_epoch_seconds(log, "SinglePositiveTrainer")) - sum(engine_epoch_seconds(log, "SupervisedEvaluator"))
    eval_flags = flags + ["--eval_checkpoint", str(run_dir / "models" / "checkpoint_final.pt")]
    eval_cmd = base + ["--config_file", "['configs/train.json','configs/evaluate.json']"] + eval_flags
    run_logged(eval_cmd, run_dir / "eval.log", BUNDLE, _env(args.threads))
    report = json.loads((run_dir / "eval" / "per_class.json").read_text(encoding="utf-8"))
    curves = _curves(log)
    result = {
        "map": report["map"],
        "auroc": report["auroc"],
        "map_mean_last3": sum(curves["map"][-3:]) / len(curves["map"][-3:]) if curves.get("map") else None,
        "auroc_mean_last3": sum(curves["auroc"][-3:]) / len(curves["auroc"][-3:]) if curves.get("auroc") else None,
        "per_class_ap": report["per_class_ap"],
        "per_class_auroc": report["per_class_auroc"],
        "excluded_ap": report["excluded_ap"],
        "excluded_auroc": report["excluded_auroc"],
        "val_curves": curves,
        "seconds_per_epoch": train_s / max(1, args.epochs),
        "train_wall_seconds": wall,
    }
    cached.write_text(json.dumps({"settings": key, "result": result}, indent=2), encoding="utf-8")
    print(f"[{arm} seed {seed}] mAP {report['map']:.4f}  AUROC {report['auroc']:.4f}  ({wall:.0f} s)", flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset_dir", default=str(REPO.parent / "shared" / "data" / "nih_cxr14_1000"))
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--max_iterations", type=int, default=None, help="iterations per epoch (default: the whole training set)")
    p.add_argument("--batch_size", type=int, default=32)
    p.add_argument("--image_size", type=int, default=64)
    p.add_argument("--learning_rate", type=float, default=1e-3)
    p.add_argument("--rampup_epochs", type=float, default=2.0)
    p.add_argument("--val_fraction", type=float, default=0.2)
    p.add_argument("--seeds", default="0,1,2", help="seeds of the single-positive draw and of training")
    p.add_argument("--seed_arms", default="full,an,mpc", help="arms run at every seed; the others at the first seed only")
    p.add_argument("--split_seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="OMP threads per training process")
    p.add_argument("--jobs", type=int, default=2, help="training processes at once (2 cores: 2 jobs of 1 thread)")
    p.add_argument("--arms", default=",".join(ARMS))
    p.add_argument("--rerun", action="store_true", help="train again even when a cached result matches")
    p.add_argument("--work_dir", default=str(REPO / "benchmarks" / "runs" / "cxr"))
    p.add_argument("--out", default=str(BUNDLE / "docs" / "benchmark_cxr.json"))
    p.add_argument("--docs", default=str(BUNDLE / "docs" / "README.md"))
    args = p.parse_args(argv)
    arms = args.arms.split(",")
    seed_arms = [a for a in args.seed_arms.split(",") if a]
    unknown = [a for a in arms + seed_arms if a not in ARMS]
    if unknown:
        p.error(f"unknown arm(s) {unknown}; choose from {list(ARMS)}")
    seeds = [int(x) for x in args.seeds.split(",")]
    if not (Path(args.dataset_dir) / "labels.csv").is_file():
        p.error(f"{args.dataset_dir}: no labels.csv (the NIH subset's layout)")

    work = Path(args.work_dir).resolve()
    common = {
        "dataset_dir": str(Path(args.dataset_dir).resolve()),
        "label_source": "nih_subset",
        "max_epochs": args.epochs,
        "epoch_length": args.max_iterations,
        "batch_size": args.batch_size,
        "image_size": args.image_size,
        "learning_rate": args.learning_rate,
        "rampup_epochs": args.rampup_epochs,
        "val_fraction": args.val_fraction,
        "split_seed": args.split_seed,
        "num_workers": 0,
    }
    protocol = {**common, "seeds": seeds, "seed_arms": seed_arms, "threads": args.threads, "jobs": args.jobs, "reported": "last epoch"}
    results: dict = {"protocol": protocol, "runs": {}, "arms": {}, "single_positive": {}}
    start = time.time()
    tasks = [(arm, seed) for i, seed in enumerate(seeds) for arm in (arms if i == 0 else [a for a in arms if a in seed_arms])]
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:  # each task is a training subprocess
        futures = {task: pool.submit(_train_arm, task[0], task[1], common, work, args) for task in tasks}
        for (arm, seed), future in futures.items():
            results["runs"].setdefault(str(seed), {})[arm] = future.result()
    for seed in seeds:
        labels_file = work / "labels" / f"single_positive_seed{seed}.json"
        if labels_file.is_file():
            record = json.loads(labels_file.read_text(encoding="utf-8"))
            keys = ("num_images", "true_positives", "observed_positives", "hidden_positives")
            results["single_positive"][str(seed)] = {k: record[k] for k in keys}
    results["wall_seconds"] = time.time() - start

    for arm in arms:
        runs = {s: r[arm] for s, r in results["runs"].items() if arm in r}
        first = next(iter(runs.values()))
        results["arms"][arm] = {
            "label": ARMS[arm][1],
            "overrides": ARMS[arm][0],
            "seeds": [int(s) for s in runs],
            **{k: _stats([r[k] for r in runs.values()]) for k in ("map", "auroc", "map_mean_last3", "auroc_mean_last3", "seconds_per_epoch")},
            "excluded_ap": first["excluded_ap"],
            "excluded_auroc": first["excluded_auroc"],
        }
        pseudo = {k: [r["val_curves"][k][-1] for r in runs.values() if r["val_curves"].get(k)] for k in PSEUDO_KEYS}
        if all(pseudo.values()):  # arms with pseudo labels: their last epoch, over seeds
            results["arms"][arm]["pseudo_labels_last_epoch"] = {k: _stats(v) for k, v in pseudo.items()}
    done = results["arms"]
    if {"an", "mpc"} <= set(done):
        common_seeds = [str(s) for s in done["an"]["seeds"] if s in done["mpc"]["seeds"]]
        diff = {k: [results["runs"][s]["mpc"][k] - results["runs"][s]["an"][k] for s in common_seeds] for k in ("map", "auroc")}
        results["mpc_minus_an"] = {k: _stats(v) for k, v in diff.items()}
        results["mpc_minus_an"]["seeds"] = [int(s) for s in common_seeds]
        if "full" in done:
            gap = {}
            for k in ("map", "auroc"):
                seeds_all = [s for s in common_seeds if "full" in results["runs"][s]]
                f = sum(results["runs"][s]["full"][k] for s in seeds_all) / len(seeds_all)
                a = sum(results["runs"][s]["an"][k] for s in seeds_all) / len(seeds_all)
                m = sum(results["runs"][s]["mpc"][k] for s in seeds_all) / len(seeds_all)
                gap[k] = (m - a) / (f - a) if f > a else None  # undefined when full labels do not beat AN
            results["gap_closed"] = gap
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    _write_table(results, Path(args.docs), shlex.join(["python", "scripts/bench_cxr.py", *(argv if argv is not None else sys.argv[1:])]))
    print(json.dumps({k: v for k, v in results.items() if k not in ("arms", "runs")}, indent=2))
    return 0


def _pct(stat: dict | None) -> str:
    if stat is None or stat.get("mean") is None:
        return ""
    return f"{100 * stat['mean']:.2f}" + (f" ± {100 * stat['sd']:.2f}" if stat["sd"] is not None else "")


def _write_table(results: dict, docs: Path, command: str) -> None:
    proto = results["protocol"]
    rows = [
        f"Reproduce: `{command}` ({proto['threads']} OMP thread per run, {proto.get('jobs', 1)} runs at once, seeds {proto['seeds']} for {proto['seed_arms']} and "
        f"the first seed for the other arms, split seed {proto['split_seed']}, {proto['max_epochs']} epochs, batch "
        f"{proto['batch_size']}, {proto['image_size']} px). Numbers of the last epoch on the validation images with "
        "full labels (the findings); no checkpoint selection. ± is the standard deviation over seeds (each seed: "
        "another single-positive draw and another initialisation).",
        "",
    ]
    if "wall_seconds" in results:
        rows += [f"Wall time of this run: {results['wall_seconds'] / 60:.1f} min (cached arms count 0).", ""]
    for seed, sp in results.get("single_positive", {}).items():
        rows.append(
            f"- seed {seed}: {sp['num_images']} training images, {sp['true_positives']} true finding positives, "
            f"{sp['observed_positives']} observed, **{sp['hidden_positives']} hidden**; images without findings "
            "observe \"No Finding\" (an extra class)."
        )
    rows += [
        "",
        "| arm | seeds | mAP % | macro AUROC % | mAP % (mean of last 3 epochs) | AUROC % (mean of last 3) | s / epoch |",
        "|---|---|---|---|---|---|---|",
    ]
    for arm in results["arms"].values():
        rows.append(
            f"| {arm['label']} | {len(arm['seeds'])} | {_pct(arm['map'])} | {_pct(arm['auroc'])} | "
            f"{_pct(arm['map_mean_last3'])} | {_pct(arm['auroc_mean_last3'])} | {arm['seconds_per_epoch']['mean']:.1f} |"
        )
    pseudo_arms = [a for a in results["arms"].values() if "pseudo_labels_last_epoch" in a]
    if pseudo_arms:
        rows += [
            "",
            "Pseudo labels in the last training epoch (the full labels are used only to score them): share of the "
            "unobserved labels made pseudo positive, their precision, and the share of hidden true positives recovered.",
            "",
            "| arm | pseudo positives % of unobserved | precision % | hidden positives recovered % |",
            "|---|---|---|---|",
        ]
        for arm in pseudo_arms:
            q = arm["pseudo_labels_last_epoch"]
            rows.append(f"| {arm['label']} | {_pct(q['pseudo_pos_rate'])} | {_pct(q['pseudo_pos_precision'])} | {_pct(q['hidden_pos_recall'])} |")
    first = next(iter(results["arms"].values()), None)
    if first is not None and (first["excluded_ap"] or first["excluded_auroc"]):
        rows += ["", f"Excluded (no positive in the validation images): AP {first['excluded_ap']}, AUROC {first['excluded_auroc']}."]
    if "mpc_minus_an" in results:
        d = results["mpc_minus_an"]
        per_seed = ", ".join(f"{100 * v:+.2f}" for v in d["map"]["values"])
        line = (
            f"MPC − AN (seeds {d['seeds']}): {_pct(d['map'])} mAP points (per seed {per_seed}), "
            f"{_pct(d['auroc'])} AUROC points"
        )
        g = results.get("gap_closed") or {}
        if g.get("map") is not None:
            line += f"; share of the AN → full-label gap closed (means over those seeds): {100 * g['map']:.0f} % (mAP)"
            if g.get("auroc") is not None:
                line += f", {100 * g['auroc']:.0f} % (AUROC)"
        elif results.get("gap_closed") is not None:
            line += "; no AN → full-label gap to close (full labels did not beat AN on mAP)"
        rows += ["", line + "."]
    replace_block(docs, MARK_START, MARK_END, "\n".join(rows))


if __name__ == "__main__":
    sys.exit(main())
