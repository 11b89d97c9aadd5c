"""Does storing a trained model's weights in float16 change what the bundle's own evaluation measures?

``python -m noisymed.export.fp16_check bundles/<name> --bundle_root RUN [--override KEY=JSON ...] [--out result.json]``

:func:`noisymed.export.half_precision_error` compares outputs on a random batch; this module answers the question
that matters for a published bundle: the same evaluation (``python -m monai.bundle run`` with the bundle's
``configs/train.json`` + ``configs/evaluate.json``, on the real validation data) run twice, on the trained
``models/model.pt`` as it is (float32) and on its float16 copy (:func:`noisymed.export.half_precision_state`, as
``python -m noisymed.export_bundle --weights fp16`` stores it), and the metrics and per-sample predictions of the
two runs side by side.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from noisymed.utils import write_text_atomic

from .weights import half_precision_state

__all__ = ["compare_fp16_evaluation", "read_metrics_csv", "compare_prediction_files", "main"]

_VARIANTS = ("fp32", "fp16")


def read_metrics_csv(path: str | Path) -> dict[str, float]:
    """The metrics of a MONAI ``MetricsSaver`` ``metrics.csv``: one ``name<delimiter>value`` line per metric.

    MONAI writes ``name,value`` by default (``delimiter`` may be set to a tab or another character); both are read.
    Lines whose value is not a number are left out.

    Args:
        path: the ``metrics.csv`` file.

    Returns:
        ``{name: value}`` in the file's order.

    Raises:
        FileNotFoundError: when the file is absent.
        ValueError: when it holds no numeric metric.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no metrics.csv: the evaluation did not write its metrics.")
    metrics: dict[str, float] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line:
            continue
        delimiter = "\t" if "\t" in line else ","
        name, _, value = line.partition(delimiter)
        try:
            metrics[name.strip()] = float(value.strip())
        except ValueError:
            continue
    if not metrics:
        raise ValueError(f"{path}: no 'name,value' line with a numeric value.")
    return metrics


def _read_score_table(path: Path) -> tuple[str, list[str], dict[str, list[float]]]:
    """(kind, score columns, {sample id: scores}) of a ``probabilities.csv`` or multi-label ``predictions.csv``."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    if not rows:
        raise ValueError(f"{path}: empty prediction file.")
    header, body = rows[0], rows[1:]
    if any(h.startswith("score:") for h in header):  # noisymed.metrics.save_multilabel_predictions
        kind, columns = "multilabel", [i for i, h in enumerate(header) if h.startswith("score:")]
    else:  # noisymed.data.ProbabilityCSVSaver: filename, <class>...
        kind, columns = "probabilities", list(range(1, len(header)))
    table: dict[str, list[float]] = {}
    for number, row in enumerate(body, start=2):
        key = row[0]
        if key in table:  # the same id twice: keep rows apart by their position
            key = f"{key}#{number}"
        table[key] = [float(row[i]) for i in columns]
    return kind, [header[i] for i in columns], table


def compare_prediction_files(full: str | Path, half: str | Path) -> dict[str, Any]:
    """Per-sample agreement of two prediction files of the same evaluation (float32 vs float16 weights).

    Rows are matched by their first column (file name or id). For a softmax ``probabilities.csv`` the argmax is
    the predicted class; for a multi-label ``predictions.csv`` (``score:<class>`` columns) it is the top-scoring
    class, and the 0.5 decisions of every (sample, class) are compared as well when the scores are probabilities.

    Args:
        full: the file of the float32 run.
        half: the file of the float16 run.

    Returns:
        ``file``, ``kind`` (``probabilities`` or ``multilabel``), ``samples``, ``argmax_agreement`` (fraction of
        samples with the same argmax), ``argmax_changed`` (their number), ``max_abs_difference`` (largest
        absolute difference of any score), ``mean_abs_difference`` and, for multi-label probabilities,
        ``decision_agreement_at_0.5``.

    Raises:
        ValueError: when the two files have other columns or other samples.
    """
    kind, columns, a = _read_score_table(Path(full))
    kind_b, columns_b, b = _read_score_table(Path(half))
    if (kind, columns) != (kind_b, columns_b):
        raise ValueError(f"{full} and {half} have other columns: {columns} vs {columns_b}.")
    if set(a) != set(b):
        raise ValueError(
            f"{full} and {half} score other samples ({len(a)} vs {len(b)} rows, {len(set(a) ^ set(b))} unmatched)."
        )
    if not a:
        raise ValueError(f"{full}: no sample rows.")
    keys = list(a)
    x = torch.tensor([a[k] for k in keys], dtype=torch.float64)
    y = torch.tensor([b[k] for k in keys], dtype=torch.float64)
    same = x.argmax(1) == y.argmax(1)
    diff = (x - y).abs()
    out: dict[str, Any] = {
        "file": Path(full).name,
        "kind": kind,
        "samples": len(keys),
        "argmax_agreement": float(same.double().mean()),
        "argmax_changed": int((~same).sum()),
        "max_abs_difference": float(diff.max()),
        "mean_abs_difference": float(diff.mean()),
    }
    if kind == "multilabel" and bool(((x >= 0) & (x <= 1)).all()) and bool(((y >= 0) & (y <= 1)).all()):
        out["decision_agreement_at_0.5"] = float(((x >= 0.5) == (y >= 0.5)).double().mean())
    return out


def _override_flags(overrides: Mapping[str, Any]) -> list[str]:
    """``--key value`` pairs as MONAI's command line reads them (Python literals through ``fire``)."""
    flags = []
    for key, value in overrides.items():
        flags += [f"--{key}", value if isinstance(value, str) else str(value)]
    return flags


def _evaluate(bundle: Path, config_files: Sequence[str], root: Path, overrides: Mapping[str, Any], log: Path) -> None:
    """Run the bundle's evaluation with ``bundle_root=root`` and ``eval_dir=root/eval`` in a subprocess."""
    configs = config_files[0] if len(config_files) == 1 else "[" + ",".join(repr(str(c)) for c in config_files) + "]"
    cmd = [sys.executable, "-m", "monai.bundle", "run", "--config_file", configs]
    if (bundle / "configs" / "logging.conf").is_file():
        cmd += ["--logging_file", "configs/logging.conf"]
    cmd += _override_flags({**overrides, "bundle_root": str(root), "eval_dir": str(root / "eval")})
    # the subprocess imports the same noisymed as this process, whatever is installed
    package_parent = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [package_parent] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    )
    with open(log, "w", encoding="utf-8") as f:
        code = subprocess.call(cmd, cwd=bundle, stdout=f, stderr=subprocess.STDOUT, env=env)
    if code != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
        raise RuntimeError(f"the evaluation with bundle_root={root} failed ({code}); see {log}\n{tail}")


def compare_fp16_evaluation(
    bundle: str | Path,
    bundle_root: str | Path,
    config_files: Sequence[str] = ("configs/train.json", "configs/evaluate.json"),
    overrides: Mapping[str, Any] | None = None,
    work_dir: str | Path | None = None,
) -> dict[str, Any]:
    """Run a bundle's own evaluation on a trained model's float32 weights and on their float16 copy; compare.

    ``bundle_root`` (the training run, holding ``models/model.pt``) is only read. Each evaluation runs in its own
    folder, ``<work_dir>/fp32`` and ``<work_dir>/fp16``, used as ``--bundle_root``: a copy of the run's whole
    ``models/`` folder (``model_settings.json`` included), whose ``model.pt`` is byte-identical (``fp32``) or
    :func:`half_precision_state` of it saved with ``torch.save`` (``fp16``), and ``--eval_dir <folder>/eval``.
    Both runs therefore differ in the stored weights only; whatever the configs derive from ``bundle_root``
    besides ``models/`` (a noise record, a label file) is made the same way in both (point it at the run's own
    files with ``overrides``, e.g. ``{"labels_file": ...}``). The command is ``python -m monai.bundle run`` in
    a subprocess with the bundle folder as working directory, as the benchmark scripts run it.

    Args:
        bundle: the bundle folder (holding ``configs/``).
        bundle_root: the trained run (holding ``models/model.pt``).
        config_files: the evaluation's configs, relative to ``bundle``.
        overrides: further ``--key value`` overrides of both runs (the dataset and settings the run was trained
            with); ``bundle_root`` and ``eval_dir`` are set here. The runs' working directory is ``bundle``, so a
            relative path in a value is read from there: give absolute paths.
        work_dir: where the two folders and their logs go (kept); None: a temporary folder, removed afterwards.

    Returns:
        ``fp32`` and ``fp16``: the metrics of each ``eval/metrics.csv``; ``difference``: fp16 − fp32 of every
        metric both have; ``file_mb``: the size of each ``model.pt`` in MB (10^6 bytes, as the zoo's 25 MB limit);
        ``predictions``: :func:`compare_prediction_files` of ``eval/probabilities.csv`` or ``eval/predictions.csv``,
        or ``{"note": ...}`` where the evaluation writes neither (segmentation: masks are not compared);
        ``bundle``, ``bundle_root``, ``config_files``, ``overrides``.

    Raises:
        FileNotFoundError: when ``models/model.pt`` or a config is missing (the path named).
        FileExistsError: when ``work_dir`` already holds an ``fp32`` or ``fp16`` folder.
        ValueError: when ``overrides`` sets ``bundle_root`` or ``eval_dir``.
        TypeError: when ``model.pt`` is not a plain state dict.
        RuntimeError: when an evaluation fails (its log named, with its end).
    """
    bundle, run = Path(bundle).resolve(), Path(bundle_root).resolve()
    model = run / "models" / "model.pt"
    if not model.is_file():
        raise FileNotFoundError(
            f"{model}: no trained weights (models/model.pt) in {run}: pass the folder a training run wrote as --bundle_root."
        )
    missing = [c for c in config_files if not (bundle / c).is_file()]
    if missing:
        raise FileNotFoundError(f"{bundle}: config(s) {missing} not found: pass the bundle folder that holds them.")
    overrides = dict(overrides or {})
    reserved = sorted({"bundle_root", "eval_dir"} & set(overrides))
    if reserved:
        raise ValueError(
            f"overrides {reserved} are set by the check itself (one folder per evaluation): leave them out."
        )
    state = torch.load(model, map_location="cpu", weights_only=True)
    if not isinstance(state, Mapping):
        raise TypeError(f"{model}: holds a {type(state).__name__}, not a plain state dict.")
    half = half_precision_state(state)

    temporary = tempfile.TemporaryDirectory(prefix="fp16_check_") if work_dir is None else None
    work = Path(temporary.name if temporary is not None else work_dir).resolve()
    try:
        roots = {v: work / v for v in _VARIANTS}
        existing = [str(p) for p in roots.values() if p.exists()]
        if existing:
            raise FileExistsError(
                f"{existing[0]} already exists: pass another --work_dir (an earlier check is never replaced)."
            )
        for variant, root in roots.items():
            shutil.copytree(run / "models", root / "models")  # the whole folder: model_settings.json etc.
            if variant == "fp16":
                torch.save(half, root / "models" / "model.pt")
        result: dict[str, Any] = {
            "bundle": str(bundle),
            "bundle_root": str(run),
            "config_files": list(config_files),
            "overrides": overrides,
        }
        for variant, root in roots.items():
            _evaluate(bundle, config_files, root, overrides, work / f"{variant}.log")
            result[variant] = read_metrics_csv(root / "eval" / "metrics.csv")
        result["difference"] = {k: result["fp16"][k] - result["fp32"][k] for k in result["fp32"] if k in result["fp16"]}
        result["file_mb"] = {v: (roots[v] / "models" / "model.pt").stat().st_size / 1e6 for v in _VARIANTS}
        for name in ("probabilities.csv", "predictions.csv"):
            files = [roots[v] / "eval" / name for v in _VARIANTS]
            if all(f.is_file() for f in files):
                result["predictions"] = compare_prediction_files(*files)
                break
        else:
            result["predictions"] = {
                "note": "no per-sample prediction file (eval/probabilities.csv or eval/predictions.csv): not compared "
                "(segmentation bundles write masks; compare their metrics)"
            }
        if temporary is None:
            result["work_dir"] = str(work)
        return result
    finally:
        if temporary is not None:
            temporary.cleanup()


def _parse_override(text: str) -> tuple[str, Any]:
    """``KEY=JSON`` → (key, value); a value that is not JSON is kept as text."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"--override {text!r}: write KEY=VALUE (the value as JSON, e.g. epochs=5).")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line, run both evaluations, print (and write) the comparison as JSON.

    Args:
        argv: the arguments (None: ``sys.argv[1:]``).

    Returns:
        The exit status: 0 on success, 1 when the check cannot run (the cause on stderr).
    """
    parser = argparse.ArgumentParser(prog="python -m noisymed.export.fp16_check", description=__doc__.splitlines()[0])
    parser.add_argument("bundle", help="the bundle folder (holding configs/)")
    parser.add_argument("--bundle_root", required=True, help="the trained run (holding models/model.pt); only read")
    parser.add_argument(
        "--config_file", nargs="+", default=["configs/train.json", "configs/evaluate.json"],
        help="the evaluation's configs, relative to the bundle (default: configs/train.json configs/evaluate.json)",
    )  # fmt: skip
    parser.add_argument("--override", action="append", type=_parse_override, default=[], metavar="KEY=JSON",
                        help="an override of both evaluations (repeatable; paths absolute), "
                        "e.g. --override dataset='\"/data/x.npz\"'")  # fmt: skip
    parser.add_argument("--work_dir", default=None, help="keep the two evaluations here (default: a temporary folder)")
    parser.add_argument("--out", default=None, help="write the comparison to this JSON file (atomically)")
    args = parser.parse_args(argv)
    try:
        result = compare_fp16_evaluation(
            args.bundle, args.bundle_root, args.config_file, dict(args.override), args.work_dir
        )
    except (FileNotFoundError, FileExistsError, TypeError, RuntimeError, ValueError) as err:
        print(f"fp16 check failed: {err}", file=sys.stderr)
        return 1
    text = json.dumps(result, indent=2) + "\n"
    if args.out:
        write_text_atomic(args.out, text)
    print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
