"""noisymed/ passes the model zoo's code-format checks (flake8, isort, black), as a bundle's vendored copy must.

Settings: ``.flake8`` and ``pyproject.toml``. Fix with ``python -m isort noisymed && python -m black noisymed``;
what flake8 reports is fixed by hand.
"""

from __future__ import annotations

import pytest

from tests.code_format import REPO, format_problems, python_files, skip_reason


@pytest.mark.skipif(skip_reason() is not None, reason=str(skip_reason()))
def test_noisymed_passes_the_model_zoo_code_format_checks():
    files = python_files(REPO / "noisymed")
    assert len(files) > 50
    problems = format_problems(files, cwd=REPO)
    assert not problems, "\n".join(f"== {tool}\n{out[-4000:]}" for tool, out in problems.items())
