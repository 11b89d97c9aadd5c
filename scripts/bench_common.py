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

__all__ = ["run_logged", "engine_epoch_seconds", "replace_block", "bundle_command", "figure_path"]


def bundle_command(config_files: Sequence[str], overrides: Mapping[str, object]) -> list[str]:
    """``python -m monai.bundle run`` with the configs (relative to the bundle) and ``--key value`` overrides."""
    configs = config_files[0] if len(config_files) == 1 else "[" + ",".join(f"'{c}'" for c in config_files) + "]"
    flags = [x for k, v in overrides.items() for x in (f"--{k}", str(v))]
    return [sys.executable, "-m", "monai.bundle", "run", "--config_file", configs, "--logging_file", "configs/logging.conf", *flags]


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
