"""LA benchmark at CPU scale: supervised-only vs mutual learning vs fully supervised, same budget and seed.

    python scripts/bench_la.py --dataset_dir ../shared/data/la_h5 --train_list train48.list

Each arm runs the bundle's own ``train.json`` through ``python -m monai.bundle run`` (a subprocess, so its
peak memory is its own), then ``evaluate.json`` on the validation cases with the checkpoint that was
best on those cases. Arms:

(a) ``sup``: the first ``num_labeled`` cases of the list, supervised only (2 labeled per batch);
(b) ``mutual``: the same labeled cases plus every other non-validation case unlabeled (2 + 2 per batch);
(c) ``full``: every non-validation case labeled, supervised only (4 labeled per batch).

The last ``num_val`` cases of the list are the validation cases; nothing else sees them.
Writes ``<out>.json`` and replaces the table between the markers in the bundle's docs/README.md.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import sys
from pathlib import Path

from bench_common import engine_epoch_seconds, replace_block, run_logged

REPO = Path(__file__).resolve().parents[1]
BUNDLE = REPO / "bundles" / "la_mutual_learning"
MARK_START, MARK_END = "<!-- bench_la:start -->", "<!-- bench_la:end -->"
METRICS = ("dice", "jaccard", "hd95_voxel", "asd_voxel", "hd95_mm", "asd_mm")


def _val_curve(log: Path) -> list[float]:
    """Validation Dice after each epoch, as the StatsHandler logged it."""
    return [float(v) for v in re.findall(r"Metrics -- val_mean_dice: ([\d.]+)", log.read_text(encoding="utf-8", errors="replace"))] if log.is_file() else []


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset_dir", default=str(REPO.parent / "shared" / "data" / "la_h5"))
    p.add_argument("--train_list", default="train48.list")
    p.add_argument("--num_labeled", type=int, default=8)
    p.add_argument("--num_val", type=int, default=8)
    p.add_argument("--iterations", type=int, default=1500)
    p.add_argument("--val_interval", type=int, default=150)
    p.add_argument("--pixdim", type=float, default=2.5, help="isotropic resampling (mm); 2.5 = 4x downsampled")
    p.add_argument("--patch_size", default="[32, 32, 16]")
    p.add_argument(
        "--rampup_fraction", type=float, default=1.0,
        help="fraction of training over which the mutual weight ramps up to 1 (the paper: 0.4 of 15000 iterations)",
    )  # fmt: skip
    p.add_argument("--rerun", action="store_true", help="rerun arms whose cached result matches their settings")
    p.add_argument("--features", type=int, default=8)
    p.add_argument("--seed", type=int, default=1337)
    p.add_argument("--arms", default="sup,mutual,full")
    p.add_argument("--work_dir", default=str(REPO / "benchmarks" / "runs" / "la"))
    p.add_argument("--out", default=str(BUNDLE / "docs" / "benchmark_la.json"))
    p.add_argument("--docs", default=str(BUNDLE / "docs" / "README.md"))
    args = p.parse_args(argv)

    from noisymed.data import la_splits

    split = la_splits(args.dataset_dir, args.num_labeled, train_list=args.train_list, num_val=args.num_val)
    val_cases = [i["case"] for i in split["val"]]
    n_train = len(split["labeled"]) + len(split["unlabeled"])
    # the paper's ramp takes 40 steps of 150 iterations (full weight at 6000 of 15000)
    rampup_interval = max(1, round(args.rampup_fraction * args.iterations / 40))
    common = {
        "dataset_dir": str(Path(args.dataset_dir).resolve()),
        "train_list": args.train_list,
        "num_val": args.num_val,
        "pixdim": f"[{args.pixdim}, {args.pixdim}, {args.pixdim}]",
        "patch_size": args.patch_size,
        "features": args.features,
        "max_iterations": args.iterations,
        "val_interval": args.val_interval,
        "seed": args.seed,
        "num_workers": 0,
    }
    arms = {
        "sup": {"num_labeled": args.num_labeled, "max_unlabeled": 0, "mutual_loss": "$None"},
        "mutual": {"num_labeled": args.num_labeled, "rampup_interval": rampup_interval},
        "mutual_probs": {"num_labeled": args.num_labeled, "rampup_interval": rampup_interval, "ce_input": "probs"},
        "full": {"num_labeled": n_train, "labeled_batch_size": 4, "unlabeled_batch_size": 0, "mutual_loss": "$None"},
    }
    labels = {
        "sup": f"(a) supervised only, {args.num_labeled} labeled",
        "mutual": f"(b) mutual learning, {args.num_labeled} labeled + {n_train - args.num_labeled} unlabeled",
        "full": f"(c) fully supervised, {n_train} labeled",
        "mutual_probs": f"(b') mutual learning, CE on probabilities, {args.num_labeled} labeled + {n_train - args.num_labeled} unlabeled",
    }
    results: dict = {
        "protocol": {
            **common,
            "num_labeled": args.num_labeled,
            "rampup_interval": rampup_interval,
            "val_cases": val_cases,
            "train_cases": n_train,
        },
        "arms": {},
    }
    work = Path(args.work_dir)
    for arm in args.arms.split(","):
        run_dir = work / arm
        run_dir.mkdir(parents=True, exist_ok=True)
        overrides = {**common, **arms[arm], "bundle_root": str(run_dir)}
        cached = run_dir / "result.json"
        if not args.rerun and cached.is_file():
            previous = json.loads(cached.read_text(encoding="utf-8", errors="replace"))
            if previous["overrides"] == overrides:
                print(f"[{arm}] reusing {cached} (same settings; --rerun to train again)", flush=True)
                results["arms"][arm] = {**previous["result"], "val_dice_curve": _val_curve(run_dir / "train.log")}
                continue
        flags = [x for k, v in overrides.items() for x in (f"--{k}", str(v))]
        base = [sys.executable, "-m", "monai.bundle", "run", "--logging_file", "configs/logging.conf"]
        print(f"[{arm}] training {args.iterations} iterations ...", flush=True)
        wall, peak = run_logged(base + ["--config_file", "configs/train.json"] + flags + ["--overwrite", "true"], run_dir / "train.log", BUNDLE)
        log = (run_dir / "train.log").read_text(encoding="utf-8", errors="replace")
        train_s = sum(engine_epoch_seconds(log, "MutualLearningTrainer")) - sum(engine_epoch_seconds(log, "SupervisedEvaluator"))
        print(f"[{arm}] evaluating on {len(val_cases)} validation cases ...", flush=True)
        eval_flags = flags + ["--eval_list", json.dumps(val_cases)]
        run_logged(base + ["--config_file", "['configs/train.json','configs/evaluate.json']"] + eval_flags, run_dir / "eval.log", BUNDLE)
        summary = (run_dir / "eval" / "metrics.csv").read_text(encoding="utf-8", errors="replace").split()
        values = {k: float(v) for k, v in (row.split(",") for row in summary)}
        results["arms"][arm] = {
            "label": labels[arm],
            "metrics": {k: values[k] for k in METRICS if k in values},
            "seconds_per_iteration": train_s / args.iterations,
            "train_wall_seconds": wall,
            "peak_memory_gib": peak,
            "val_dice_curve": _val_curve(run_dir / "train.log"),
        }
        cached.write_text(json.dumps({"overrides": overrides, "result": results["arms"][arm]}, indent=2))
        print(f"[{arm}] {json.dumps(results['arms'][arm])}", flush=True)

    arms_done = results["arms"]
    if {"sup", "mutual", "full"} <= set(arms_done):
        a, b, c = (arms_done[k]["metrics"]["dice"] for k in ("sup", "mutual", "full"))
        results["mutual_minus_sup_dice"] = b - a
        results["gap_closed"] = (b - a) / (c - a) if c != a else None
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    _write_table(results, Path(args.docs), shlex.join(["python", "scripts/bench_la.py", *(argv or sys.argv[1:])]))
    print(json.dumps(results, indent=2))
    return 0


def _write_table(results: dict, docs: Path, command: str) -> None:
    rows = [
        "| run | Dice % | Jaccard % | 95HD (vox) | ASD (vox) | 95HD (mm) | ASD (mm) | s / iter | peak GiB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for arm in results["arms"].values():
        m = arm["metrics"]
        rows.append(
            f"| {arm['label']} | {100 * m['dice']:.2f} | {100 * m['jaccard']:.2f} | {m['hd95_voxel']:.2f} | "
            f"{m['asd_voxel']:.2f} | {m['hd95_mm']:.2f} | {m['asd_mm']:.2f} | {arm['seconds_per_iteration']:.2f} | "
            f"{arm['peak_memory_gib']:.2f} |"
        )
    rows += ["", f"Validation Dice after each {results['protocol']['val_interval']} iterations (the table reports the best):", ""]
    for arm in results["arms"].values():
        rows.append(f"- {arm['label']}: " + ", ".join(f"{v:.3f}" for v in arm.get("val_dice_curve", [])))
    if results.get("gap_closed") is not None:
        rows.append("")
        rows.append(
            f"Mutual learning minus supervised-only: {100 * results['mutual_minus_sup_dice']:+.2f} Dice points; "
            f"it closes {100 * results['gap_closed']:.0f} % of the gap to full supervision."
        )
    replace_block(docs, MARK_START, MARK_END, "\n".join([f"Reproduce: `{command}`", "", *rows]))

if __name__ == "__main__":
    sys.exit(main())
