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

Writes ``<out>.json`` and replaces the table between the markers in the bundle's docs/README.md. Each
arm's result is cached in ``<work_dir>/<arm>/result.json`` and reused when its settings are unchanged.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

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


def _run(cmd: list[str], log: Path, threads: int) -> float:
    """Run ``cmd`` in the bundle folder with its output in ``log``; return wall seconds. Raise on failure."""
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    start = time.time()
    with open(log, "w") as f:
        proc = subprocess.run(cmd, cwd=BUNDLE, stdout=f, stderr=subprocess.STDOUT, env=env)
    if proc.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
        raise RuntimeError(f"{' '.join(cmd[:6])} ... failed ({proc.returncode}); see {log}\n{tail}")
    return time.time() - start


def _seconds(text: str, engine: str) -> float:
    """Sum of ignite's 'Epoch[k] Complete. Time taken: HH:MM:SS.fff' lines of one engine."""
    total = 0.0
    for h, m, s in re.findall(rf"{engine} - INFO - Epoch\[\d+\] Complete\. Time taken: (\d+):(\d+):([\d.]+)", text):
        total += int(h) * 3600 + int(m) * 60 + float(s)
    return total


def _curves(text: str) -> dict[str, list[float]]:
    """Validation mAP and macro AUROC after each epoch, as the StatsHandler logged them."""
    found = re.findall(r"Metrics -- val_auroc: ([\d.]+) val_map: ([\d.]+)", text)
    return {"map": [float(m) for _, m in found], "auroc": [float(a) for a, _ in found]}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset_dir", default=str(REPO.parent / "shared" / "data" / "nih_cxr14_1000"))
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--max_iterations", type=int, default=None, help="iterations per epoch (default: the whole training set)")
    p.add_argument("--batch_size", type=int, default=32)
    p.add_argument("--image_size", type=int, default=64)
    p.add_argument("--learning_rate", type=float, default=1e-3)
    p.add_argument("--rampup_epochs", type=float, default=3.0)
    p.add_argument("--val_fraction", type=float, default=0.2)
    p.add_argument("--seed", type=int, default=0, help="seed of the single-positive draw and of training")
    p.add_argument("--split_seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="OMP threads per training process")
    p.add_argument("--arms", default=",".join(ARMS))
    p.add_argument("--rerun", action="store_true", help="train again even when a cached result matches")
    p.add_argument("--work_dir", default=str(REPO / "benchmarks" / "runs" / "cxr"))
    p.add_argument("--out", default=str(BUNDLE / "docs" / "benchmark_cxr.json"))
    p.add_argument("--docs", default=str(BUNDLE / "docs" / "README.md"))
    args = p.parse_args(argv)
    arms = args.arms.split(",")
    unknown = [a for a in arms if a not in ARMS]
    if unknown:
        p.error(f"unknown arm(s) {unknown}; choose from {list(ARMS)}")
    if not (Path(args.dataset_dir) / "labels.csv").is_file():
        p.error(f"{args.dataset_dir}: no labels.csv (the NIH subset's layout)")

    work = Path(args.work_dir).resolve()
    labels_file = work / "labels" / f"single_positive_seed{args.seed}.json"
    common = {
        "dataset_dir": str(Path(args.dataset_dir).resolve()),
        "label_source": "nih_subset",
        "labels_file": str(labels_file),
        "max_epochs": args.epochs,
        "epoch_length": args.max_iterations,
        "batch_size": args.batch_size,
        "image_size": args.image_size,
        "learning_rate": args.learning_rate,
        "rampup_epochs": args.rampup_epochs,
        "val_fraction": args.val_fraction,
        "seed": args.seed,
        "split_seed": args.split_seed,
        "num_workers": 0,
    }
    results: dict = {"protocol": {**common, "threads": args.threads, "reported": "last epoch"}, "arms": {}}
    base = [sys.executable, "-m", "monai.bundle", "run", "--logging_file", "configs/logging.conf"]
    for arm in arms:
        run_dir = work / arm
        run_dir.mkdir(parents=True, exist_ok=True)
        overrides = {**common, **ARMS[arm][0], "bundle_root": str(run_dir)}
        cached = run_dir / "result.json"
        if not args.rerun and cached.is_file():
            previous = json.loads(cached.read_text(encoding="utf-8"))
            if previous["overrides"] == overrides:
                print(f"[{arm}] reusing {cached} (same settings; --rerun to train again)", flush=True)
                results["arms"][arm] = previous["result"]
                continue
        flags = [x for k, v in overrides.items() for x in (f"--{k}", "None" if v is None else str(v))]
        print(f"[{arm}] training {args.epochs} epochs ...", flush=True)
        wall = _run(base + ["--config_file", "configs/train.json"] + flags, run_dir / "train.log", args.threads)
        log = (run_dir / "train.log").read_text(encoding="utf-8", errors="replace")
        train_s = _seconds(log, "SinglePositiveTrainer") - _seconds(log, "SupervisedEvaluator")
        eval_flags = flags + ["--eval_checkpoint", str(run_dir / "models" / "checkpoint_final.pt")]
        _run(base + ["--config_file", "['configs/train.json','configs/evaluate.json']"] + eval_flags, run_dir / "eval.log", args.threads)
        report = json.loads((run_dir / "eval" / "per_class.json").read_text(encoding="utf-8"))
        curves = _curves(log)
        last3 = {k: sum(v[-3:]) / len(v[-3:]) for k, v in curves.items() if v}
        results["arms"][arm] = {
            "label": ARMS[arm][1],
            "overrides": ARMS[arm][0],
            "map": report["map"],
            "auroc": report["auroc"],
            "map_mean_last3": last3.get("map"),
            "auroc_mean_last3": last3.get("auroc"),
            "per_class_ap": report["per_class_ap"],
            "per_class_auroc": report["per_class_auroc"],
            "excluded_ap": report["excluded_ap"],
            "excluded_auroc": report["excluded_auroc"],
            "val_curves": curves,
            "seconds_per_epoch": train_s / max(1, args.epochs),
            "train_wall_seconds": wall,
        }
        cached.write_text(json.dumps({"overrides": overrides, "result": results["arms"][arm]}, indent=2))
        print(f"[{arm}] mAP {report['map']:.4f}  AUROC {report['auroc']:.4f}  ({wall:.0f} s)", flush=True)

    if labels_file.is_file():
        record = json.loads(labels_file.read_text(encoding="utf-8"))
        results["single_positive"] = {k: record[k] for k in ("seed", "no_positive", "num_images", "true_positives", "observed_positives", "hidden_positives")}
        results["single_positive"]["dropped"] = len(record["dropped"])
    done = results["arms"]
    if {"an", "mpc"} <= set(done):
        results["mpc_minus_an"] = {k: done["mpc"][k] - done["an"][k] for k in ("map", "auroc")}
        if "full" in done:
            results["gap_closed"] = {
                k: (done["mpc"][k] - done["an"][k]) / (done["full"][k] - done["an"][k]) if done["full"][k] != done["an"][k] else None
                for k in ("map", "auroc")
            }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    _write_table(results, Path(args.docs), shlex.join(["python", "scripts/bench_cxr.py", *(argv if argv is not None else sys.argv[1:])]))
    print(json.dumps({k: v for k, v in results.items() if k != "arms"}, indent=2))
    return 0


def _write_table(results: dict, docs: Path, command: str) -> None:
    proto = results["protocol"]
    sp = results.get("single_positive", {})
    rows = [
        f"Reproduce: `{command}` ({proto['threads']} thread per run, seed {proto['seed']}, split seed {proto['split_seed']}, "
        f"{proto['max_epochs']} epochs, batch {proto['batch_size']}, {proto['image_size']} px). Numbers of the last epoch on the "
        "validation images with full labels (14 findings); no checkpoint selection.",
        "",
    ]
    if sp:
        rows += [
            f"Single-positive labels: {sp['num_images']} training images, {sp['true_positives']} true finding positives, "
            f"{sp['observed_positives']} observed, **{sp['hidden_positives']} hidden**; images without findings observe "
            "\"No Finding\" (an extra class).",
            "",
        ]
    rows += [
        "| arm | mAP % | macro AUROC % | mAP % (mean of last 3 epochs) | AUROC % (mean of last 3) | s / epoch |",
        "|---|---|---|---|---|---|",
    ]
    for arm in results["arms"].values():
        m3 = arm["map_mean_last3"]
        a3 = arm["auroc_mean_last3"]
        rows.append(
            f"| {arm['label']} | {100 * arm['map']:.2f} | {100 * arm['auroc']:.2f} | "
            f"{'' if m3 is None else f'{100 * m3:.2f}'} | {'' if a3 is None else f'{100 * a3:.2f}'} | {arm['seconds_per_epoch']:.1f} |"
        )
    first = next(iter(results["arms"].values()), None)
    if first is not None and (first["excluded_ap"] or first["excluded_auroc"]):
        rows += ["", f"Excluded (no positive in the validation images): AP {first['excluded_ap']}, AUROC {first['excluded_auroc']}."]
    if "mpc_minus_an" in results:
        d = results["mpc_minus_an"]
        line = f"MPC − AN: {100 * d['map']:+.2f} mAP points, {100 * d['auroc']:+.2f} AUROC points"
        g = results.get("gap_closed") or {}
        if g.get("map") is not None:
            line += f"; share of the AN → full-label gap closed: {100 * g['map']:.0f} % (mAP)"
            if g.get("auroc") is not None:
                line += f", {100 * g['auroc']:.0f} % (AUROC)"
        rows += ["", line + "."]
    block = "\n".join([MARK_START, *rows, MARK_END])
    text = docs.read_text(encoding="utf-8") if docs.is_file() else f"{MARK_START}\n{MARK_END}\n"
    if MARK_START in text:
        text = text[: text.index(MARK_START)] + block + text[text.index(MARK_END) + len(MARK_END) :]
    else:
        text += "\n" + block + "\n"
    docs.parent.mkdir(parents=True, exist_ok=True)
    docs.write_text(text)


if __name__ == "__main__":
    sys.exit(main())
