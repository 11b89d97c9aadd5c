"""Self-supervised pretraining x label noise: the whole study grid from one YAML spec (Khanal et al. 2024's questions).

    python scripts/study_ssl_noise.py scripts/study_ssl_noise.yaml            # the default study
    python scripts/study_ssl_noise.py my_study.yaml --work_dir /data/study    # your data
    python scripts/study_ssl_noise.py my_study.yaml --dry_run                 # list the grid and what is cached

Grid: datasets x noise type (symmetric, pairflip, grouped) x noise rate x initialisation (``random`` or one of
``noisymed.engines.SSL_OBJECTIVES``) x strategy (a training method of ``noisymed.engines.METHODS`` with options).
Every run is the noisy-label bundle's own ``pretrain.json`` / ``train.json`` in a subprocess. At rate 0 the noise
type does not matter and each (dataset, initialisation, strategy) runs once (noise type ``none``).

* Pretraining runs once per (dataset, SSL method) and every cell of that dataset starts from it (SupCon, which
  reads the noisy labels, once per dataset, noise type and rate).
* Each pretraining and each cell lives in a folder named by a hash of its settings. A run writes into
  ``<folder>.partial`` and is renamed into place with its ``result.json`` only when it has finished, so a killed
  study resumes where it stopped (the unfinished run starts again), and a changed setting reruns only the runs
  whose settings it changes. The study's code is not part of the hash: after changing noisymed, pass ``--rerun``.
* Progress is printed over the whole grid: runs done, cached, elapsed, estimated time left.
* Validation labels carry the same noise as the training labels (``val_noise: true``, the default): the
  user's situation. Two model choices are reported, both scored on the *clean* validation labels: the last
  epoch (``acc_last``) and the epoch with the best noisy-validation accuracy (``acc_selected``).
* Written to ``--out_dir`` (atomically): ``results.csv`` (tidy, one row per cell), ``results.json`` (the spec, the
  cells with their per-epoch curves, the Fisher separability), ``summary.md``, ``pivot.md`` (a compact table per dataset,
  noise type and strategy: initialisations × rates), ``accuracy_<dataset>.png`` (accuracy
  against noise rate, one line per initialisation, one panel per noise type and strategy) and ``ssl_gain.png``
  (each SSL method's accuracy minus random initialisation's, averaged over the noisy rates).
* Dataset difficulty: Fisher's class separability ``trace(S_w^-1 S_b)`` of the training images' clean labels on a
  fixed, model-free feature space: the first ``fisher_components`` (32) principal components of the preprocessed
  pixels (each image scaled to [0, 1] at the bundle's spatial size; the first ``fisher_max_images`` (2000)
  training images), beside the drop in accuracy from rate 0 to the highest rate (random init, first strategy).

Seeds: ``seed: 0`` (one) or ``seeds: [0, 1, 2]``: every pretraining and cell runs once per seed (a seed's runs
are the one-seed study's with that seed, so adding seeds reuses them); tables and plots then give mean ± sd over the
seeds, and SSL gains and noise drops are paired by seed, with their 95 % t interval.

Spec keys (see scripts/study_ssl_noise.yaml): ``name``, ``seed`` or ``seeds``, ``epochs``, ``pretrain_epochs``, ``val_noise``,
``jobs`` (runs at once), ``threads`` (torch threads per run), ``overrides`` (bundle overrides for every run),
``pretrain_options``, ``datasets`` (name -> ``path`` [relative to the spec], optional ``overrides``,
``noise_groups``, ``noise_types``, ``noise_rates`` (a subset of the study's), ``epochs``, ``pretrain_epochs``),
``noise_types``, ``noise_rates``, ``initialisations``, ``strategies`` (name -> ``{method, options}`` or a list of method names),
``fisher_components``, ``fisher_max_images``.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import shutil
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import bundle_command, run_logged, stats, t_interval, thread_env  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
BUNDLE = REPO / "bundles" / "noisy_label_classification"

NOISE_TYPES = ("symmetric", "pairflip", "grouped")
SPEC_KEYS = {
    "name", "seed", "seeds", "epochs", "pretrain_epochs", "val_noise", "jobs", "threads", "overrides", "pretrain_options",
    "datasets", "noise_types", "noise_rates", "initialisations", "strategies", "fisher_components", "fisher_max_images",
}  # fmt: skip
DATASET_KEYS = {"path", "overrides", "noise_groups", "noise_types", "noise_rates", "epochs", "pretrain_epochs"}
DEFAULTS = {
    "name": "study", "seed": 0, "epochs": 10, "pretrain_epochs": 5, "val_noise": True, "jobs": 1, "threads": 1,
    "overrides": {}, "pretrain_options": {}, "fisher_components": 32, "fisher_max_images": 2000,
}  # fmt: skip


class SpecError(ValueError):
    """A study spec that cannot run, with the offending key and value named."""


# ---------------------------------------------------------------------------------------------------------- spec
def load_spec(path: str | Path) -> dict:
    """Read and validate a study spec; dataset paths become absolute (relative ones are taken from the spec's folder).

    Raises:
        FileNotFoundError: for a missing spec or dataset.
        SpecError: for unknown keys, methods, objectives, noise types, rates out of [0, 1) or grouped noise
            without ``noise_groups``.
    """
    from noisymed.engines import METHODS, SSL_OBJECTIVES

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: study spec not found.")
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(raw, dict):
        raise SpecError(f"{path}: a study spec is a mapping of keys, got {type(raw).__name__}.")
    unknown = sorted(set(raw) - SPEC_KEYS)
    if unknown:
        raise SpecError(f"{path}: unknown key(s) {unknown}; known: {sorted(SPEC_KEYS)}.")
    spec = {**DEFAULTS, **raw}
    if "seed" in raw and "seeds" in raw:
        raise SpecError(f"{path}: give 'seed' (one) or 'seeds' (a list), not both.")
    seeds = raw.get("seeds", [spec["seed"]])
    if (
        not isinstance(seeds, list)
        or not seeds
        or len(set(seeds)) != len(seeds)
        or not all(isinstance(x, int) for x in seeds)
    ):
        raise SpecError(f"{path}: 'seeds' must be a non-empty list of distinct integers, got {seeds!r}.")
    spec["seeds"], spec["seed"] = list(seeds), seeds[0]
    for key in ("datasets", "noise_rates", "initialisations", "strategies"):
        if not spec.get(key):
            raise SpecError(f"{path}: {key!r} is missing or empty.")
    spec.setdefault("noise_types", ["symmetric"])
    rates = [float(r) for r in spec["noise_rates"]]
    bad = [r for r in rates if not 0.0 <= r < 1.0]
    if bad:
        raise SpecError(f"{path}: noise_rates must be in [0, 1), got {bad}.")
    spec["noise_rates"] = sorted(set(rates))
    inits = list(spec["initialisations"])
    wrong = [i for i in inits if i != "random" and i not in SSL_OBJECTIVES]
    if wrong:
        raise SpecError(f"{path}: unknown initialisation(s) {wrong}; known: ['random', *{list(SSL_OBJECTIVES)}].")
    strategies = spec["strategies"]
    if isinstance(strategies, list):
        strategies = {m: {"method": m} for m in strategies}
    for name, s in strategies.items():
        s = {"method": s} if isinstance(s, str) else dict(s)
        if s.get("method") not in METHODS:
            raise SpecError(f"{path}: strategy {name!r} has method {s.get('method')!r}; known: {list(METHODS)}.")
        strategies[name] = {"method": s["method"], "options": dict(s.get("options") or {})}
    spec["strategies"] = strategies
    datasets = {}
    for name, d in spec["datasets"].items():
        d = {"path": d} if isinstance(d, str) else dict(d)
        extra = sorted(set(d) - DATASET_KEYS)
        if extra:
            raise SpecError(f"{path}: dataset {name!r} has unknown key(s) {extra}; known: {sorted(DATASET_KEYS)}.")
        data = Path(str(d.get("path", ""))).expanduser()
        data = data if data.is_absolute() else (path.parent / data)
        if not data.exists():
            raise FileNotFoundError(f"{data}: dataset {name!r} of {path} not found.")
        types = list(d.get("noise_types") or spec["noise_types"])
        for t in types:
            if t not in NOISE_TYPES:
                raise SpecError(f"{path}: noise type {t!r} of dataset {name!r} is not one of {NOISE_TYPES}.")
        if "grouped" in types and not d.get("noise_groups"):
            raise SpecError(
                f"{path}: dataset {name!r} uses grouped noise but gives no noise_groups, e.g. [[0, 1], [2, 3, 4]]."
            )
        d_rates = sorted({float(r) for r in d.get("noise_rates") or spec["noise_rates"]})
        if not set(d_rates) <= set(spec["noise_rates"]):
            raise SpecError(
                f"{path}: dataset {name!r} has noise_rates {d_rates} outside the study's {spec['noise_rates']}."
            )
        datasets[name] = {
            "path": str(data.resolve()),
            "noise_rates": d_rates,
            "overrides": dict(d.get("overrides") or {}),
            "noise_groups": d.get("noise_groups"),
            "noise_types": types,
            "epochs": int(d.get("epochs", spec["epochs"])),
            "pretrain_epochs": int(d.get("pretrain_epochs", spec["pretrain_epochs"])),
        }
    spec["datasets"] = datasets
    return spec


def _digest(settings: dict) -> str:
    return hashlib.sha1(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()[:12]


def _data_stamp(path: str) -> dict:
    """What identifies a dataset's content cheaply: its path, size and modification time (a folder: its own)."""
    st = Path(path).stat()
    return {"path": path, "size": st.st_size, "mtime_ns": st.st_mtime_ns}


# ---------------------------------------------------------------------------------------------------------- plan
def plan(spec: dict, work_dir: Path) -> tuple[list[dict], list[dict]]:
    """The pretraining runs and cells of the grid, each with its settings, hash and folder."""
    pretrains: dict[str, dict] = {}
    cells: list[dict] = []
    for seed, (dname, d) in ((seed, item) for seed in spec["seeds"] for item in spec["datasets"].items()):
        base = {**spec["overrides"], **d["overrides"], "dataset": d["path"], "seed": seed}
        combos = [("none", 0.0)] if 0.0 in d["noise_rates"] else []
        combos += [(t, r) for t in d["noise_types"] for r in d["noise_rates"] if r > 0]
        for noise_type, rate in combos:
            noise = {"noise_type": "symmetric" if noise_type == "none" else noise_type, "noise_rate": rate}
            if noise_type == "grouped":
                noise["noise_groups"] = d["noise_groups"]
            for init in spec["initialisations"]:
                pre = None
                if init != "random":
                    pre_settings = {
                        "kind": "pretrain", "data": _data_stamp(d["path"]), **base, "objective": init,
                        "pretrain_epochs": d["pretrain_epochs"], "pretrain_options": spec["pretrain_options"],
                        **(noise if init == "supcon" else {}),
                    }  # fmt: skip
                    key = _digest(pre_settings)
                    pre = pretrains.setdefault(key, {
                        "key": key, "dataset": dname, "objective": init, "seed": seed, "settings": pre_settings,
                        "dir": work_dir / "pretrain" / f"{dname}_{init}_{key}",
                    })  # fmt: skip
                for sname, strategy in spec["strategies"].items():
                    settings = {
                        "kind": "cell", "data": _data_stamp(d["path"]), **base, **noise, "epochs": d["epochs"],
                        "val_noise": bool(spec["val_noise"]), "method": strategy["method"],
                        "method_options": strategy["options"], "init": init, "pretrain": pre["key"] if pre else None,
                    }  # fmt: skip
                    key = _digest(settings)
                    cells.append({
                        "key": key, "dataset": dname, "noise_type": noise_type, "noise_rate": rate, "init": init,
                        "strategy": sname, "seed": seed, "settings": settings, "pretrain": pre,
                        "dir": work_dir / "cells" / dname / key,
                    })  # fmt: skip
    return list(pretrains.values()), cells


# ----------------------------------------------------------------------------------------------------------- run
class Progress:
    """Runs done over the whole grid, elapsed time and an estimate of the time left: for each kind of run
    (pretraining, cell) the mean time of those made in this session times those left, over the parallel jobs."""

    def __init__(self, totals: dict[str, int]) -> None:
        self.totals, self.total = dict(totals), sum(totals.values())
        self.done, self.cached, self.ran = 0, 0, 0
        self.left = dict(totals)
        self.seconds: dict[str, list[float]] = {kind: [] for kind in totals}
        self.start = time.time()
        self.lock = threading.Lock()

    def eta(self, jobs: int) -> float:
        """Seconds left: per kind, the mean of its measured runs (else of all measured runs) times those left."""
        measured = [t for ts in self.seconds.values() for t in ts]
        if not measured:
            return 0.0
        total = 0.0
        for kind, left in self.left.items():
            times = self.seconds[kind] or measured
            total += left * sum(times) / len(times)
        return total / max(1, jobs)

    def step(self, kind: str, what: str, seconds: float | None, jobs: int) -> None:
        with self.lock:
            self.done += 1
            self.left[kind] -= 1
            if seconds is None:
                self.cached += 1
            else:
                self.ran += 1
                self.seconds[kind].append(seconds)
            print(
                f"[{self.done}/{self.total} runs, {self.cached} cached | elapsed {_clock(time.time() - self.start)}, "
                f"~{_clock(self.eta(jobs))} left] {what}",
                flush=True,
            )


def _clock(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


def _finished(run_dir: Path, rerun: bool) -> dict | None:
    result = run_dir / "result.json"
    if rerun or not result.is_file():
        return None
    return json.loads(result.read_text(encoding="utf-8"))


def _run_in_partial(run_dir: Path, configs: list[str], overrides: dict, env: dict) -> tuple[Path, float, str]:
    """Run the bundle into ``<run_dir>.partial`` (cleared first: it is what a killed run left)."""
    partial = run_dir.with_name(run_dir.name + ".partial")
    if partial.exists():
        shutil.rmtree(partial)
    partial.mkdir(parents=True)
    log = partial / "run.log"
    wall, _ = run_logged(bundle_command(configs, {**overrides, "bundle_root": str(partial)}), log, BUNDLE, env)
    return partial, wall, log.read_text(encoding="utf-8", errors="replace")


def _commit(partial: Path, run_dir: Path, record: dict) -> None:
    """Write ``result.json`` into the finished run and rename the run into place."""
    from noisymed.utils import write_text_atomic

    write_text_atomic(partial / "result.json", json.dumps(record, indent=2) + "\n")
    if run_dir.exists():  # a --rerun of a finished run
        shutil.rmtree(run_dir)
    partial.rename(run_dir)


def _bundle_overrides(settings: dict) -> dict:
    drop = {"kind", "data", "objective", "init", "pretrain"}
    out = {k: v for k, v in settings.items() if k not in drop and v is not None}
    if not out.get("method_options"):
        out.pop("method_options", None)
    if not out.get("pretrain_options"):
        out.pop("pretrain_options", None)
    return out


def run_pretrain(pre: dict, env: dict, rerun: bool) -> float | None:
    """Pretrain once; None when a finished run with the same settings exists."""
    if _finished(pre["dir"], rerun):
        return None
    overrides = {**_bundle_overrides(pre["settings"]), "pretrain_objective": pre["objective"]}
    partial, wall, _ = _run_in_partial(pre["dir"], ["configs/train.json", "configs/pretrain.json"], overrides, env)
    _commit(partial, pre["dir"], {"settings": pre["settings"], "wall_seconds": wall})
    return wall


def parse_curve(log: str) -> list[dict[str, float]]:
    """Per-epoch validation metrics from MONAI's StatsHandler lines ('Epoch[k] Metrics -- val_acc: a val_auc: b')."""
    import re

    curve = []
    for epoch, rest in re.findall(r"Epoch\[(\d+)\] Metrics -- (.*)", log):
        row = {"epoch": int(epoch)}
        row.update({k: float(v) for k, v in re.findall(r"(\w+): ([-+\w.]+)", rest)})
        curve.append(row)
    return curve


def summarise_curve(curve: list[dict], val_noise: bool) -> dict:
    """The two model choices, scored on clean validation labels: the last epoch and the best validation-accuracy
    epoch (validation labels noisy when ``val_noise``; ties go to the earlier epoch, as the checkpoint saver does).

    Raises:
        ValueError: for an empty curve or one without the clean accuracy a noisy validation must log.
    """
    if not curve:
        raise ValueError("no validation metrics in the run's log.")
    clean = "val_clean_acc" if val_noise else "val_acc"
    if clean not in curve[-1]:
        raise ValueError(f"the run's log has no {clean!r} (metrics: {sorted(curve[-1])}).")
    selected = max(curve, key=lambda m: (m["val_acc"], -m["epoch"]))
    return {
        "acc_last": curve[-1][clean],
        "acc_selected": selected[clean],
        "selected_epoch": selected["epoch"],
        "val_acc_last": curve[-1]["val_acc"],
        "val_auc_last": curve[-1].get("val_auc"),
        "epochs": len(curve),
    }


def run_cell(cell: dict, env: dict, rerun: bool) -> tuple[dict, float | None]:
    """Train one cell (or reuse it); returns its result and the seconds it took (None when cached)."""
    done = _finished(cell["dir"], rerun)
    if done:
        return done["result"], None
    overrides = _bundle_overrides(cell["settings"])
    if cell["pretrain"] is not None:
        overrides["pretrained"] = str(cell["pretrain"]["dir"] / "models" / "pretrained.pt")
    partial, wall, log = _run_in_partial(cell["dir"], ["configs/train.json"], overrides, env)
    curve = parse_curve(log)
    result = {**summarise_curve(curve, cell["settings"]["val_noise"]), "wall_seconds": wall, "curve": curve}
    _commit(partial, cell["dir"], {"settings": cell["settings"], "result": result})
    return result, wall


# -------------------------------------------------------------------------------------------------------- fisher
def dataset_separability(path: str, overrides: dict, components: int, max_images: int, cache_dir: Path) -> dict:
    """Fisher's separability of a dataset's clean training labels on the PCA pixel features (cached by settings)."""
    from monai.transforms import Compose, Resized, ScaleIntensityd

    from noisymed.data import classification_splits
    from noisymed.metrics import fisher_separability, pca_features
    from noisymed.transforms import EnsureChannelsd, LoadClassificationImaged
    from noisymed.utils import write_text_atomic

    settings = {"data": _data_stamp(path), "components": components, "max_images": max_images,
                "spatial_size": overrides.get("spatial_size")}  # fmt: skip
    cache = cache_dir / f"fisher_{_digest(settings)}.json"
    if cache.is_file():
        return json.loads(cache.read_text(encoding="utf-8"))
    split = classification_splits(path)
    dims = split["spatial_dims"] or 2
    size = overrides.get("spatial_size") or split["spatial_size"] or [28] * dims
    load = Compose([
        LoadClassificationImaged("image", spatial_dims=dims),
        EnsureChannelsd("image", channels=split["channels"] or 1),
        ScaleIntensityd("image", minv=0.0, maxv=1.0),
        Resized("image", spatial_size=size),
    ])  # fmt: skip
    items = split["train"][:max_images]
    images = np.stack([np.asarray(load(dict(item))["image"], dtype=np.float32) for item in items])
    labels = np.array([int(item["label"]) for item in items])
    value = fisher_separability(pca_features(images, components), labels)
    record = {"fisher": value, "images": len(items), "components": components,
              "feature_space": f"first {components} principal components of the [0, 1]-scaled pixels at {list(size)}"}  # fmt: skip
    write_text_atomic(cache, json.dumps(record, indent=2) + "\n")
    return record


# ------------------------------------------------------------------------------------------------------- reports
ROW_KEYS = ["dataset", "noise_type", "noise_rate", "init", "strategy", "method", "seed", "epochs", "val_noise",
            "acc_last", "acc_selected", "selected_epoch", "val_acc_last", "val_auc_last", "wall_seconds", "cell"]  # fmt: skip


def tidy_rows(spec: dict, cells: list[dict], results: dict[str, dict]) -> list[dict]:
    rows = []
    for c in cells:
        r = results[c["key"]]
        rows.append({
            "dataset": c["dataset"], "noise_type": c["noise_type"], "noise_rate": c["noise_rate"], "init": c["init"],
            "strategy": c["strategy"], "method": c["settings"]["method"], "seed": c["seed"],
            "epochs": c["settings"]["epochs"], "val_noise": c["settings"]["val_noise"],
            **{k: r.get(k) for k in ("acc_last", "acc_selected", "selected_epoch", "val_acc_last", "val_auc_last", "wall_seconds")},
            "cell": c["key"],
        })  # fmt: skip
    return rows


def _lookup(rows: list[dict]) -> dict:
    return {(r["dataset"], r["noise_type"], r["noise_rate"], r["init"], r["strategy"], r["seed"]): r for r in rows}


def _spread(values: list[float]) -> dict:
    """Mean, sd (None for one value), n, the values, and the 95 % t interval of the mean (None below two)."""
    return {**stats(values), "ci95": t_interval(values)}


def mean_rows(rows: list[dict]) -> list[dict]:
    """One row per (dataset, noise type, rate, init, strategy): both accuracies' mean and sd over the seeds."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["dataset"], r["noise_type"], r["noise_rate"], r["init"], r["strategy"]), []).append(r)
    out = []
    for (dataset, noise_type, rate, init, strategy), rs in groups.items():
        out.append({
            "dataset": dataset, "noise_type": noise_type, "noise_rate": rate, "init": init, "strategy": strategy,
            "seeds": [r["seed"] for r in rs],
            **{k: _spread([r[k] for r in rs]) for k in ("acc_last", "acc_selected")},
            "selected_epochs": [r["selected_epoch"] for r in rs],
        })  # fmt: skip
    return out


def gains(rows: list[dict]) -> list[dict]:
    """Each SSL initialisation's accuracy minus random initialisation's, per dataset/noise type/strategy: per seed
    the mean over the noisy rates of the difference paired by rate and seed, then mean ± sd and the t interval
    over the seeds (both model choices)."""
    table = _lookup(rows)
    out = []
    groups = sorted(
        {
            (r["dataset"], r["noise_type"], r["init"], r["strategy"])
            for r in rows
            if r["init"] != "random" and r["noise_type"] != "none"
        }
    )
    for dataset, noise_type, init, strategy in groups:
        per_seed: dict[int, dict[str, list[float]]] = {}
        for (d, t, rate, i, st, seed), r in table.items():
            base = table.get((d, t, rate, "random", st, seed))
            if (d, t, i, st) == (dataset, noise_type, init, strategy) and base:
                diffs = per_seed.setdefault(seed, {"acc_last": [], "acc_selected": []})
                for k in diffs:
                    diffs[k].append(r[k] - base[k])
        if per_seed:
            seeds = sorted(per_seed)
            last = _spread([float(np.mean(per_seed[x]["acc_last"])) for x in seeds])
            selected = _spread([float(np.mean(per_seed[x]["acc_selected"])) for x in seeds])
            out.append({"dataset": dataset, "noise_type": noise_type, "init": init, "strategy": strategy,
                        "gain_last": last["mean"], "gain_selected": selected["mean"], "gain_last_stats": last,
                        "gain_selected_stats": selected, "seeds": seeds,
                        "rates": len(per_seed[seeds[0]]["acc_last"])})  # fmt: skip
    return out


def accuracy_drops(spec: dict, rows: list[dict]) -> list[dict]:
    """Accuracy at rate 0 minus accuracy at the highest rate, random init, first strategy, per noise type: paired
    by seed, mean ± sd over the seeds."""
    table = _lookup(rows)
    strategy = next(iter(spec["strategies"]))
    out = []
    for dname, d in spec["datasets"].items():
        top = max(d.get("noise_rates") or spec["noise_rates"])
        for t in d["noise_types"]:
            pairs = [(table.get((dname, "none", 0.0, "random", strategy, x)), table.get((dname, t, top, "random", strategy, x)))
                     for x in spec["seeds"]]  # fmt: skip
            pairs = [(c, n) for c, n in pairs if c and n]
            if pairs and top > 0:
                last = _spread([c["acc_last"] - n["acc_last"] for c, n in pairs])
                selected = _spread([c["acc_selected"] - n["acc_selected"] for c, n in pairs])
                out.append({"dataset": dname, "noise_type": t, "rate": top, "strategy": strategy,
                            "drop_last": last["mean"], "drop_selected": selected["mean"], "drop_last_stats": last,
                            "drop_selected_stats": selected, "seeds": len(pairs)})  # fmt: skip
    return out


def _save_png(fig: Any, path: Path) -> None:
    from noisymed.utils import atomic_path

    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")


def plot(spec: dict, rows: list[dict], gain_rows: list[dict], out_dir: Path) -> list[Path]:
    """accuracy_<dataset>.png per dataset and ssl_gain.png; returns the files written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table, written = {
        (m["dataset"], m["noise_type"], m["noise_rate"], m["init"], m["strategy"]): m for m in mean_rows(rows)
    }, []
    inits, strategies = spec["initialisations"], list(spec["strategies"])
    for dname, d in spec["datasets"].items():
        types = d["noise_types"]
        fig, axes = plt.subplots(
            len(strategies), len(types), figsize=(4 * len(types), 3.2 * len(strategies)), squeeze=False
        )
        for si, s in enumerate(strategies):
            for ti, t in enumerate(types):
                ax = axes[si][ti]
                for init in inits:
                    xs, ys, sds = [], [], []
                    for rate in spec["noise_rates"]:
                        r = table.get((dname, "none" if rate == 0 else t, rate, init, s))
                        if r:
                            xs.append(rate)
                            ys.append(r["acc_last"]["mean"])
                            sds.append(r["acc_last"]["sd"] or 0.0)
                    if xs:
                        ax.errorbar(xs, ys, yerr=sds if any(sds) else None, marker="o", capsize=2, label=init)
                ax.set_title(f"{dname}: {t} noise, {s}", fontsize=9)
                ax.set_xlabel("noise rate")
                ax.set_ylabel(
                    "clean val. accuracy (last epoch)"
                    + (f", mean ± sd of {len(spec['seeds'])} seeds" if len(spec["seeds"]) > 1 else ""),
                    fontsize=8,
                )
                ax.grid(alpha=0.3)
        axes[0][0].legend(fontsize=7)
        path = out_dir / f"accuracy_{dname}.png"
        _save_png(fig, path)
        plt.close(fig)
        written.append(path)
    if gain_rows:
        labels = sorted({(g["dataset"], g["noise_type"], g["strategy"]) for g in gain_rows})
        ssl = [i for i in inits if i != "random"]
        fig, ax = plt.subplots(figsize=(max(5, 1.2 * len(labels) * max(1, len(ssl)) / 2), 3.5))
        width = 0.8 / max(1, len(ssl))
        for k, init in enumerate(ssl):
            found = [
                next(
                    (
                        g
                        for g in gain_rows
                        if (g["dataset"], g["noise_type"], g["strategy"]) == lab and g["init"] == init
                    ),
                    None,
                )
                for lab in labels
            ]
            values = [g["gain_last"] if g else np.nan for g in found]
            sds = [(g["gain_last_stats"]["sd"] or 0.0) if g else 0.0 for g in found]
            ax.bar(np.arange(len(labels)) + k * width, 100 * np.array(values), width, label=init,
                   yerr=100 * np.array(sds) if any(sds) else None, capsize=2)  # fmt: skip
        ax.axhline(0, color="k", lw=0.8)
        ax.set_xticks(np.arange(len(labels)) + width * (len(ssl) - 1) / 2)
        ax.set_xticklabels(["\n".join(lab) for lab in labels], fontsize=7)
        ax.set_ylabel("accuracy gain over random init (points)")
        ax.set_title("robustness gain of SSL pretraining (mean over noisy rates, last epoch)", fontsize=9)
        ax.legend(fontsize=7)
        path = out_dir / "ssl_gain.png"
        _save_png(fig, path)
        plt.close(fig)
        written.append(path)
    return written


def _pm(x: dict, scale: float = 1.0, fmt: str = ".4f") -> str:
    """``mean`` for one seed, ``mean ± sd`` for several."""
    return f"{scale * x['mean']:{fmt}}" + (f" ± {scale * x['sd']:{fmt.lstrip('+')}}" if x.get("sd") is not None else "")


def _ci(x: dict) -> str:
    return f"[{100 * x['ci95'][0]:+.1f}, {100 * x['ci95'][1]:+.1f}]" if x.get("ci95") else "-"


def pivot_markdown(spec: dict, rows: list[dict]) -> str:
    """Compact tables, one per (dataset, noise type, strategy): a row per initialisation, a column per noise rate,
    each cell ``last / selected`` clean validation accuracy in percent (mean over the seeds)."""
    means = {(m["dataset"], m["noise_type"], m["noise_rate"], m["init"], m["strategy"]): m for m in mean_rows(rows)}
    lines = []
    for dname, d in spec["datasets"].items():
        rates = d.get("noise_rates") or spec["noise_rates"]
        for t in d["noise_types"]:
            for sname in spec["strategies"]:
                head = [f"{r:g}" for r in rates]
                lines += [f"**{dname}, {t} noise, {sname}** (clean val. accuracy %, last / selected epoch)", "",
                          "| init | " + " | ".join(head) + " |", "|---|" + "---|" * len(rates)]  # fmt: skip
                for init in spec["initialisations"]:
                    cells = []
                    for r in rates:
                        m = means.get((dname, "none" if r == 0 else t, r, init, sname))
                        cells.append(
                            f"{100 * m['acc_last']['mean']:.1f} / {100 * m['acc_selected']['mean']:.1f}" if m else "-"
                        )
                    lines.append(f"| {init} | " + " | ".join(cells) + " |")
                lines.append("")
    return "\n".join(lines)


def summary_markdown(
    spec: dict, rows: list[dict], gain_rows: list[dict], drops: list[dict], fisher: dict, command: str
) -> str:
    n = len(spec["seeds"])
    seeds = (
        f"seed {spec['seeds'][0]}"
        if n == 1
        else f"seeds {', '.join(map(str, spec['seeds']))}: mean ± sd over {n} seeds"
    )
    lines = [
        f"Reproduce: `{command}` ({seeds}; {spec['jobs']} run(s) at once, {spec['threads']} torch thread(s) each).",
        f"Validation labels {'carry the training noise' if spec['val_noise'] else 'are clean'}; accuracies below are on the clean "
        "validation labels: *last* = last epoch, *selected* = epoch of the best (noisy) validation accuracy.",
        "",
        "| dataset | noise | rate | init | strategy | acc last | acc selected (epoch) |",
        "|---|---|---|---|---|---|---|",
    ]
    for m in mean_rows(rows):
        epochs = ", ".join(map(str, m["selected_epochs"]))
        lines.append(f"| {m['dataset']} | {m['noise_type']} | {m['noise_rate']:g} | {m['init']} | {m['strategy']} | "
                     f"{_pm(m['acc_last'])} | {_pm(m['acc_selected'])} ({epochs}) |")  # fmt: skip
    if gain_rows:
        lines += ["", "| dataset | noise | SSL init | strategy | gain over random, last (points) | 95 % CI | "
                      "gain, selected (points) | 95 % CI |", "|---|---|---|---|---|---|---|---|"]  # fmt: skip
        for g in gain_rows:
            lines.append(f"| {g['dataset']} | {g['noise_type']} | {g['init']} | {g['strategy']} | "
                         f"{_pm(g['gain_last_stats'], 100, '+.2f')} | {_ci(g['gain_last_stats'])} | "
                         f"{_pm(g['gain_selected_stats'], 100, '+.2f')} | {_ci(g['gain_selected_stats'])} |")  # fmt: skip
    lines += [
        "",
        "| dataset | Fisher separability (PCA pixels) | noise | accuracy drop 0 -> max rate, last (points) |",
        "|---|---|---|---|",
    ]
    for dname in spec["datasets"]:
        ds = [x for x in drops if x["dataset"] == dname] or [None]
        for x in ds:
            drop = f"{x['noise_type']} {x['rate']:g} | {_pm(x['drop_last_stats'], 100, '+.2f')}" if x else "- | -"
            lines.append(f"| {dname} | {fisher[dname]['fisher']:.3f} | {drop} |")
    return "\n".join(lines)


def write_reports(spec: dict, cells: list[dict], results: dict, fisher: dict, out_dir: Path, command: str) -> dict:
    from noisymed.utils import write_text_atomic

    rows = tidy_rows(spec, cells, results)
    gain_rows, drops = gains(rows), accuracy_drops(spec, rows)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=ROW_KEYS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(out_dir / "results.csv", buf.getvalue())
    report = {
        "spec": spec, "command": command, "rows": rows, "means": mean_rows(rows), "gains": gain_rows,
        "accuracy_drops": drops, "fisher": fisher,
        "curves": {c["key"]: results[c["key"]].get("curve") for c in cells},
    }  # fmt: skip
    write_text_atomic(out_dir / "results.json", json.dumps(report, indent=2, default=str) + "\n")
    write_text_atomic(out_dir / "summary.md", summary_markdown(spec, rows, gain_rows, drops, fisher, command) + "\n")
    write_text_atomic(out_dir / "pivot.md", pivot_markdown(spec, rows) + "\n")
    plot(spec, rows, gain_rows, out_dir)
    return report


# ---------------------------------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("spec", help="study spec (YAML)")
    p.add_argument("--work_dir", default=None, help="runs go here (default: benchmarks/runs/ssl_noise/<name>)")
    p.add_argument("--out_dir", default=None, help="tables and plots go here (default: <work_dir>/report)")
    p.add_argument("--jobs", type=int, default=None, help="runs at once (overrides the spec)")
    p.add_argument("--rerun", action="store_true", help="run again even what has a finished result")
    p.add_argument("--dry_run", action="store_true", help="list the grid and what is cached, run nothing")
    args = p.parse_args(argv)
    try:
        spec = load_spec(args.spec)
    except (SpecError, FileNotFoundError) as err:
        p.error(str(err))
    if args.jobs:
        spec["jobs"] = args.jobs
    work_dir = Path(args.work_dir or REPO / "benchmarks" / "runs" / "ssl_noise" / spec["name"]).resolve()
    out_dir = Path(args.out_dir).resolve() if args.out_dir else work_dir / "report"
    pretrains, cells = plan(spec, work_dir)
    cached = sum(_finished(x["dir"], args.rerun) is not None for x in [*pretrains, *cells])
    print(f"study {spec['name']!r}: {len(pretrains)} pretraining run(s) + {len(cells)} cell(s), {cached} finished already; "
          f"work dir {work_dir}", flush=True)  # fmt: skip
    if args.dry_run:
        for x in pretrains:
            print(f"  pretrain {x['dataset']} {x['objective']}: {'cached' if _finished(x['dir'], False) else 'to run'}")
        for c in cells:
            print(f"  cell {c['dataset']} {c['noise_type']} {c['noise_rate']} {c['init']} {c['strategy']}: "
                  f"{'cached' if _finished(c['dir'], False) else 'to run'}")  # fmt: skip
        return 0
    env = thread_env(int(spec["threads"]))
    progress = Progress({"pretrain": len(pretrains), "cell": len(cells)})
    with ThreadPoolExecutor(max_workers=int(spec["jobs"])) as pool:
        futures = {pool.submit(run_pretrain, x, env, args.rerun): x for x in pretrains}
        for future in as_completed(futures):  # reported as they finish, not in submission order
            x = futures[future]
            progress.step("pretrain", f"pretrain {x['dataset']} {x['objective']}", future.result(), int(spec["jobs"]))
        results: dict[str, dict] = {}
        futures = {pool.submit(run_cell, c, env, args.rerun): c for c in cells}
        for future in as_completed(futures):
            c = futures[future]
            result, seconds = future.result()
            results[c["key"]] = result
            progress.step("cell", f"{c['dataset']} {c['noise_type']} {c['noise_rate']:g} {c['init']} {c['strategy']}: "
                          f"acc last {result['acc_last']:.4f}, selected {result['acc_selected']:.4f}",
                          seconds, int(spec["jobs"]))  # fmt: skip
    fisher = {
        dname: dataset_separability(d["path"], {**spec["overrides"], **d["overrides"]}, int(spec["fisher_components"]),
                                    int(spec["fisher_max_images"]), work_dir / "fisher")
        for dname, d in spec["datasets"].items()
    }  # fmt: skip
    command = " ".join(["python", "scripts/study_ssl_noise.py", *(argv if argv is not None else sys.argv[1:])])
    write_reports(spec, cells, results, fisher, out_dir, command)
    print(f"ran {progress.ran}, reused {progress.cached}; results in {out_dir}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
