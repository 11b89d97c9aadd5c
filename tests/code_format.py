"""The model zoo's code-format checks (flake8, isort, black) run with this repository's settings, for the tests.

The settings are the zoo's: ``.flake8`` (its flake8 config) and ``pyproject.toml`` (``[tool.black]``, ``[tool.isort]``).
Files are named one by one, never a folder: given a folder, black and isort leave out the files under ``dist/`` or
``build/`` (where an exported bundle may lie) and would pass having checked nothing.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: import name -> the package that provides it (the flake8 plugins only add checks: without them flake8 passes more).
TOOLS = {
    "flake8": "flake8",
    "bugbear": "flake8-bugbear",
    "pep8ext_naming": "pep8-naming",
    "isort": "isort",
    "black": "black",
}


def missing_tools() -> list[str]:
    """The packages of :data:`TOOLS` that are not installed."""
    return [package for module, package in TOOLS.items() if importlib.util.find_spec(module) is None]


def skip_reason() -> str | None:
    """Why the checks cannot run here (a tool is missing), or None."""
    missing = missing_tools()
    if missing:
        return f"code-format tools not installed: {', '.join(missing)} (pip install -e '.[test]')"
    return None


def format_problems(files: Iterable[str | Path], cwd: str | Path = REPO) -> dict[str, str]:
    """The output of each check that fails on ``files``: ``{"flake8" | "isort" | "black": output}``; empty if all pass.

    Raises:
        ValueError: when ``files`` is empty.
    """
    files = [str(f) for f in files]
    if not files:
        raise ValueError("no file to check.")
    commands = {
        "flake8": ["-m", "flake8", "--config", str(REPO / ".flake8"), *files],
        "isort": ["-m", "isort", "--check-only", "--settings-path", str(REPO), *files],
        "black": ["-m", "black", "--check", "--config", str(REPO / "pyproject.toml"), *files],
    }
    problems = {}
    for tool, args in commands.items():
        # decoded as UTF-8 whatever the process locale: black prints emoji, and a DICOM write through SimpleITK/GDCM
        # (noisymed.data.write_dicom_series, run by earlier tests) leaves the process in the C (ASCII) locale
        proc = subprocess.run(
            [sys.executable, *args], cwd=cwd, capture_output=True, encoding="utf-8", errors="replace", timeout=600
        )
        output = proc.stdout + proc.stderr
        if proc.returncode != 0:
            problems[tool] = output
        elif "Skipped" in output or "No Python files" in output:  # a file left out: nothing to pass
            problems[tool] = f"{tool} left files out:\n{output}"
    return problems


def python_files(folder: str | Path) -> list[Path]:
    """The ``.py`` files under ``folder``, in name order (``__pycache__`` left out)."""
    return sorted(p for p in Path(folder).rglob("*.py") if "__pycache__" not in p.parts)
