from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

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
