from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

import bench_common  # noqa: E402
from bench_common import bundle_command, engine_epoch_seconds, replace_block, thread_env  # noqa: E402

LOG = """2026-11-23 07:26:33 - ignite.engine.engine.MixupAttentionTrainer - INFO - Epoch[1] Complete. Time taken: 00:00:25.635
2026-11-23 07:26:36 - ignite.engine.engine.SupervisedEvaluator - INFO - Epoch[1] Complete. Time taken: 00:00:02.614
2026-11-23 07:27:36 - ignite.engine.engine.MixupAttentionTrainer - INFO - Epoch[2] Complete. Time taken: 01:02:03.500
"""


def test_engine_epoch_seconds_reads_one_engine():
    assert engine_epoch_seconds(LOG, "MixupAttentionTrainer") == [25.635, 3723.5]
    assert engine_epoch_seconds(LOG, "SupervisedEvaluator") == [2.614]
    assert engine_epoch_seconds(LOG, r"\w*Trainer") == [25.635, 3723.5]


def test_replace_block_replaces_between_markers_or_appends(tmp_path):
    docs = tmp_path / "README.md"
    replace_block(docs, "<!-- a -->", "<!-- b -->", "first")
    assert docs.read_text() == "<!-- a -->\nfirst\n<!-- b -->\n"
    docs.write_text("# Title\n\n<!-- a -->\nold\n<!-- b -->\n\ntail\n")
    replace_block(docs, "<!-- a -->", "<!-- b -->", "new")
    assert docs.read_text() == "# Title\n\n<!-- a -->\nnew\n<!-- b -->\n\ntail\n"


def test_bundle_command():
    cmd = bundle_command(["configs/train.json", "configs/pretrain.json"], {"epochs": 2, "dataset": "/d.npz"})
    assert cmd[1:4] == ["-m", "monai.bundle", "run"]
    assert cmd[cmd.index("--config_file") + 1] == "['configs/train.json','configs/pretrain.json']"
    assert cmd[-4:] == ["--epochs", "2", "--dataset", "/d.npz"]


def test_thread_env():
    assert thread_env(1) == {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def test_figure_path_is_beside_the_json():
    from bench_common import figure_path

    assert figure_path(Path("docs/benchmark_la.json"), "curves") == Path("docs/benchmark_la_curves.png")


def test_stats_by_hand():
    st = bench_common.stats([0.1, 0.2, 0.3])
    assert st["mean"] == pytest.approx(0.2) and st["sd"] == pytest.approx(0.1) and st["n"] == 3
    assert bench_common.stats([0.5])["sd"] is None
    with pytest.raises(ValueError, match="no values"):
        bench_common.stats([])


def test_paired_t_and_interval_by_hand():
    # diffs 1, 2, 3: mean 2, sd 1, t = 2 / (1 / sqrt 3); t(0.975, 2 dof) = 4.302653
    assert bench_common.paired_t([1.0, 2.0, 3.0]) == pytest.approx(2 * 3**0.5)
    assert bench_common.paired_t([1.0]) is None and bench_common.paired_t([0.5, 0.5]) is None
    half = 4.302653 / 3**0.5
    assert bench_common.t_interval([1.0, 2.0, 3.0]) == pytest.approx([2 - half, 2 + half], rel=1e-6)
    assert bench_common.t_interval([1.0]) is None
    d = bench_common.paired_difference({"s1": 3.0, "s2": 5.0, "s3": 1.0}, {"s1": 2.0, "s2": 3.0})
    assert d["values"] == [1.0, 2.0] and d["runs"] == ["s1", "s2"] and d["mean"] == pytest.approx(1.5)
    assert bench_common.paired_difference({"a": 1.0}, {"b": 1.0}) is None
