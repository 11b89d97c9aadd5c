"""BraTS benchmark at CPU scale: supervised-only vs mutual learning vs fully supervised, over several seeds.

    python scripts/bench_brats.py --dataset_dir ../shared/data/brats2018_wt --seeds 0,1,2 --jobs 2

Each seed draws its own split of the cases (a seeded shuffle): ``num_labeled`` labeled, ``num_unlabeled``
unlabeled, ``num_val`` validation cases; the three arms of a seed share that split, so they are paired:

(a) ``sup``: the labeled cases only, supervised (2 labeled per batch);
(b) ``mutual``: the same labeled cases plus the unlabeled ones (2 + 2 per batch), mutual learning;
(c) ``full``: labeled and unlabeled cases all labeled, supervised (4 labeled per batch).

Each run is the bundle's own ``train.json`` through ``python -m monai.bundle run`` (a subprocess with
``--threads`` OpenMP threads), then ``evaluate.json`` on the validation cases with the checkpoint that was best
on them. A finished run is reused when its settings match (``--rerun`` trains again), so an interrupted
benchmark resumes per arm and seed. Writes ``<out>.json``, a plot of validation Dice against iteration
(``--plot``, PNG) and the table between the markers in the bundle's docs/README.md.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shlex
import shutil
import statistics
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench_common import engine_epoch_seconds, replace_block, run_logged, thread_env

REPO = Path(__file__).resolve().parents[1]
BUNDLE = REPO / "bundles" / "brats_mri_mutual_learning"
MARK_START, MARK_END = "<!-- bench_brats:start -->", "<!-- bench_brats:end -->"
METRICS = ("dice", "jaccard", "hd95_voxel", "asd_voxel", "hd95_mm", "asd_mm")
ARMS = ("sup", "mutual", "full")


def val_curve(log: Path) -> list[float]:
    """Validation Dice after each epoch, as the StatsHandler logged it."""
    if not log.is_file():
        return []
    return [
        float(v)
        for v in re.findall(r"Metrics -- val_mean_dice: ([\d.]+)", log.read_text(encoding="utf-8", errors="replace"))
    ]


def seed_split(cases: list[str], seed: int, num_labeled: int, num_unlabeled: int, num_val: int) -> dict[str, list[str]]:
    """The cases of one seed: a shuffle of the sorted ``cases`` by ``random.Random(seed)``, cut in three.

    Raises:
        ValueError: when there are fewer cases than the three parts need.
    """
    need = num_labeled + num_unlabeled + num_val
    if len(cases) < need:
        raise ValueError(
            f"{need} cases needed ({num_labeled} labeled + {num_unlabeled} unlabeled + {num_val} val), found {len(cases)}."
        )
    order = sorted(cases)
    random.Random(seed).shuffle(order)
    return {
        "labeled": order[:num_labeled],
        "unlabeled": order[num_labeled : num_labeled + num_unlabeled],
        "val": order[num_labeled + num_unlabeled : need],
    }


def mean_sd(values: list[float]) -> dict:
    """``{"mean", "sd", "n", "values"}`` (sample sd; None for fewer than two values)."""
    return {
        "mean": statistics.fmean(values),
        "sd": statistics.stdev(values) if len(values) > 1 else None,
        "n": len(values),
        "values": values,
    }


def _run(arm: str, seed: int, overrides: dict, run_dir: Path, eval_cases: list[str], threads: int, rerun: bool) -> dict:
    """Train and evaluate one arm at one seed (or reuse its cached result); return its result."""
    cached = run_dir / "result.json"
    if not rerun and cached.is_file():
        previous = json.loads(cached.read_text(encoding="utf-8"))
        if previous["overrides"] == overrides:
            print(f"[{arm} seed {seed}] reusing {cached} (same settings; --rerun to train again)", flush=True)
            return previous["result"]
    from noisymed.utils import write_text_atomic

    run_dir.mkdir(parents=True, exist_ok=True)
    for stale in ("models", "eval", "runs"):  # a rerun starts from nothing, never from an earlier run's checkpoints
        shutil.rmtree(run_dir / stale, ignore_errors=True)
    flags = [x for k, v in overrides.items() for x in (f"--{k}", str(v))]
    base = [sys.executable, "-m", "monai.bundle", "run", "--logging_file", "configs/logging.conf"]
    env = thread_env(threads)
    print(f"[{arm} seed {seed}] training {overrides['max_iterations']} iterations ...", flush=True)
    wall, peak = run_logged(base + ["--config_file", "configs/train.json"] + flags, run_dir / "train.log", BUNDLE, env)
    log = (run_dir / "train.log").read_text(encoding="utf-8", errors="replace")
    train_s = sum(engine_epoch_seconds(log, "MutualLearningTrainer")) - sum(
        engine_epoch_seconds(log, "SupervisedEvaluator")
    )
    eval_flags = flags + ["--eval_list", json.dumps(eval_cases)]
    run_logged(
        base + ["--config_file", "['configs/train.json','configs/evaluate.json']"] + eval_flags,
        run_dir / "eval.log",
        BUNDLE,
        env,
    )
    rows = (run_dir / "eval" / "metrics.csv").read_text(encoding="utf-8").split()
    values = {k: float(v) for k, v in (row.split(",") for row in rows)}
    result = {
        "metrics": {k: values[k] for k in METRICS if k in values},
        "seconds_per_iteration": train_s / overrides["max_iterations"],
        "train_wall_seconds": wall,
        "peak_memory_gib": peak,
        "val_dice_curve": val_curve(run_dir / "train.log"),
    }
    write_text_atomic(cached, json.dumps({"overrides": overrides, "result": result}, indent=2) + "\n")
    print(f"[{arm} seed {seed}] {json.dumps(result['metrics'])}", flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset_dir", default=str(REPO.parent / "shared" / "data" / "brats2018_wt"))
    p.add_argument("--modalities", default="flair", help="comma-separated, e.g. flair,t1")
    p.add_argument("--num_labeled", type=int, default=2)
    p.add_argument("--num_unlabeled", type=int, default=3)
    p.add_argument("--num_val", type=int, default=2)
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--iterations", type=int, default=200)
    p.add_argument("--val_interval", type=int, default=40)
    p.add_argument(
        "--pixdim", type=float, default=3.0, help="isotropic resampling (mm); 3.0 = a third of the BraTS resolution"
    )
    p.add_argument("--patch_size", default="[32, 32, 32]")
    p.add_argument("--features", type=int, default=8)
    p.add_argument("--sw_overlap", type=float, default=0.25)
    p.add_argument(
        "--rampup_fraction", type=float, default=1.0,
        help="fraction of training over which the mutual weight ramps up to 1 (the paper: 0.4 of 15000 iterations)",
    )  # fmt: skip
    p.add_argument("--arms", default=",".join(ARMS))
    p.add_argument("--threads", type=int, default=1, help="OpenMP/MKL threads per run")
    p.add_argument("--jobs", type=int, default=1, help="runs at once")
    p.add_argument("--rerun", action="store_true", help="rerun arms whose cached result matches their settings")
    p.add_argument("--work_dir", default=str(REPO / "benchmarks" / "runs" / "brats"))
    p.add_argument("--out", default=str(BUNDLE / "docs" / "benchmark_brats.json"))
    p.add_argument("--docs", default=str(BUNDLE / "docs" / "README.md"))
    p.add_argument("--plot", default=str(BUNDLE / "docs" / "benchmark_brats.png"))
    args = p.parse_args(argv)

    from noisymed.data import brats_case_ids, brats_modalities
    from noisymed.utils import write_text_atomic

    arms = args.arms.split(",")
    unknown = [a for a in arms if a not in ARMS]
    if unknown:
        p.error(f"unknown arms {unknown}: choose from {list(ARMS)}")
    seeds = [int(s) for s in args.seeds.split(",")]
    modalities = list(brats_modalities(args.modalities.split(",")))
    cases = brats_case_ids(args.dataset_dir, None)
    n_train = args.num_labeled + args.num_unlabeled
    # the paper's ramp takes 40 steps of 150 iterations (full weight at 6000 of 15000)
    rampup_interval = max(1, round(args.rampup_fraction * args.iterations / 40))
    common = {
        "dataset_dir": str(Path(args.dataset_dir).resolve()),
        "modalities": json.dumps(modalities),
        "pixdim": f"[{args.pixdim}, {args.pixdim}, {args.pixdim}]",
        "patch_size": args.patch_size,
        "features": args.features,
        "sw_overlap": args.sw_overlap,
        "max_iterations": args.iterations,
        "val_interval": args.val_interval,
        "num_workers": 0,
    }
    arm_overrides = {
        "sup": {"num_labeled": args.num_labeled, "max_unlabeled": 0, "mutual_loss": "$None"},
        "mutual": {"num_labeled": args.num_labeled, "rampup_interval": rampup_interval},
        "full": {"num_labeled": n_train, "labeled_batch_size": 4, "unlabeled_batch_size": 0, "mutual_loss": "$None"},
    }
    labels = {
        "sup": f"(a) supervised only, {args.num_labeled} labeled",
        "mutual": f"(b) mutual learning, {args.num_labeled} labeled + {args.num_unlabeled} unlabeled",
        "full": f"(c) fully supervised, {n_train} labeled",
    }
    splits = {seed: seed_split(cases, seed, args.num_labeled, args.num_unlabeled, args.num_val) for seed in seeds}
    units = []
    for seed in seeds:
        split = splits[seed]
        for arm in arms:
            overrides = {
                **common,
                **arm_overrides[arm],
                "seed": seed,
                "train_list": json.dumps(split["labeled"] + split["unlabeled"]),
                "val_list": json.dumps(split["val"]),
                "bundle_root": str(Path(args.work_dir) / f"seed{seed}" / arm),
            }
            units.append((arm, seed, overrides))
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = {
            (arm, seed): pool.submit(
                _run, arm, seed, ov, Path(ov["bundle_root"]), splits[seed]["val"], args.threads, args.rerun
            )
            for arm, seed, ov in units
        }
        runs = {key: f.result() for key, f in futures.items()}

    results: dict = {
        "protocol": {
            **common,
            "modalities": modalities,
            "num_labeled": args.num_labeled,
            "num_unlabeled": args.num_unlabeled,
            "num_val": args.num_val,
            "rampup_interval": rampup_interval,
            "seeds": seeds,
            "splits": {str(s): v for s, v in splits.items()},
            "threads_per_run": args.threads,
        },
        "arms": {},
    }
    for arm in arms:
        per_seed = {str(seed): runs[(arm, seed)] for seed in seeds}
        results["arms"][arm] = {
            "label": labels[arm],
            "metrics": {m: mean_sd([r["metrics"][m] for r in per_seed.values()]) for m in METRICS},
            "seconds_per_iteration": statistics.fmean(r["seconds_per_iteration"] for r in per_seed.values()),
            "peak_memory_gib": max(r["peak_memory_gib"] for r in per_seed.values()),
            "per_seed": per_seed,
        }
    if {"sup", "mutual"} <= set(arms):
        diffs = [runs[("mutual", s)]["metrics"]["dice"] - runs[("sup", s)]["metrics"]["dice"] for s in seeds]
        results["mutual_minus_sup_dice"] = mean_sd(diffs)
    if {"sup", "full"} <= set(arms):
        diffs = [runs[("full", s)]["metrics"]["dice"] - runs[("sup", s)]["metrics"]["dice"] for s in seeds]
        results["full_minus_sup_dice"] = mean_sd(diffs)
    if set(ARMS) <= set(arms):
        a, b, c = (results["arms"][k]["metrics"]["dice"]["mean"] for k in ARMS)
        # a fraction of the gap means something only when there is a gap and mutual learning is inside it
        results["gap_closed"] = (b - a) / (c - a) if c > a and b >= a else None
    write_text_atomic(args.out, json.dumps(results, indent=2) + "\n")
    command = shlex.join(["python", "scripts/bench_brats.py", *(sys.argv[1:] if argv is None else argv)])
    plot_curves(results, Path(args.plot))
    write_table(results, Path(args.docs), command, Path(args.plot))
    print(json.dumps({k: v for k, v in results.items() if k != "arms"}, indent=2))
    return 0


def plot_curves(results: dict, path: Path) -> None:
    """Validation Dice against iteration: each arm's mean over seeds (thick) and each seed (thin), as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from noisymed.utils import atomic_path

    interval = results["protocol"]["val_interval"]
    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    for i, arm in enumerate(results["arms"].values()):
        colour = f"C{i}"
        curves = [r["val_dice_curve"] for r in arm["per_seed"].values() if r["val_dice_curve"]]
        for curve in curves:
            ax.plot([interval * (k + 1) for k in range(len(curve))], curve, color=colour, alpha=0.3, linewidth=0.8)
        n = min((len(c) for c in curves), default=0)
        if n:
            mean = [statistics.fmean(c[k] for c in curves) for k in range(n)]
            ax.plot([interval * (k + 1) for k in range(n)], mean, color=colour, linewidth=2, label=arm["label"])
    ax.set_xlabel("iteration")
    ax.set_ylabel("validation Dice (whole tumour)")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title(f"BraTS, {len(results['protocol']['seeds'])} seeds (thin: each seed; thick: mean)", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)


def _cell(stat: dict, scale: float = 1.0) -> str:
    sd = "–" if stat["sd"] is None else f"{scale * stat['sd']:.2f}"
    return f"{scale * stat['mean']:.2f} ± {sd}"


def write_table(results: dict, docs: Path, command: str, plot: Path) -> None:
    """Put the mean ± sd table, the per-seed Dice and the plot link between the markers of ``docs``."""
    proto = results["protocol"]
    rows = [
        "| run | Dice % | Jaccard % | 95HD (vox) | ASD (vox) | 95HD (mm) | ASD (mm) | s / iter | peak GiB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for arm in results["arms"].values():
        m = arm["metrics"]
        rows.append(
            f"| {arm['label']} | {_cell(m['dice'], 100)} | {_cell(m['jaccard'], 100)} | {_cell(m['hd95_voxel'])} | "
            f"{_cell(m['asd_voxel'])} | {_cell(m['hd95_mm'])} | {_cell(m['asd_mm'])} | {arm['seconds_per_iteration']:.2f} | "
            f"{arm['peak_memory_gib']:.2f} |"
        )
    rows += ["", f"Mean ± sd over seeds {proto['seeds']}; voxels are {proto['pixdim']} mm. Dice % per seed:", ""]
    for arm in results["arms"].values():
        rows.append(f"- {arm['label']}: " + ", ".join(f"{100 * v:.2f}" for v in arm["metrics"]["dice"]["values"]))
    for key, name in (("mutual_minus_sup_dice", "Mutual learning"), ("full_minus_sup_dice", "Full supervision")):
        diff = results.get(key)
        if diff is not None:
            per_seed = ", ".join(f"{100 * v:+.2f}" for v in diff["values"])
            rows += ["", f"{name} minus supervised-only, paired by seed: {_cell(diff, 100)} Dice points ({per_seed})."]
    if results.get("gap_closed") is not None:
        rows += ["", f"Mutual learning closes {100 * results['gap_closed']:.0f} % of the gap to full supervision."]
    rows += ["", f"![validation Dice against iteration]({plot.name})"]
    replace_block(docs, MARK_START, MARK_END, "\n".join([f"Reproduce: `{command}`", "", *rows]))


if __name__ == "__main__":
    sys.exit(main())
