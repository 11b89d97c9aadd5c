"""What every benchmark script shares: run a bundle command with its log, read ignite's timings, update docs.

Imported by ``scripts/bench_*.py`` (run as ``python scripts/bench_<task>.py``, so this folder is on ``sys.path``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = [
    "run_logged",
    "engine_epoch_seconds",
    "replace_block",
    "bundle_command",
    "thread_env",
    "environment",
    "stats",
    "paired_t",
    "t_interval",
    "paired_difference",
    "figure_path",
]


def bundle_command(config_files: Sequence[str], overrides: Mapping[str, object]) -> list[str]:
    """``python -m monai.bundle run`` with the configs (relative to the bundle) and ``--key value`` overrides."""
    configs = config_files[0] if len(config_files) == 1 else "[" + ",".join(f"{c!r}" for c in config_files) + "]"
    flags = [x for k, v in overrides.items() for x in (f"--{k}", str(v))]
    return [
        sys.executable,
        "-m",
        "monai.bundle",
        "run",
        "--config_file",
        configs,
        "--logging_file",
        "configs/logging.conf",
        *flags,
    ]


def figure_path(out: Path, what: str) -> Path:
    """Where a benchmark's figure goes: next to its JSON, ``<json stem>_<what>.png``.

    The figures themselves are drawn by :func:`noisymed.utils.plot_curves` / :func:`noisymed.utils.plot_bars`
    (the ``plot`` extra), which every ``bench_*.py`` uses.
    """
    return Path(out).with_name(f"{Path(out).stem}_{what}.png")


def thread_env(threads: int) -> dict[str, str]:
    """Environment limiting a training process to ``threads`` OpenMP/MKL threads (two busy torch processes with
    more threads than cores run 10-20x slower)."""
    return {"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}


def run_logged(cmd: list[str], log: Path, cwd: Path, env: Mapping[str, str] | None = None) -> tuple[float, float]:
    """Run ``cmd`` in ``cwd`` with stdout and stderr in ``log``; return (wall seconds, peak RSS in GiB).

    Raises:
        RuntimeError: when the command fails, with the end of its log.
    """
    start = time.time()
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as f:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=f, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
        _, status, usage = os.wait4(proc.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
        raise RuntimeError(f"{' '.join(cmd[:6])} ... failed ({code}); see {log}\n{tail}")
    return time.time() - start, usage.ru_maxrss / 2**20


def engine_epoch_seconds(text: str, engine: str) -> list[float]:
    """The 'Epoch[k] Complete. Time taken: HH:MM:SS.fff' durations ignite logged for the engine class ``engine``."""
    pattern = rf"\.{engine} - INFO - Epoch\[\d+\] Complete\. Time taken: (\d+):(\d+):([\d.]+)"
    return [int(h) * 3600 + int(m) * 60 + float(s) for h, m, s in re.findall(pattern, text)]


def replace_block(docs: Path, start: str, end: str, block: str) -> None:
    """Put ``block`` between the ``start`` and ``end`` markers of ``docs`` (appended with markers if absent).

    The file is read and written as UTF-8 whatever the locale (the docs hold non-ASCII text; CI's locale is ASCII).
    """
    text = docs.read_text(encoding="utf-8") if docs.is_file() else ""
    wrapped = f"{start}\n{block}\n{end}"
    if start in text and end in text:
        text = text[: text.index(start)] + wrapped + text[text.index(end) + len(end) :]
    else:
        text = text + ("\n" if text else "") + wrapped + "\n"
    docs.parent.mkdir(parents=True, exist_ok=True)
    docs.write_text(text, encoding="utf-8")


def environment(threads: int, jobs: int = 1) -> dict:
    """What a benchmark's numbers depend on besides its options: threads, library versions, the code's commit.

    Training on CPU is bit-identical for the same command, seed, thread count, library versions and machine;
    change any of these and the numbers move (reductions are summed in another order).
    """
    import platform

    import monai
    import numpy
    import torch

    repo = Path(__file__).resolve().parents[1]

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return "unknown"

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "threads": threads,
        "jobs": jobs,
        "torch": torch.__version__,
        "monai": monai.__version__,
        "numpy": numpy.__version__,
        "python": platform.python_version(),
        "commit": git("rev-parse", "HEAD"),
        "uncommitted_changes": git("status", "--porcelain", "--untracked-files=no") not in ("", "unknown"),
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
    }


def stats(values: Sequence[float]) -> dict:
    """Mean, sample standard deviation (None for one value), n and the values."""
    n = len(values)
    if n == 0:
        raise ValueError("stats of no values")
    mean = sum(values) / n
    sd = (sum((v - mean) ** 2 for v in values) / (n - 1)) ** 0.5 if n > 1 else None
    return {"mean": mean, "sd": sd, "n": n, "values": list(values)}


def paired_t(diffs: Sequence[float]) -> float | None:
    """The paired t statistic mean / (sd / sqrt(n)) of per-run differences (None below two runs or for sd 0)."""
    s = stats(diffs)
    return s["mean"] / (s["sd"] / s["n"] ** 0.5) if s["sd"] else None


def t_interval(diffs: Sequence[float], level: float = 0.95) -> list[float] | None:
    """The two-sided t interval of the mean of paired differences (None below two runs)."""
    from scipy.stats import t as student_t

    s = stats(diffs)
    if s["n"] < 2:
        return None
    half = float(student_t.ppf(0.5 + level / 2, s["n"] - 1)) * s["sd"] / s["n"] ** 0.5
    return [s["mean"] - half, s["mean"] + half]


def paired_difference(a: Mapping[str, float], b: Mapping[str, float]) -> dict | None:
    """``a − b`` paired by run name (e.g. seed) over the names both have.

    Returns:
        None when no name is shared; else ``stats`` of the differences plus ``paired_t``, ``ci95`` and ``runs``.
    """
    names = [n for n in a if n in b]
    if not names:
        return None
    diffs = [a[n] - b[n] for n in names]
    return {**stats(diffs), "paired_t": paired_t(diffs), "ci95": t_interval(diffs), "runs": names}
