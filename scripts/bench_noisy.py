"""Noisy-label benchmark: CE, GCE, SCE, mixup, co-teaching and contrastive pretraining + mixup attention.

    python scripts/bench_noisy.py                      # PneumoniaMNIST at 0/20/40 % noise + one AdrenalMNIST3D row

Every arm runs the bundle's own ``train.json`` through ``python -m monai.bundle run`` (a subprocess).
Protocol:

* Symmetric label noise, exact mode (exactly round(p * n_c) flipped labels per class), seed ``--seed``,
  injected into the training labels only; the noisy labels are written once per rate under
  ``<work_dir>/noise/`` and every arm at that rate reads the same file.
* Contrastive pretraining (SimCLR NT-Xent, label-free) runs once per dataset on the training images and its
  weights initialise the ``+CL`` arms; being label-free it is the same for every noise rate.
* Every arm trains ``--epochs`` epochs with the same network, optimiser, batch size and seed, and is evaluated
  on the clean validation split after each epoch. Reported: accuracy and AUC averaged over the last
  ``LAST`` epochs (no model selection, which needs clean labels a noisy-label user does not have; the average,
  as Co-teaching reports, because single epochs swing by several points under noise), the last epoch's values,
  and the best epoch's accuracy (selected on the clean validation labels, so optimistic); seconds per training
  epoch (validation excluded).

Writes ``--out`` (JSON) and the table between the markers in the bundle's docs/README.md. Arms whose settings
are unchanged reuse ``<work_dir>/.../result.json``; ``--rerun`` trains them again.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench_common import bundle_command, engine_epoch_seconds, figure_path, replace_block, run_logged, thread_env

REPO = Path(__file__).resolve().parents[1]
BUNDLE = REPO / "bundles" / "noisy_label_classification"
SHARED = REPO.parent / "shared" / "data" / "medmnist"
MARK_START, MARK_END = "<!-- bench_noisy:start -->", "<!-- bench_noisy:end -->"
LAST = 5  # epochs averaged for the headline numbers

#: the paper's mixup-attention settings, given explicitly so that they are part of each arm's cache key
MA_OPTIONS = {"gamma": 1.0, "plain_weight": 1.0, "group_size": 2, "grouping": "class", "hidden_dim": 128}

#: arm -> (method, method options, contrastive pretraining, backbone learning-rate scale, label in the table);
#: the baselines run with the defaults of noisymed.engines.METHOD_OPTIONS (named in their labels)
ARMS: dict[str, tuple[str, dict, bool, float, str]] = {
    "ce": ("ce", {}, False, 1.0, "CE"),
    "gce": ("gce", {}, False, 1.0, "GCE (q = 0.7)"),
    "sce": ("sce", {}, False, 1.0, "SCE (alpha = 0.1, beta = 1)"),
    "mixup": ("mixup", {}, False, 1.0, "mixup (alpha = 1)"),
    "coteaching": ("coteaching", {}, False, 1.0, "Co-teaching (forget rate = noise rate, T_k = 10)"),
    "cl_ft": ("ce", {}, True, 1.0, "ablation: contrastive pretraining, whole network fine-tuned, CE"),
    "cl": ("ce", {}, True, 0.0, "ablation: contrastive pretraining (backbone frozen), CE"),
    "ma": ("mixup_attention", MA_OPTIONS, False, 1.0, "ablation: mixup attention, no pretraining"),
    "cl_ma": (
        "mixup_attention",
        MA_OPTIONS,
        True,
        0.0,
        "**paper: contrastive pretraining (frozen) + mixup attention**",
    ),
}


def _metrics(log: str) -> list[dict[str, float]]:
    """Per-epoch validation metrics the StatsHandler logged ('Epoch[k] Metrics -- val_acc: a val_auc: b')."""
    rows = re.findall(r"Epoch\[(\d+)\] Metrics -- val_acc: ([\d.]+) val_auc: ([\d.]+)", log)
    return [{"epoch": int(e), "acc": float(a), "auc": float(u)} for e, a, u in rows]


def _last(result: dict, metric: str) -> float:
    """Mean of ``metric`` over the last ``LAST`` epochs of a run's validation curve."""
    tail = result["curve"][-LAST:]
    return sum(m[metric] for m in tail) / len(tail)


def _train_seconds(log: str) -> list[float]:
    trainer = engine_epoch_seconds(log, r"\w*Trainer")
    evaluator = engine_epoch_seconds(log, "SupervisedEvaluator")
    return [t - e for t, e in zip(trainer, evaluator, strict=True)] if len(evaluator) == len(trainer) else trainer


def _cached(run_dir: Path, overrides: dict, rerun: bool) -> dict | None:
    cached = run_dir / "result.json"
    if rerun or not cached.is_file():
        return None
    previous = json.loads(cached.read_text(encoding="utf-8", errors="replace"))
    return previous["result"] if previous.get("overrides") == overrides else None


def _pretrain(name: str, common: dict, args: argparse.Namespace, epochs: int, env: dict) -> tuple[str, dict]:
    run_dir = Path(args.work_dir) / name / "pretrain"
    overrides = {**common, "bundle_root": str(run_dir), "pretrain_epochs": epochs, "num_workers": 1}
    weights = run_dir / "models" / "pretrained.pt"
    result = _cached(run_dir, overrides, args.rerun)
    if result is None or not weights.is_file():
        print(f"[{name}] contrastive pretraining, {epochs} epochs ...", flush=True)
        wall, peak = run_logged(
            bundle_command(["configs/train.json", "configs/pretrain.json"], {**overrides, "overwrite": True}),
            run_dir / "pretrain.log",
            BUNDLE,
            env,
        )
        log = (run_dir / "pretrain.log").read_text(encoding="utf-8", errors="replace")
        result = {
            "epochs": epochs,
            "seconds_per_epoch": _mean(engine_epoch_seconds(log, "SSLPretrainer")),
            "wall_seconds": wall,
            "peak_memory_gib": peak,
        }
        (run_dir / "result.json").write_text(json.dumps({"overrides": overrides, "result": result}, indent=2))
    return str(weights), result


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _train(
    name: str, rate: float, arm: str, common: dict, pretrained: str | None, args: argparse.Namespace, env: dict
) -> dict:
    method, options, uses_cl, backbone_lr_scale, label = ARMS[arm]
    run_dir = Path(args.work_dir) / name / f"noise_{rate:.2f}" / arm
    overrides = {
        **common,
        "bundle_root": str(run_dir),
        "noise_rate": rate,
        "noise_file": str(Path(args.work_dir) / name / "noise" / f"symmetric_{rate:.2f}_seed{args.seed}.json"),
        "method": method,
        "num_workers": 0,
    }
    if options:
        overrides["method_options"] = options
    if backbone_lr_scale != 1.0:
        overrides["backbone_lr_scale"] = backbone_lr_scale
    if uses_cl:
        overrides["pretrained"] = pretrained
    result = _cached(run_dir, overrides, args.rerun)
    if result is not None:
        print(f"[{name} {rate:.0%} {arm}] reusing {run_dir / 'result.json'}", flush=True)
        return result
    wall, peak = run_logged(
        bundle_command(["configs/train.json"], {**overrides, "overwrite": True}), run_dir / "train.log", BUNDLE, env
    )
    log = (run_dir / "train.log").read_text(encoding="utf-8", errors="replace")
    curve = _metrics(log)
    if not curve:
        raise RuntimeError(f"no validation metrics in {run_dir / 'train.log'}")
    best = max(curve, key=lambda m: (m["acc"], -m["epoch"]))
    result = {
        "label": label,
        "method": method,
        "contrastive_pretraining": uses_cl,
        "backbone_lr_scale": backbone_lr_scale,
        "mixup_attention": method == "mixup_attention",
        "final": curve[-1],
        "best": best,
        "seconds_per_epoch": _mean(_train_seconds(log)),
        "wall_seconds": wall,
        "peak_memory_gib": peak,
        "curve": curve,
    }
    (run_dir / "result.json").write_text(json.dumps({"overrides": overrides, "result": result}, indent=2))
    print(
        f"[{name} {rate:.0%} {arm}] final acc {curve[-1]['acc']:.4f} auc {curve[-1]['auc']:.4f}, "
        f"best acc {best['acc']:.4f} (epoch {best['epoch']}), {wall:.0f} s",
        flush=True,
    )
    return result


def _dataset(name, path, rates, arms, epochs, pretrain_epochs, extra, args, env) -> dict:
    common = {"dataset": str(Path(path).resolve()), "seed": args.seed, "epochs": epochs, **extra}
    pretrained, pretrain = (None, None)
    if any(ARMS[a][2] for a in arms):
        pretrained, pretrain = _pretrain(
            name, {k: v for k, v in common.items() if k != "epochs"}, args, pretrain_epochs, env
        )
    jobs = [(rate, arm) for rate in rates for arm in arms]
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {job: pool.submit(_train, name, job[0], job[1], common, pretrained, args, env) for job in jobs}
        runs: dict = {}
        for (rate, arm), future in futures.items():
            runs.setdefault(f"{rate:.2f}", {})[arm] = future.result()
    return {"dataset": common["dataset"], "epochs": epochs, "overrides": extra, "pretrain": pretrain, "runs": runs}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", default=str(SHARED / "pneumoniamnist.npz"))
    p.add_argument("--rates", default="0.0,0.2,0.4")
    p.add_argument("--arms", default=",".join(ARMS))
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--pretrain_epochs", type=int, default=10)
    p.add_argument("--dataset3d", default=str(SHARED / "adrenalmnist3d.npz"), help="'' to skip the 3D row")
    p.add_argument("--rate3d", type=float, default=0.4)
    p.add_argument("--arms3d", default="ce,cl_ma")
    p.add_argument("--epochs3d", type=int, default=10)
    p.add_argument("--pretrain_epochs3d", type=int, default=5)
    p.add_argument("--max_train", type=int, default=None, help="a seeded sample of N training images (smoke runs)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--jobs", type=int, default=2, help="arms trained at once")
    p.add_argument("--threads", type=int, default=1, help="torch threads per arm")
    p.add_argument("--rerun", action="store_true", help="retrain arms whose cached result matches their settings")
    p.add_argument("--work_dir", default=str(REPO / "benchmarks" / "runs" / "noisy"))
    p.add_argument("--out", default=str(BUNDLE / "docs" / "benchmark_noisy.json"))
    p.add_argument("--docs", default=str(BUNDLE / "docs" / "README.md"))
    p.add_argument("--plot_only", action="store_true", help="only draw the figures of the existing --out JSON")
    args = p.parse_args(argv)
    if args.plot_only:
        for path in write_figures(json.loads(Path(args.out).read_text(encoding="utf-8")), Path(args.out)):
            print(path)
        return 0
    unknown = sorted({*args.arms.split(","), *args.arms3d.split(",")} - set(ARMS) - {""})
    if unknown:
        p.error(f"unknown arm(s) {unknown}; known: {list(ARMS)}")
    env = thread_env(args.threads)
    limit = {"max_train": args.max_train} if args.max_train else {}
    results: dict = {
        "protocol": {
            "noise": "symmetric, exact mode, training labels only; validation labels clean",
            "seed": args.seed,
            "jobs": args.jobs,
            "threads_per_job": args.threads,
            "selection": "final = last epoch (no selection); best = best clean-validation accuracy (optimistic)",
        },
        "datasets": {},
    }
    rates = [float(r) for r in args.rates.split(",")]
    name2d = Path(args.dataset).stem
    results["datasets"][name2d] = _dataset(
        name2d, args.dataset, rates, args.arms.split(","), args.epochs, args.pretrain_epochs, limit, args, env
    )
    if args.dataset3d:
        name3d = Path(args.dataset3d).stem
        extra3d = {**limit, "backbone": "resnet10", "widths": "[8,16,32,64]", "batch_size": 32}
        results["datasets"][name3d] = _dataset(
            name3d,
            args.dataset3d,
            [args.rate3d],
            args.arms3d.split(","),
            args.epochs3d,
            args.pretrain_epochs3d,
            extra3d,
            args,
            env,
        )
    runs = results["datasets"][name2d]["runs"]
    top = f"{max(rates):.2f}"
    if "ce" in runs.get(top, {}) and "cl_ma" in runs.get(top, {}):
        ce, ours = runs[top]["ce"], runs[top]["cl_ma"]
        results["paper_minus_ce_at_max_noise"] = {
            "rate": max(rates),
            f"last{LAST}_acc": _last(ours, "acc") - _last(ce, "acc"),
            f"last{LAST}_auc": _last(ours, "auc") - _last(ce, "auc"),
            "final_acc": ours["final"]["acc"] - ce["final"]["acc"],
            "final_auc": ours["final"]["auc"] - ce["final"]["auc"],
            "best_acc": ours["best"]["acc"] - ce["best"]["acc"],
        }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    write_figures(results, Path(args.out))
    command = shlex.join(["python", "scripts/bench_noisy.py", *(argv if argv is not None else sys.argv[1:])])
    replace_block(Path(args.docs), MARK_START, MARK_END, _table(results, command))
    print(json.dumps({k: v for k, v in results.items() if k != "datasets"}, indent=2))
    return 0


def write_figures(results: dict, out: Path) -> list[Path]:
    """Per dataset, next to the JSON: ``<stem>_<dataset>_curves.png`` (validation accuracy per epoch of every arm,
    one panel per noise rate) and ``<stem>_<dataset>_results.png`` (accuracy, mean of the last LAST epochs, as bars)."""
    from noisymed.utils import plot_bars, plot_curves

    written = []
    for name, d in results["datasets"].items():
        panels = {
            f"noise {float(rate):.0%}": {
                r["label"].strip("*"): [(m["epoch"], m["acc"]) for m in r["curve"]] for r in arms.values()
            }
            for rate, arms in d["runs"].items()
        }
        written.append(
            plot_curves(panels, figure_path(out, f"{name}_curves"), ylabel="validation accuracy", title=name)
        )
        groups = {
            f"noise {float(rate):.0%}": {r["label"].strip("*"): _last(r, "acc") for r in arms.values()}
            for rate, arms in d["runs"].items()
        }
        written.append(
            plot_bars(
                groups, figure_path(out, f"{name}_results"), ylabel=f"accuracy, mean of last {LAST} epochs", title=name
            )
        )
    return written


def _table(results: dict, command: str) -> str:
    p = results["protocol"]
    rows = [
        f"Reproduce: `{command}` ({p['jobs']} arms at once, {p['threads_per_job']} torch thread(s) each, seed {p['seed']}).",
        "",
        f"| dataset | noise | method | acc, mean of last {LAST} epochs | AUC, mean of last {LAST} | acc (last epoch) | "
        "AUC (last epoch) | best acc (epoch) | s / epoch |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, d in results["datasets"].items():
        for rate, arms in d["runs"].items():
            for r in arms.values():
                rows.append(
                    f"| {name} | {float(rate):.0%} | {r['label']} | {_last(r, 'acc'):.4f} | {_last(r, 'auc'):.4f} | "
                    f"{r['final']['acc']:.4f} | {r['final']['auc']:.4f} | "
                    f"{r['best']['acc']:.4f} ({r['best']['epoch']}) | {r['seconds_per_epoch']:.1f} |"
                )
    rows.append("")
    for name, d in results["datasets"].items():
        if d.get("pretrain"):
            rows.append(
                f"- {name}: contrastive pretraining {d['pretrain']['epochs']} epochs at "
                f"{d['pretrain']['seconds_per_epoch']:.1f} s / epoch; supervised training {d['epochs']} epochs."
            )
    diff = results.get("paper_minus_ce_at_max_noise")
    if diff:
        rows.append(
            f"- Paper's method minus CE at {diff['rate']:.0%} noise: {100 * diff[f'last{LAST}_acc']:+.2f} accuracy points and "
            f"{diff[f'last{LAST}_auc']:+.4f} AUC (means of the last {LAST} epochs); {100 * diff['final_acc']:+.2f} points "
            f"after the last epoch; {100 * diff['best_acc']:+.2f} points at the best epoch."
        )
    return "\n".join(rows)


if __name__ == "__main__":
    sys.exit(main())
