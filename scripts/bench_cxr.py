"""Single-positive CXR benchmark at CPU scale: full labels, SPML baselines and MPC with its ablations.

    python scripts/bench_cxr.py                     # the documented run (~30 min on 2 cores)
    python scripts/bench_cxr.py --epochs 1 --max_iterations 2 --arms an,mpc --work_dir /tmp/x \\
        --out /tmp/x/b.json --docs /tmp/x/b.md     # a smoke run (~1-2 min)

On the NIH ChestX-ray14 subset (``../shared/data/nih_cxr14_1000``, 800 images at 64 px), a seeded
patient-grouped 5-fold cross-validation (``--folds``; ``--folds 0``: the bundle's single hold-out split)
gives the validation images, whose full labels score every arm: each fold trains on 640 images of four
folds and is scored on the 160 images of the fifth, so the five folds together score every image once.
One single-positive simulation of each fold's training images (seeded per image, so an image has the same
observed label in every fold; "No Finding" as an extra observed class for images without findings) is
written once and reused by every arm, so all methods see the same labels.
Each arm runs the bundle's own ``train.json`` through ``python -m monai.bundle run`` in a subprocess with
the same epochs, batch size, learning rate schedule and seed, then ``evaluate.json`` on the last epoch's
checkpoint (per-class AP, excluded classes). The reported numbers are those of the **last epoch**: no
checkpoint is selected on the validation images; the per-epoch validation curves are kept in the JSON.
The arms in ``--main_arms`` (full, AN, MPC) run at every fold and every seed of ``--seeds`` (each seed:
another single-positive draw and another initialisation), the others at the first fold and seed only, to fit
~30 minutes. Differences between arms are paired: the same fold, seed and labels.

Writes ``<out>.json`` and replaces the table between the markers in the bundle's docs/README.md. Each
run's result is cached in ``<work_dir>/seed<seed>[/fold<fold>]/<arm>/result.json`` and reused when its
settings are unchanged.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shlex
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from bench_common import (
    engine_epoch_seconds,
    figure_path,
    paired_t,
    replace_block,
    run_logged,
    stats,
    t_interval,
    thread_env,
)

from noisymed.data import nih_subset_datalist
from noisymed.metrics import multilabel_scores

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


# relative training cost of an arm (strong view and three heads), to start the longest runs first
_COST = {"mpc": 2.5, "mpc_no_elastic": 2.0, "mpc_no_fpc": 2.0, "mpc_no_btc": 2.0}


def _read_predictions(path: Path) -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
    """ids, class names, ``(N, C)`` scores and targets of an evaluation's ``predictions.csv``."""
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    classes = [h.split(":", 1)[1] for h in header[1:] if h.startswith("score:")]
    c = len(classes)
    values = np.asarray([r[1:] for r in body], dtype=np.float64).reshape(len(body), 2 * c)
    return [r[0] for r in body], classes, values[:, :c], values[:, c:]


def pool_folds(paths: list[Path]) -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
    """Concatenate the out-of-fold predictions of one arm's folds (each image appears once).

    Raises:
        ValueError: when the folds score other classes or an image appears twice.
    """
    parts = [_read_predictions(p) for p in paths]
    classes = parts[0][1]
    if any(part[1] != classes for part in parts):
        raise ValueError(f"the folds in {paths} score different classes.")
    ids = [i for part in parts for i in part[0]]
    if len(set(ids)) != len(ids):
        raise ValueError("an image is in the validation side of two folds: not a cross-validation.")
    return ids, classes, np.concatenate([part[2] for part in parts]), np.concatenate([part[3] for part in parts])


def paired_bootstrap(
    groups: list[str], scores_a: np.ndarray, scores_b: np.ndarray, targets: np.ndarray, num: int = 1000, seed: int = 0
) -> dict:
    """Bootstrap over groups (patients) of the difference b − a in mAP and macro AUROC on the same images.

    Each resample draws the groups with replacement (all images of a drawn patient, as often as drawn), so the
    interval respects that a patient's images are not independent. Classes without a positive in a resample
    are excluded from both arms alike.

    Returns:
        ``{"map": {...}, "auroc": {...}}``, each with ``diff`` (on all images), ``ci95`` (2.5 and 97.5
        percentiles), ``share_positive`` (resamples where b beats a) and ``num``.
    """
    names = sorted(set(groups))
    rows = {g: [] for g in names}
    for i, g in enumerate(groups):
        rows[g].append(i)
    rng = np.random.default_rng(seed)
    full_a, full_b = multilabel_scores(scores_a, targets), multilabel_scores(scores_b, targets)
    diffs: dict[str, list[float]] = {"map": [], "auroc": []}
    for _ in range(num):
        idx = np.concatenate([rows[names[k]] for k in rng.integers(0, len(names), len(names))])
        try:
            ra, rb = multilabel_scores(scores_a[idx], targets[idx]), multilabel_scores(scores_b[idx], targets[idx])
        except ValueError:  # no positive at all in this resample
            continue
        for k in diffs:
            if ra[k] is not None and rb[k] is not None:
                diffs[k].append(rb[k] - ra[k])
    out = {}
    for k, d in diffs.items():
        arr = np.asarray(d)
        out[k] = {
            "diff": full_b[k] - full_a[k],
            "ci95": [float(np.percentile(arr, 2.5)), float(np.percentile(arr, 97.5))],
            "share_positive": float((arr > 0).mean()),
            "num": int(arr.size),
        }
    return out


def _pooled(results: dict, work: Path, units: list[tuple[int, int | None]], dataset_dir: str, num_boot: int) -> dict:
    """Out-of-fold pooled scores per seed of every arm run on all folds, and MPC − AN with a patient bootstrap."""
    patient = {Path(d["image"]).name: str(d["patient_id"]) for d in nih_subset_datalist(dataset_dir)}
    out: dict = {}
    for seed in sorted({u[0] for u in units}):
        names = [_run_name(*u) for u in units if u[0] == seed]
        arms = [a for a in results["arms"] if all(a in results["runs"][n] for n in names)]
        pooled = {}
        for arm in arms:
            ids, classes, scores, targets = pool_folds([work / n / arm / "eval" / "predictions.csv" for n in names])
            pooled[arm] = (ids, scores, targets, multilabel_scores(scores, targets, classes))
        seed_out: dict = {
            "images": len(next(iter(pooled.values()))[0]) if pooled else 0,
            "arms": {
                a: {
                    k: v[3][k]
                    for k in (
                        "map",
                        "auroc",
                        "per_class_ap",
                        "per_class_auroc",
                        "excluded_ap",
                        "excluded_auroc",
                        "positives",
                    )
                }
                for a, v in pooled.items()
            },
        }
        if {"an", "mpc"} <= set(pooled):
            if pooled["an"][0] != pooled["mpc"][0]:
                raise ValueError("AN and MPC were scored on different images.")
            groups = [patient[Path(i).name] for i in pooled["an"][0]]
            seed_out["mpc_minus_an"] = paired_bootstrap(
                groups, pooled["an"][1], pooled["mpc"][1], pooled["an"][2], num=num_boot
            )
            if "full" in pooled:
                a, m, f = (seed_out["arms"][x] for x in ("an", "mpc", "full"))
                seed_out["gap_closed"] = {
                    k: (m[k] - a[k]) / (f[k] - a[k]) if f[k] > a[k] else None for k in ("map", "auroc")
                }
        out[f"seed{seed}"] = seed_out
    return out


def paired_comparison(runs: dict) -> dict:
    """MPC − AN paired over the runs (``{"seed0/fold0": {arm: result}}``) that have both, and the share of the
    AN → full-label gap it closes (means over the runs that also have full labels).

    Returns:
        ``{}`` without both arms; else ``mpc_minus_an`` (``map`` / ``auroc``: mean, sd, values, paired t and its
        95 % t interval; ``runs``) and, where full labels ran, ``gap_closed`` (None where full labels do not
        beat AN).
    """
    paired = [name for name, arms in runs.items() if {"an", "mpc"} <= set(arms)]
    if not paired:
        return {}
    out: dict = {"mpc_minus_an": {"runs": paired}}
    for k in ("map", "auroc"):
        diffs = [runs[n]["mpc"][k] - runs[n]["an"][k] for n in paired]
        out["mpc_minus_an"][k] = {**stats(diffs), "paired_t": paired_t(diffs), "ci95": t_interval(diffs)}
    with_full = [n for n in paired if "full" in runs[n]]
    if with_full:
        gap = {}
        for k in ("map", "auroc"):
            f, a, m = (sum(runs[n][arm][k] for n in with_full) / len(with_full) for arm in ("full", "an", "mpc"))
            gap[k] = (m - a) / (f - a) if f > a else None  # undefined when full labels do not beat AN
        out["gap_closed"] = gap
    return out


def combine(paths: list[Path]) -> dict:
    """Join benchmark JSONs of the same protocol run at other seeds into one paired comparison.

    The runs of all files are paired by name (``seed<s>/fold<k>``); each file's pooled out-of-fold MPC − AN
    (one per seed) is kept, with their mean over seeds.

    Raises:
        ValueError: when the files differ in protocol (other than seeds and how many ran at once) or share a run.
    """
    ignore = ("seeds", "jobs", "threads", "dataset_dir", "main_arms")
    runs: dict = {}
    pooled: dict = {}
    reference = None
    for path in paths:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        protocol = {k: v for k, v in data["protocol"].items() if k not in ignore}
        if reference is None:
            reference = protocol
        elif protocol != reference:
            diff = sorted(k for k in set(protocol) | set(reference) if protocol.get(k) != reference.get(k))
            raise ValueError(f"{path}: another protocol than {paths[0]} (differs in {diff}).")
        clash = set(runs) & set(data["runs"])
        if clash:
            raise ValueError(f"{path}: runs {sorted(clash)} are in an earlier file too.")
        runs.update(data["runs"])
        pooled.update({seed: p["mpc_minus_an"] for seed, p in data.get("pooled", {}).items() if "mpc_minus_an" in p})
    out = {"files": [str(p) for p in paths], "protocol": reference, **paired_comparison(runs)}
    if pooled:
        out["pooled_mpc_minus_an"] = {
            "per_seed": pooled,
            **{k: stats([p[k]["diff"] for p in pooled.values()]) for k in ("map", "auroc")},
        }
    for arm in ("full", "an", "mpc"):
        values = {k: [r[arm][k] for r in runs.values() if arm in r] for k in ("map", "auroc")}
        if values["map"]:
            out.setdefault("arms", {})[arm] = {k: stats(v) for k, v in values.items()}
    return out


def _run_name(seed: int, fold: int | None) -> str:
    """``seed<seed>`` for the hold-out split, ``seed<seed>/fold<fold>`` under cross-validation."""
    return f"seed{seed}" if fold is None else f"seed{seed}/fold{fold}"


def _labels_file(work: Path, seed: int, fold: int | None) -> Path:
    return work / "labels" / (f"single_positive_seed{seed}" + ("" if fold is None else f"_fold{fold}") + ".json")


def _train_arm(arm: str, seed: int, fold: int | None, common: dict, work: Path, args: argparse.Namespace) -> dict:
    """Train and evaluate one arm at one seed and fold (or reuse its cached result); return its result."""
    name = _run_name(seed, fold)
    run_dir = work / name / arm
    run_dir.mkdir(parents=True, exist_ok=True)
    labels_file = _labels_file(work, seed, fold)
    overrides = {**common, "seed": seed, **({} if fold is None else {"fold": fold}), **ARMS[arm][0]}
    overrides.update({"labels_file": str(labels_file), "bundle_root": str(run_dir)})
    key = {k: v for k, v in overrides.items() if k not in ("labels_file", "bundle_root")}  # paths do not matter
    cached = run_dir / "result.json"
    flags = [x for k, v in overrides.items() for x in (f"--{k}", "None" if v is None else str(v))]
    base = [sys.executable, "-m", "monai.bundle", "run", "--logging_file", "configs/logging.conf"]
    # the run's own eval/ outputs are replaced on purpose when it is trained or evaluated again
    eval_flags = flags + ["--eval_checkpoint", str(run_dir / "models" / "checkpoint_final.pt"), "--overwrite", "true"]
    eval_cmd = base + ["--config_file", "['configs/train.json','configs/evaluate.json']"] + eval_flags
    if not args.rerun and cached.is_file():
        previous = json.loads(cached.read_text(encoding="utf-8"))
        if previous["settings"] == key:
            if not (run_dir / "eval" / "predictions.csv").is_file():  # cached before predictions were saved
                print(f"[{arm} {name}] evaluating the cached checkpoint again for its predictions", flush=True)
                run_logged(eval_cmd, run_dir / "eval.log", BUNDLE, _env(args.threads))
            print(f"[{arm} {name}] reusing {cached} (same settings; --rerun to train again)", flush=True)
            return previous["result"]
    print(f"[{arm} {name}] training {args.epochs} epochs ...", flush=True)
    wall, _ = run_logged(
        base + ["--config_file", "configs/train.json"] + flags + ["--overwrite", "true"],
        run_dir / "train.log",
        BUNDLE,
        _env(args.threads),
    )
    log = (run_dir / "train.log").read_text(encoding="utf-8", errors="replace")
    train_s = sum(engine_epoch_seconds(log, "SinglePositiveTrainer")) - sum(
        engine_epoch_seconds(log, "SupervisedEvaluator")
    )
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
        "val_positives": report.get("positives"),
        "val_curves": curves,
        "seconds_per_epoch": train_s / max(1, args.epochs),
        "train_wall_seconds": wall,
    }
    cached.write_text(json.dumps({"settings": key, "result": result}, indent=2), encoding="utf-8")
    print(f"[{arm} {name}] mAP {report['map']:.4f}  AUROC {report['auroc']:.4f}  ({wall:.0f} s)", flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset_dir", default=str(REPO.parent / "shared" / "data" / "nih_cxr14_1000"))
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument(
        "--max_iterations", type=int, default=None, help="iterations per epoch (default: the whole training set)"
    )
    p.add_argument("--batch_size", type=int, default=32)
    p.add_argument("--image_size", type=int, default=64)
    p.add_argument("--learning_rate", type=float, default=1e-3)
    p.add_argument("--rampup_epochs", type=float, default=2.0)
    p.add_argument("--val_fraction", type=float, default=0.2)
    p.add_argument("--folds", type=int, default=5, help="patient-grouped cross-validation folds; 0: the hold-out split")
    p.add_argument("--seeds", default="0", help="seeds of the single-positive draw and of training")
    p.add_argument(
        "--main_arms", default="full,an,mpc", help="arms run at every fold and seed; the others at the first only"
    )
    p.add_argument("--split_seed", type=int, default=0)
    p.add_argument("--bootstrap", type=int, default=1000, help="patient bootstrap resamples of the pooled MPC − AN")
    p.add_argument("--threads", type=int, default=1, help="OMP threads per training process")
    p.add_argument("--jobs", type=int, default=2, help="training processes at once (2 cores: 2 jobs of 1 thread)")
    p.add_argument("--arms", default=",".join(ARMS))
    p.add_argument("--rerun", action="store_true", help="train again even when a cached result matches")
    p.add_argument("--work_dir", default=str(REPO / "benchmarks" / "runs" / "cxr"))
    p.add_argument("--out", default=str(BUNDLE / "docs" / "benchmark_cxr.json"))
    p.add_argument("--docs", default=str(BUNDLE / "docs" / "README.md"))
    p.add_argument(
        "--combine",
        default=None,
        help="comma-separated benchmark JSONs of other seeds: join them into one "
        "paired MPC − AN comparison, write it to --out and train nothing",
    )
    p.add_argument("--plot_only", action="store_true", help="only draw the figures of the existing --out JSON")
    args = p.parse_args(argv)
    if args.plot_only:
        for path in write_figures(json.loads(Path(args.out).read_text(encoding="utf-8")), Path(args.out)):
            print(path)
        return 0
    if args.combine:
        combined = combine([Path(x) for x in args.combine.split(",")])
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(combined, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        write_figures(combined, Path(args.out))
        print(json.dumps({k: v for k, v in combined.items() if k != "protocol"}, indent=2))
        return 0
    arms = args.arms.split(",")
    main_arms = [a for a in args.main_arms.split(",") if a]
    unknown = [a for a in arms + main_arms if a not in ARMS]
    if unknown:
        p.error(f"unknown arm(s) {unknown}; choose from {list(ARMS)}")
    seeds = [int(x) for x in args.seeds.split(",")]
    if not (Path(args.dataset_dir) / "labels.csv").is_file():
        p.error(f"{args.dataset_dir}: no labels.csv (the NIH subset's layout)")
    if args.folds == 1 or args.folds < 0:
        p.error(f"--folds must be 0 (hold-out split) or at least 2, got {args.folds}")
    folds: list[int | None] = list(range(args.folds)) if args.folds else [None]

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
        **({"num_folds": args.folds} if args.folds else {}),
    }
    protocol = {
        **common,
        "seeds": seeds,
        "main_arms": main_arms,
        "threads": args.threads,
        "jobs": args.jobs,
        "reported": "last epoch",
    }
    results: dict = {"protocol": protocol, "runs": {}, "arms": {}, "single_positive": {}}
    start = time.time()
    units = [(seed, fold) for seed in seeds for fold in folds]  # the first one runs every arm
    tasks = [
        (arm, *u) for i, u in enumerate(units) for arm in (arms if i == 0 else [a for a in arms if a in main_arms])
    ]
    tasks.sort(key=lambda t: -_COST.get(t[0], 1.0))  # longest first, so two jobs end together
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:  # each task is a training subprocess
        futures = {task: pool.submit(_train_arm, *task, common, work, args) for task in tasks}
        for (arm, seed, fold), future in futures.items():
            results["runs"].setdefault(_run_name(seed, fold), {})[arm] = future.result()
    results["runs"] = {_run_name(*u): results["runs"][_run_name(*u)] for u in units}  # in unit order
    for seed, fold in units:
        labels_file = _labels_file(work, seed, fold)
        if labels_file.is_file():
            record = json.loads(labels_file.read_text(encoding="utf-8"))
            keys = ("num_images", "true_positives", "observed_positives", "hidden_positives")
            results["single_positive"][_run_name(seed, fold)] = {k: record[k] for k in keys}
    results["wall_seconds"] = time.time() - start

    for arm in arms:
        runs = {s: r[arm] for s, r in results["runs"].items() if arm in r}
        results["arms"][arm] = {
            "label": ARMS[arm][1],
            "overrides": ARMS[arm][0],
            "runs": list(runs),
            **{
                k: stats([r[k] for r in runs.values()])
                for k in ("map", "auroc", "map_mean_last3", "auroc_mean_last3", "seconds_per_epoch")
            },
            "excluded_ap": sorted({c for r in runs.values() for c in r["excluded_ap"]}),
            "excluded_auroc": sorted({c for r in runs.values() for c in r["excluded_auroc"]}),
        }
        pseudo = {k: [r["val_curves"][k][-1] for r in runs.values() if r["val_curves"].get(k)] for k in PSEUDO_KEYS}
        if all(pseudo.values()):  # arms with pseudo labels: their last epoch, over seeds
            results["arms"][arm]["pseudo_labels_last_epoch"] = {k: stats(v) for k, v in pseudo.items()}
    results.update(paired_comparison(results["runs"]))
    if args.folds:
        results["pooled"] = _pooled(results, work, units, common["dataset_dir"], args.bootstrap)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    write_figures(results, Path(args.out))
    _write_table(
        results,
        Path(args.docs),
        shlex.join(["python", "scripts/bench_cxr.py", *(argv if argv is not None else sys.argv[1:])]),
    )
    print(json.dumps({k: v for k, v in results.items() if k not in ("arms", "runs")}, indent=2))
    return 0


def write_figures(results: dict, out: Path) -> list[Path]:
    """Next to the JSON: ``<stem>_curves.png`` (validation mAP and macro AUROC per epoch of every arm, its first
    run) and ``<stem>_results.png`` (each arm's mAP and AUROC, mean over its runs, standard deviation as error bar).
    A JSON without per-epoch curves (``--combine`` output) gets the results figure only."""
    from noisymed.utils import plot_bars, plot_curves

    written = []
    first = {}
    for run in results.get("runs", {}).values():
        for arm, r in run.items():
            if arm not in first and r.get("val_curves"):
                first[arm] = r["val_curves"]
    label = {arm: results.get("arms", {}).get(arm, {}).get("label", arm) for arm in first}
    if first:
        panels = {
            title: {label[a]: list(enumerate(c[key], start=1)) for a, c in first.items() if c.get(key)}
            for key, title in (("map", "validation mAP"), ("auroc", "validation macro AUROC"))
        }
        panels = {k: v for k, v in panels.items() if v}
        if panels:
            written.append(
                plot_curves(panels, figure_path(out, "curves"), ylabel="value", title="first run of each arm")
            )
    arms = {a: s for a, s in results.get("arms", {}).items() if isinstance(s.get("map"), dict)}
    if arms:
        groups = {
            "mAP" if m == "map" else "AUROC": {s.get("label", a): s[m]["mean"] for a, s in arms.items()}
            for m in ("map", "auroc")
        }
        errors = {
            "mAP" if m == "map" else "AUROC": {s.get("label", a): s[m].get("sd") or 0.0 for a, s in arms.items()}
            for m in ("map", "auroc")
        }
        written.append(plot_bars(groups, figure_path(out, "results"), ylabel="mean over runs (± sd)", errors=errors))
    return written


def _pct(stat: dict | None) -> str:
    if stat is None or stat.get("mean") is None:
        return ""
    return f"{100 * stat['mean']:.2f}" + (f" ± {100 * stat['sd']:.2f}" if stat["sd"] is not None else "")


def _write_table(results: dict, docs: Path, command: str) -> None:
    proto = results["protocol"]
    folds = proto.get("num_folds")
    split = (
        f"patient-grouped {folds}-fold cross-validation (split seed {proto['split_seed']}): ± is the standard deviation over "
        "the folds and seeds, each fold scored on its own held-out patients"
        if folds
        else f"the hold-out split (split seed {proto['split_seed']}): ± is the standard deviation over seeds"
    )
    rows = [
        f"Reproduce: `{command}` ({proto['threads']} OMP thread per run, {proto.get('jobs', 1)} runs at once; "
        f"{proto['main_arms']} at every fold and seed {proto['seeds']}, the other arms at the first only; {split}; "
        f"{proto['max_epochs']} epochs, batch {proto['batch_size']}, {proto['image_size']} px). Numbers of the last epoch "
        "on the validation images with full labels (the findings); no checkpoint selection.",
        "",
    ]
    if "wall_seconds" in results:
        rows += [f"Wall time of this run: {results['wall_seconds'] / 60:.1f} min (cached arms count 0).", ""]
    for name, sp in results.get("single_positive", {}).items():
        rows.append(
            f"- {name}: {sp['num_images']} training images, {sp['true_positives']} true finding positives, "
            f"{sp['observed_positives']} observed, **{sp['hidden_positives']} hidden**."
        )
    if results.get("single_positive"):
        rows.append('- Images without findings observe "No Finding" (an extra class).')
    rows += [
        "",
        "| arm | runs | mAP % | macro AUROC % | mAP % (mean of last 3 epochs) | AUROC % (mean of last 3) | s / epoch |",
        "|---|---|---|---|---|---|---|",
    ]
    for arm in results["arms"].values():
        rows.append(
            f"| {arm['label']} | {len(arm['runs'])} | {_pct(arm['map'])} | {_pct(arm['auroc'])} | "
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
            rows.append(
                f"| {arm['label']} | {_pct(q['pseudo_pos_rate'])} | {_pct(q['pseudo_pos_precision'])} | "
                f"{_pct(q['hidden_pos_recall'])} |"
            )
    excluded = sorted({c for a in results["arms"].values() for c in a["excluded_ap"] + a["excluded_auroc"]})
    if excluded:
        rows += ["", f"Excluded where a validation fold has no positive of them (per run, never NaN): {excluded}."]
    if "mpc_minus_an" in results:
        d = results["mpc_minus_an"]
        per_run = ", ".join(f"{100 * v:+.2f}" for v in d["map"]["values"])
        t = {k: d[k].get("paired_t") for k in ("map", "auroc")}
        line = (
            f"MPC − AN, paired over {len(d['runs'])} runs {d['runs']}: {_pct(d['map'])} mAP points (per run {per_run}"
            + (f"; paired t {t['map']:.2f}" if t["map"] is not None else "")
            + f"), {_pct(d['auroc'])} AUROC points"
            + (f" (paired t {t['auroc']:.2f})" if t["auroc"] is not None else "")
        )
        g = results.get("gap_closed") or {}
        if g.get("map") is not None:
            line += f"; share of the AN → full-label gap closed (means over those runs): {100 * g['map']:.0f} % (mAP)"
            if g.get("auroc") is not None:
                line += f", {100 * g['auroc']:.0f} % (AUROC)"
        elif results.get("gap_closed") is not None:
            line += "; no AN → full-label gap to close (full labels did not beat AN on mAP)"
        rows += ["", line + "."]
    for seed, pooled in results.get("pooled", {}).items():
        rows += _pooled_rows(seed, pooled, results["arms"])
    replace_block(docs, MARK_START, MARK_END, "\n".join(rows))


def _pooled_rows(seed: str, pooled: dict, arms: dict) -> list[str]:
    """Table lines of the out-of-fold pooled scores of one seed."""
    rows = [
        "",
        f"Pooled out-of-fold ({seed}): the folds' validation predictions concatenated, so each of the "
        f"{pooled['images']} images is scored once by the model that did not train on its patient, and every finding "
        "with a positive among them counts.",
        "",
        "| arm | pooled mAP % | pooled macro AUROC % |",
        "|---|---|---|",
    ]
    rows += [
        f"| {arms[a]['label']} | {100 * v['map']:.2f} | {100 * v['auroc']:.2f} |" for a, v in pooled["arms"].items()
    ]
    excluded = sorted({c for v in pooled["arms"].values() for c in v["excluded_ap"] + v["excluded_auroc"]})
    if excluded:
        rows += ["", f"Excluded (no positive among the pooled images): {excluded}."]
    d = pooled.get("mpc_minus_an")
    if d:
        parts = [
            f"{100 * d[k]['diff']:+.2f} {name} points (95 % patient-bootstrap interval {100 * d[k]['ci95'][0]:+.2f} to "
            f"{100 * d[k]['ci95'][1]:+.2f}; MPC ahead in {100 * d[k]['share_positive']:.0f} % of {d[k]['num']} resamples)"
            for k, name in (("map", "mAP"), ("auroc", "AUROC"))
        ]
        line = f"Pooled MPC − AN ({seed}): " + ", ".join(parts)
        g = pooled.get("gap_closed") or {}
        if g:
            closed = [
                f"{100 * g[k]:.0f} % ({name})"
                for k, name in (("map", "mAP"), ("auroc", "AUROC"))
                if g.get(k) is not None
            ]
            line += "; share of the pooled AN → full-label gap closed: " + (
                ", ".join(closed) if closed else "no gap (full labels did not beat AN)"
            )
        rows += ["", line + "."]
    return rows


if __name__ == "__main__":
    sys.exit(main())
