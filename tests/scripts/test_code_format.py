"""scripts/ passes the same code-format checks (flake8, isort, black) as noisymed/.

Settings: ``.flake8`` and ``pyproject.toml``. Fix with ``python -m isort scripts && python -m black scripts``;
what flake8 reports is fixed by hand.
"""

from __future__ import annotations

import pytest

from tests.code_format import REPO, format_problems, python_files, skip_reason


@pytest.mark.skipif(skip_reason() is not None, reason=str(skip_reason()))
def test_scripts_pass_the_code_format_checks():
    files = python_files(REPO / "scripts")
    assert len(files) >= 10
    problems = format_problems(files, cwd=REPO)
    assert not problems, "\n".join(f"== {tool}\n{out[-4000:]}" for tool, out in problems.items())
