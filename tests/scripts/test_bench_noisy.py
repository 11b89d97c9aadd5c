from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "bench_noisy.py"
sys.path.insert(0, str(SCRIPT.parent))  # the script imports its sibling bench_common


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_noisy", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(label, accs):
    return {"label": label, "curve": [{"epoch": i + 1, "acc": a, "auc": a} for i, a in enumerate(accs)]}


def test_last_is_the_mean_of_the_last_epochs(bench):
    accs = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]
    assert bench._last(_run("CE", accs), "acc") == pytest.approx((0.3 + 0.4 + 0.5 + 0.6 + 0.7) / 5)


def test_figures_next_to_the_json_per_dataset(bench, tmp_path):
    pytest.importorskip("matplotlib", reason="figures need the plot extra (matplotlib)")
    results = {"datasets": {"toy": {"runs": {"0.00": {"ce": _run("CE", [0.5, 0.6]), "gce": _run("**GCE**", [0.55, 0.7])}, "0.40": {"ce": _run("CE", [0.4, 0.45])}}}}}
    out = tmp_path / "benchmark_noisy.json"
    written = bench.write_figures(results, out)
    assert [p.name for p in written] == ["benchmark_noisy_toy_curves.png", "benchmark_noisy_toy_results.png"]
    assert all(p.is_file() and p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in written)
