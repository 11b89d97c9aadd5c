"""LA benchmark on the standard 80 training cases: supervised-only vs mutual learning vs full supervision, the
paper's free ablations, several seeds paired by seed.

    python scripts/bench_la.py --jobs 2 --docs bundles/la_mutual_learning/docs/README.md

Each run is the bundle's own ``train.json`` through ``python -m monai.bundle run`` (a subprocess with its own
thread limit), then ``evaluate.json`` on the validation cases with the checkpoint that was best on them
(CSVs in ``<run>/val_eval``, apart from a user's own ``eval/``). Arms (``N`` = labeled cases, from the head of
``train.list``):

* ``supN``: the N labeled cases, supervised only (2 labeled per batch);
* ``mutualN``: the same N labeled plus every other training case unlabeled (2 + 2 per batch);
* ``maskN`` / ``weightN`` / ``probsN``: ``mutualN`` with the entropy mask only, the reliability weight only, or
  the cross-entropy on probabilities (the paper's ablations; they cost a run each, nothing else);
* ``full``: every training case labeled, supervised only (4 labeled per batch).

The last ``num_val`` cases of ``train.list`` are the validation cases, fixed in advance; nothing else sees them
and they are never labeled training cases. Every (seed, arm) run is cached in ``<work_dir>/seed<s>/<arm>``: a
finished run is reused while its settings match, a killed one continues from its newest checkpoint, so a killed
benchmark continues where it stopped. ``<out>.json`` is rewritten after every run (``complete`` says whether every
run is in); the PNG of validation Dice against iteration sits beside it. The docs table is written only when
``--docs`` names the file.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench_common import (
    bundle_command,
    engine_epoch_seconds,
    environment,
    paired_difference,
    replace_block,
    run_logged,
    stats,
    thread_env,
)

REPO = Path(__file__).resolve().parents[1]
BUNDLE = REPO / "bundles" / "la_mutual_learning"
MARK_START, MARK_END = "<!-- bench_la:start -->", "<!-- bench_la:end -->"
METRICS = (
    "dice", "jaccard", "hd95_voxel", "asd_voxel", "hd95_mm", "asd_mm", "hd95_strict", "asd_strict", "empty_pred"
)  # fmt: skip
DIAGNOSTICS = ("diag_agree", "diag_fg_dice", "diag_mask_a", "diag_weight_mean", "diag_weight_p10")
#: the measure that involves no checkpoint choice: the mean validation Dice of the last LAST_K validations
LAST_K = 5
ARM_PATTERN = re.compile(r"^(?:(sup|mutual|mask|weight|probs)(\d+)|full)$")
DEFAULT_ARMS = "sup8,mutual8,full"  # 9 runs with 3 seeds: about 2 h 15 min on 2 free cores (--jobs 2), one session
ALL_ARMS = "sup8,mutual8,full,sup16,mutual16,mask8,weight8,probs8"  # --arms all: 24 runs, about 6 h
_print_lock = threading.Lock()


def _say(text: str) -> None:
    with _print_lock:
        print(text, flush=True)


def arm_settings(arm: str, n_train: int, rampup_interval: int) -> tuple[dict, str]:
    """The bundle overrides and the table label of an arm name (``sup8``, ``mutual16``, ``mask8``, ``full``...).

    Raises:
        ValueError: for a name that is no arm, or more labeled cases than training cases.
    """
    m = ARM_PATTERN.match(arm)
    if m is None:
        raise ValueError(f"unknown arm {arm!r}: use supN, mutualN, maskN, weightN, probsN (N labeled cases) or full.")
    if arm == "full":
        return (
            {"num_labeled": n_train, "labeled_batch_size": 4, "unlabeled_batch_size": 0, "mutual_loss": "$None"},
            f"fully supervised, {n_train} labeled",
        )
    kind, n = m.group(1), int(m.group(2))
    if not 0 < n < n_train:
        raise ValueError(f"arm {arm!r}: {n} labeled cases, but the training split has {n_train}.")
    if kind == "sup":
        return {"num_labeled": n, "max_unlabeled": 0, "mutual_loss": "$None"}, f"supervised only, {n} labeled"
    mutual = {"num_labeled": n, "rampup_interval": rampup_interval}
    unl = f"{n} labeled + {n_train - n} unlabeled"
    return {
        "mutual": (mutual, f"mutual learning, {unl}"),
        "mask": ({**mutual, "mutual_weight": "false"}, f"ablation: entropy mask only (no reliability weight), {unl}"),
        "weight": ({**mutual, "mutual_mask": "false"}, f"ablation: reliability weight only (no entropy mask), {unl}"),
        "probs": ({**mutual, "ce_input": "probs"}, f"ablation: cross-entropy on probabilities, {unl}"),
    }[kind]


def on_off(text: str) -> bool:
    """``true/false`` (also ``1/0``, ``yes/no``, ``on/off``, any case) of an on/off option such as ``--amp``."""
    value = str(text).strip().lower()
    if value in ("true", "1", "yes", "on"):
        return True
    if value in ("false", "0", "no", "off", ""):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def epoch_values(text: str, key: str) -> dict[int, float]:
    """``{epoch: value}`` of ``key`` in the StatsHandler's ``Epoch[k] Metrics -- key: value`` lines."""
    out = {}
    for epoch, rest in re.findall(r"Epoch\[(\d+)\] Metrics -- (.*)", text):
        m = re.search(rf"(?:^|\s){re.escape(key)}: (-?[\d.]+(?:e-?\d+)?|nan)", rest)
        if m:
            out[int(epoch)] = float(m.group(1))
    return out


def read_curves(run_dir: Path, val_interval: int) -> dict:
    """Validation Dice and the mutual-learning diagnostics per validation, from every training log of a run
    (a resumed run's later log wins for an epoch both logged)."""
    logs = sorted(run_dir.glob("train.*.log")) + [run_dir / "train.log"]
    text = "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in logs if p.is_file())
    dice = epoch_values(text, "val_mean_dice")
    diag = {k: epoch_values(text, k) for k in DIAGNOSTICS}
    return {
        "val_dice": [[e * val_interval, v] for e, v in sorted(dice.items())],
        "diagnostics": [
            {"iteration": e * val_interval, **{k: diag[k][e] for k in DIAGNOSTICS if e in diag[k]}}
            for e in sorted(set().union(*diag.values()))
        ],
    }


def _json(obj: object) -> str:
    return json.dumps(obj, indent=2, allow_nan=True) + "\n"


def _same_settings(a: dict, b: dict) -> bool:
    """Equal overrides apart from ``bundle_root`` (a moved work folder is still the same run)."""
    return {k: v for k, v in a.items() if k != "bundle_root"} == {k: v for k, v in b.items() if k != "bundle_root"}


def recorded_result(recorded: dict, arm: str, seed: int, overrides: dict, threads: int) -> dict | None:
    """The result of (arm, seed) that an earlier benchmark wrote into the ``--out`` JSON, if made the same way.

    The JSON is the benchmark's record (it is committed; run folders are not), so a benchmark continued on another
    machine or in a fresh clone reuses the runs it records. A result is reused only when it records the same
    overrides (apart from ``bundle_root``) and thread count; like the run-folder cache, the code version is not
    compared (each result keeps its ``commit``): pass ``--rerun`` after changing the training code.

    Args:
        recorded: the ``runs`` of the earlier JSON (``{arm: {"seed<s>": result}}``).
        arm: the arm.
        seed: the seed.
        overrides: this run's bundle overrides.
        threads: this run's torch threads.

    Returns:
        The recorded result, or None.
    """
    result = recorded.get(arm, {}).get(f"seed{seed}")
    if not isinstance(result, dict) or "overrides" not in result or result.get("threads") != threads:
        return None
    return result if _same_settings(result["overrides"], overrides) else None


def run_one(arm: str, seed: int, overrides: dict, label: str, run_dir: Path, val_cases: list[str], args) -> dict:
    """Train and evaluate one (seed, arm), or reuse its cached result; a killed run resumes its newest checkpoint.

    ``run_dir`` must be absolute (``main`` resolves ``--work_dir``): the bundle runs with its own folder as working
    directory, where a relative evaluation folder would land.

    Raises:
        ValueError: when the run folder holds a run with other settings and ``--rerun`` was not given.
        RuntimeError: when training or evaluation fails (with the end of its log).
    """
    from noisymed.utils import write_text_atomic

    cached, started = run_dir / "result.json", run_dir / "settings.json"
    previous = None
    for path in (cached, started):
        if path.is_file():
            previous = json.loads(path.read_text(encoding="utf-8"))
            previous = previous.get("overrides", previous)
            break
    if previous is not None and not _same_settings(previous, overrides):
        if not args.rerun:
            raise ValueError(
                f"{run_dir} holds a run with other settings ({started.name}); pass --rerun to train it again "
                "from scratch, or another --work_dir."
            )
        shutil.rmtree(run_dir)
    elif cached.is_file() and not args.rerun:
        _say(f"[seed {seed} {arm}] reusing {cached} (same settings; --rerun to train again)")
        return json.loads(cached.read_text(encoding="utf-8"))["result"]
    elif args.rerun and run_dir.exists():
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    write_text_atomic(started, _json(overrides))

    env = {
        **thread_env(args.threads),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    resume = any((run_dir / "models").glob("checkpoint_*.pt"))
    if resume and (run_dir / "train.log").is_file():  # keep the killed attempt's log: its epochs are in the curve
        (run_dir / "train.log").rename(run_dir / f"train.{len(list(run_dir.glob('train.*.log')))}.log")
    _say(f"[seed {seed} {arm}] {'resuming' if resume else 'training'} ({args.iterations} iterations) in {run_dir}")
    # no checkpoint yet: a fresh start, over whatever a killed attempt left before its first checkpoint (model.pt)
    train_cmd = bundle_command(
        ["configs/train.json"], {**overrides, **({"resume": "true"} if resume else {"overwrite": "true"})}
    )
    wall, peak = run_logged(train_cmd, run_dir / "train.log", BUNDLE, env)
    log = (run_dir / "train.log").read_text(encoding="utf-8", errors="replace")
    # ignite's trainer epoch time includes its EPOCH_COMPLETED handlers, the validation among them
    train_s = sum(engine_epoch_seconds(log, "MutualLearningTrainer")) - sum(
        engine_epoch_seconds(log, "SupervisedEvaluator")
    )
    iterations_here = len(engine_epoch_seconds(log, "MutualLearningTrainer")) * args.val_interval

    eval_dir = run_dir / "val_eval"  # absolute: main() resolves --work_dir
    if eval_dir.exists():  # a killed evaluation: keep it aside, never write into it
        eval_dir.rename(run_dir / f"val_eval.killed{len(list(run_dir.glob('val_eval.killed*')))}")
    eval_cmd = bundle_command(
        ["configs/train.json", "configs/evaluate.json"],
        {**overrides, "eval_list": json.dumps(val_cases), "eval_dir": str(eval_dir)},
    )
    run_logged(eval_cmd, run_dir / "eval.log", BUNDLE, env)
    from noisymed.export import read_metrics_csv

    values = read_metrics_csv(eval_dir / "metrics.csv")
    result = {
        "arm": arm,
        "seed": seed,
        "label": label,
        "metrics": {k: values[k] for k in METRICS if k in values},
        "empty_predictions": round(values.get("empty_pred", 0.0) * len(val_cases)),
        "seconds_per_iteration": train_s / iterations_here if iterations_here else None,
        "train_wall_seconds": wall,
        "peak_memory_gib": peak,
        "resumed": resume,
        **read_curves(run_dir, args.val_interval),
        "overrides": {k: v for k, v in overrides.items() if k != "bundle_root"},
        "threads": args.threads,
        # per run: a benchmark resumed in other sessions may have run on other machines
        **{
            k: v
            for k, v in environment(args.threads, 1).items()
            if k in ("commit", "uncommitted_changes", "cpu", "torch", "monai")
        },
    }
    write_text_atomic(cached, _json({"overrides": overrides, "result": result}))
    _say(f"[seed {seed} {arm}] Dice {result['metrics'].get('dice', float('nan')):.4f}")
    return result


def last_k_dice(result: dict, k: int = LAST_K) -> float | None:
    """The mean validation Dice of a run's last ``k`` validations (None without a curve).

    The reported Dice is the best of all validations on the same cases, which flatters a noisy curve; this mean
    involves no choice.
    """
    curve = result.get("val_dice") or []
    tail = [v for _, v in curve[-k:]]
    return sum(tail) / len(tail) if tail else None


def summarize(runs: dict, arms: list[str], seeds: list[int]) -> dict:
    """Per-arm mean ± sd over seeds, paired differences by seed and the fraction of the gap closed.

    Args:
        runs: ``{arm: {"seed<s>": result}}``.
        arms: the arms asked for.
        seeds: the seeds asked for.

    Returns:
        ``arms`` (per arm: label, ``metrics`` stats, empty predictions, seconds per iteration), ``comparisons``
        (``"mutual8 - sup8"`` etc.: paired Dice differences with their 95 % t interval), ``gap_closed`` (per N,
        ``(mean mutual − mean sup) / (mean full − mean sup)`` over the seeds that have all three, None where full
        supervision does not beat supervised-only), ``comparisons_last_k`` (the same differences of
        :func:`last_k_dice`, which involves no checkpoint choice) and ``complete``.
    """
    out: dict = {"arms": {}, "comparisons": {}, "comparisons_last_k": {}, "gap_closed": {}, "last_k": LAST_K}
    dice = {arm: {s: r["metrics"]["dice"] for s, r in runs.get(arm, {}).items()} for arm in arms}
    last = {arm: {s: v for s, r in runs.get(arm, {}).items() if (v := last_k_dice(r)) is not None} for arm in arms}
    for arm in arms:
        done = runs.get(arm, {})
        if not done:
            continue
        first = next(iter(done.values()))
        out["arms"][arm] = {
            "label": first["label"],
            "seeds": sorted(done),
            "metrics": {
                k: stats([r["metrics"][k] for r in done.values()])
                for k in METRICS
                if all(k in r["metrics"] for r in done.values())
            },
            "dice_last_k": stats(list(last[arm].values())) if len(last[arm]) == len(done) else None,
            "empty_predictions": sum(r.get("empty_predictions", 0) for r in done.values()),
            "seconds_per_iteration": (
                stats([r["seconds_per_iteration"] for r in done.values() if r["seconds_per_iteration"]])
                if any(r["seconds_per_iteration"] for r in done.values())
                else None
            ),
        }
    for arm in arms:
        m = ARM_PATTERN.match(arm)
        if m is None or m.group(1) in (None, "sup"):
            continue
        n = m.group(2)
        pairs = [f"sup{n}"] + ([f"mutual{n}"] if m.group(1) != "mutual" else [])
        for base in pairs:
            diff = paired_difference(dice.get(arm, {}), dice.get(base, {}))
            if diff is not None:
                out["comparisons"][f"{arm} - {base}"] = diff
            diff = paired_difference(last.get(arm, {}), last.get(base, {}))
            if diff is not None:
                out["comparisons_last_k"][f"{arm} - {base}"] = diff
        if m.group(1) == "mutual":
            common = [s for s in dice[arm] if s in dice.get(f"sup{n}", {}) and s in dice.get("full", {})]
            if common:
                a, b, c = (sum(dice[k][s] for s in common) / len(common) for k in (f"sup{n}", arm, "full"))
                per_seed = [
                    (
                        (dice[arm][s] - dice[f"sup{n}"][s]) / (dice["full"][s] - dice[f"sup{n}"][s])
                        if dice["full"][s] > dice[f"sup{n}"][s]
                        else None
                    )
                    for s in common
                ]
                out["gap_closed"][arm] = {
                    "fraction": (b - a) / (c - a) if c > a else None,
                    "per_seed": per_seed,
                    "runs": common,
                }
    out["complete"] = all(f"seed{s}" in runs.get(arm, {}) for arm in arms for s in seeds)
    return out


def plot_curves(runs: dict, arms: list[str], path: Path) -> None:
    """PNG of validation Dice against iteration: per arm the mean over seeds (thick) and each seed (thin)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from noisymed.utils import atomic_path

    fig, ax = plt.subplots(figsize=(8, 5))
    for i, arm in enumerate(a for a in arms if runs.get(a)):
        color = f"C{i % 10}"
        by_iter: dict[int, list[float]] = {}
        for result in runs[arm].values():
            curve = result.get("val_dice", [])
            if curve:
                ax.plot([c[0] for c in curve], [c[1] for c in curve], color=color, alpha=0.25, linewidth=0.8)
            for it, v in curve:
                by_iter.setdefault(it, []).append(v)
        its = sorted(by_iter)
        ax.plot(
            its,
            [sum(by_iter[t]) / len(by_iter[t]) for t in its],
            color=color,
            linewidth=2,
            label=f"{arm} (n={len(runs[arm])})",
        )
    ax.set_xlabel("iteration")
    ax.set_ylabel("validation Dice")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)


def _fmt(stat: dict | None, scale: float = 1.0, digits: int = 2) -> str:
    if not stat:
        return "–"
    sd = f" ± {scale * stat['sd']:.{digits}f}" if stat.get("sd") is not None else ""
    return f"{scale * stat['mean']:.{digits}f}{sd}"


def _seeds(n: int) -> str:
    return f"{n} seed" if n == 1 else f"{n} seeds"


def table(results: dict, command: str) -> str:
    """The docs block: the command, the per-arm table, the paired comparisons and the gap closed."""
    proto, env, summary = results["protocol"], results["environment"], results["summary"]
    lines = [
        f"Reproduce: `{command}` ({env['threads']} thread per run, {env['jobs']} at once; torch {env['torch']}, "
        f"MONAI {env['monai']}, commit {env['commit'][:10]}{', uncommitted changes' if env['uncommitted_changes'] else ''}).",
        "" if summary["complete"] else "**Partial: not every (seed, arm) run has finished.**",
        "",
        f"| arm | seeds | Dice % | Dice %, mean of last {summary.get('last_k', LAST_K)} validations | Jaccard % | 95HD (vox) "
        "| ASD (vox) | 95HD strict | ASD strict | empty preds | s / iter |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for arm, row in summary["arms"].items():
        m = row["metrics"]
        lines.append(
            f"| {arm}: {row['label']} | {len(row['seeds'])} | {_fmt(m.get('dice'), 100)} | "
            f"{_fmt(row.get('dice_last_k'), 100)} | {_fmt(m.get('jaccard'), 100)} | "
            f"{_fmt(m.get('hd95_voxel'))} | {_fmt(m.get('asd_voxel'))} | {_fmt(m.get('hd95_strict'))} | "
            f"{_fmt(m.get('asd_strict'))} | {row['empty_predictions']} | {_fmt(row['seconds_per_iteration'])} |"
        )
    lines += [
        "",
        f"Mean ± sd over seeds on the {len(proto['val_cases'])} validation cases; Dice % is the chosen (best "
        "validation) checkpoint's, the next column involves no choice. Paired by seed (Dice points), chosen "
        "checkpoint; in brackets the same for the mean of the last validations:",
        "",
    ]

    def interval(d: dict) -> str:
        if not d["ci95"]:
            return "one seed, no interval"
        return f"95 % t interval {100 * d['ci95'][0]:+.2f} to {100 * d['ci95'][1]:+.2f}"

    for name, d in summary["comparisons"].items():
        line = f"- {name}: {100 * d['mean']:+.2f} ({interval(d)}; n = {d['n']})"
        no_choice = summary.get("comparisons_last_k", {}).get(name)
        if no_choice is not None:
            line += f" [{100 * no_choice['mean']:+.2f}, {interval(no_choice)}]"
        lines.append(line)
    for arm, g in summary["gap_closed"].items():
        frac = (
            "undefined (full supervision does not beat supervised-only)"
            if g["fraction"] is None
            else f"{100 * g['fraction']:.0f} %"
        )
        lines.append(
            f"- {arm} closes {frac} of the gap from supervised-only to full supervision ({_seeds(len(g['runs']))})."
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset_dir", default=str(REPO.parent / "shared" / "data" / "la_h5"))
    p.add_argument("--train_list", default="train.list")
    p.add_argument("--num_val", type=int, default=12, help="the last cases of train_list, held out for validation")
    p.add_argument(
        "--arms", default=DEFAULT_ARMS,
        help=f"comma list of supN, mutualN, maskN, weightN, probsN, full; 'all' = {ALL_ARMS}",
    )  # fmt: skip
    p.add_argument("--seeds", default="1337,1338,1339")
    p.add_argument("--iterations", type=int, default=3000)
    p.add_argument("--val_interval", type=int, default=150)
    p.add_argument("--pixdim", type=float, default=2.5, help="isotropic resampling (mm); the data are 0.625 mm")
    p.add_argument("--patch_size", default="[32, 32, 16]")
    p.add_argument("--features", type=int, default=8)
    p.add_argument(
        "--rampup_fraction", type=float, default=0.4,
        help="fraction of training over which λ ramps up to 1 in 40 steps (the paper: 6000 of 15000 = 0.4)",
    )  # fmt: skip
    p.add_argument(
        "--sw_stride", default=None, help="evaluation window strides, e.g. '[18, 18, 4]' (default: overlap 0.5)"
    )
    p.add_argument("--sw_average", default="logits", choices=("logits", "probs"))
    p.add_argument(
        "--amp", default=False, type=on_off,
        help="mixed precision in training and evaluation (the bundle's amp: float16 autocast + GradScaler on CUDA, "
        "bfloat16 on the CPU); passed as an override only when true",
    )  # fmt: skip
    p.add_argument(
        "--channels_last", default=False, type=on_off,
        help="network and inputs in channels-last memory format (the bundle's channels_last); passed only when true",
    )  # fmt: skip
    p.add_argument("--threads", type=int, default=1, help="OpenMP/MKL threads per run (the numbers depend on it)")
    p.add_argument("--jobs", type=int, default=1, help="runs at once (each with --threads threads)")
    p.add_argument("--rerun", action="store_true", help="train again runs whose folder already holds a result")
    p.add_argument("--work_dir", default=str(REPO / "benchmarks" / "runs" / "la"))
    p.add_argument("--out", default=str(REPO / "benchmarks" / "bench_la.json"))
    p.add_argument("--plot", default=None, help="PNG of validation Dice per iteration (default: beside --out)")
    p.add_argument("--docs", default=None, help="markdown file whose bench_la block gets the table (none by default)")
    args = p.parse_args(argv)
    # the bundle runs with its own folder as working directory: a relative --work_dir would put the
    # evaluation's CSVs under bundles/la_mutual_learning/ (found with --work_dir benchmarks/runs/la_6000)
    args.work_dir = str(Path(args.work_dir).resolve())
    if args.threads < 1 or args.jobs < 1 or args.iterations < 1 or args.val_interval < 1:
        p.error("--threads, --jobs, --iterations and --val_interval must be >= 1")

    from noisymed.data import la_splits
    from noisymed.utils import write_text_atomic

    arms = [a for a in (ALL_ARMS if args.arms == "all" else args.arms).split(",") if a]
    seeds = [int(s) for s in args.seeds.split(",") if s]
    split = la_splits(
        args.dataset_dir, 1, train_list=args.train_list, num_val=args.num_val
    )  # sizes only: arms set their own
    val_cases = [i["case"] for i in split["val"]]
    n_train = len(split["labeled"]) + len(split["unlabeled"])
    rampup_interval = max(1, round(args.rampup_fraction * args.iterations / 40))
    settings = {arm: arm_settings(arm, n_train, rampup_interval) for arm in arms}  # every arm checked first
    common = {
        "dataset_dir": str(Path(args.dataset_dir).resolve()),
        "train_list": args.train_list,
        "num_val": args.num_val,
        "pixdim": f"[{args.pixdim}, {args.pixdim}, {args.pixdim}]",
        "patch_size": args.patch_size,
        "features": args.features,
        "max_iterations": args.iterations,
        "val_interval": args.val_interval,
        "sw_average": args.sw_average,
        "num_workers": 0,
        **({"sw_stride": args.sw_stride} if args.sw_stride else {}),
        # only when on: runs recorded before these options existed (both off) keep matching their settings
        **({"amp": "true"} if args.amp else {}),
        **({"channels_last": "true"} if args.channels_last else {}),
    }
    out, plot = Path(args.out), Path(args.plot) if args.plot else Path(args.out).with_suffix(".png")
    recorded = {} if args.rerun or not out.is_file() else json.loads(out.read_text(encoding="utf-8")).get("runs", {})
    command = shlex.join(["python", "scripts/bench_la.py", *(argv if argv is not None else sys.argv[1:])])
    results: dict = {
        "command": command,
        "protocol": {
            **common,
            "arms": arms,
            "seeds": seeds,
            "rampup_fraction": args.rampup_fraction,
            "rampup_interval": rampup_interval,
            "amp": args.amp,
            "channels_last": args.channels_last,
            "val_cases": val_cases,
            "train_cases": n_train,
            "model_choice": "best validation Dice (every val_interval iterations) on the validation cases",
        },
        "environment": environment(args.threads, args.jobs),
        "runs": {},
        "failed": {},
    }
    lock = threading.Lock()

    def save() -> None:
        results["summary"] = summarize(results["runs"], arms, seeds)
        out.parent.mkdir(parents=True, exist_ok=True)
        if results["runs"]:  # the plot follows every finished run, so a partial benchmark has one too
            plot_curves(results["runs"], arms, plot)
            results["plot"] = str(plot)
        write_text_atomic(out, _json(results))

    jobs = [(s, a) for s in seeds for a in arms]  # seed by seed: finished seeds give complete pairs early

    # every result the JSON already records (same settings) is in the new JSON from the start: a benchmark killed
    # before it reaches a recorded run no longer drops that run from its record
    def run_overrides(seed: int, arm: str) -> dict:
        return {**common, **settings[arm][0], "seed": seed}

    reused = {}
    for seed, arm in jobs:
        earlier = recorded_result(recorded, arm, seed, run_overrides(seed, arm), args.threads)
        if earlier is not None:
            reused[(seed, arm)] = earlier
            results["runs"].setdefault(arm, {})[f"seed{seed}"] = earlier
    if reused:
        save()

    def task(seed: int, arm: str) -> None:
        run_dir = Path(args.work_dir) / f"seed{seed}" / arm
        if (seed, arm) in reused:
            commit = reused[(seed, arm)].get("commit")
            _say(f"[seed {seed} {arm}] reusing the result recorded in {out} (same settings, commit {commit})")
            return
        overrides = {**run_overrides(seed, arm), "bundle_root": str(run_dir)}
        try:
            result = run_one(arm, seed, overrides, settings[arm][1], run_dir, val_cases, args)
        except Exception as e:  # noqa: BLE001 - a failed run is recorded; the others go on
            _say(f"[seed {seed} {arm}] FAILED: {e}")
            with lock:
                results["failed"][f"seed{seed}/{arm}"] = str(e)[-2000:]
                save()
            return
        with lock:
            results["runs"].setdefault(arm, {})[f"seed{seed}"] = result
            save()

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        list(pool.map(lambda job: task(*job), jobs))
    save()
    if args.docs:
        replace_block(Path(args.docs), MARK_START, MARK_END, table(results, command))
    _say(json.dumps(results["summary"], indent=2, default=str))
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
