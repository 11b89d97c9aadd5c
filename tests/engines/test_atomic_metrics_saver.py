from __future__ import annotations

import pytest
import torch
from ignite.engine import Engine, Events
from monai.handlers import MetricsSaver

from noisymed.engines import STAGING_PREFIX, AtomicMetricsSaver


def _evaluator(dice: list[float]) -> Engine:
    """An engine over two cases whose epoch ends with a mean Dice and per-case Dice, as MONAI's evaluators do."""
    engine = Engine(lambda e, batch: None)

    @engine.on(Events.EPOCH_COMPLETED(once=1))
    def _metrics(e: Engine) -> None:
        e.state.metrics = {"mean_dice": sum(dice) / len(dice)}
        e.state.metric_details = {"mean_dice": torch.tensor([[d] for d in dice])}

    return engine


def _saver(cls: type, folder) -> MetricsSaver:
    return cls(
        save_dir=str(folder),
        metrics="*",
        metric_details="*",
        batch_transform=lambda batch: [{"filename_or_obj": name} for name in batch],
        summary_ops=["mean", "max"],
    )


def _run(cls: type, folder, dice: list[float]) -> None:
    engine = _evaluator(dice)
    _saver(cls, folder).attach(engine)  # attached after _metrics, so it sees them as MONAI's handlers do
    engine.run([["case_a"], ["case_b"]], max_epochs=1)


def test_same_files_and_content_as_monai(tmp_path):
    _run(MetricsSaver, tmp_path / "monai", [0.5, 0.75])
    _run(AtomicMetricsSaver, tmp_path / "atomic", [0.5, 0.75])
    names = sorted(p.name for p in (tmp_path / "atomic").iterdir())
    assert names == ["mean_dice_raw.csv", "mean_dice_summary.csv", "metrics.csv"]  # no staging folder left
    for name in names:
        assert (tmp_path / "atomic" / name).read_text() == (tmp_path / "monai" / name).read_text()
    assert (tmp_path / "atomic" / "metrics.csv").read_text() == "mean_dice,0.625\n"
    raw = (tmp_path / "atomic" / "mean_dice_raw.csv").read_text().splitlines()
    assert raw == ["filename,class0,mean", "case_a,0.5,0.5", "case_b,0.75,0.75"]  # MONAI writes float32 as str()
    summary = (tmp_path / "atomic" / "mean_dice_summary.csv").read_text().splitlines()
    assert summary == ["class,mean,max", "class0,0.6250,0.7500", "mean,0.6250,0.7500"]


def test_a_failed_write_keeps_the_previous_reports(tmp_path, monkeypatch):
    _run(AtomicMetricsSaver, tmp_path, [0.5, 0.75])
    before = {p.name: p.read_text() for p in tmp_path.iterdir()}

    import monai.handlers.metrics_saver as monai_saver

    def half_written(save_dir, **kwargs):
        with open(f"{save_dir}/metrics.csv", "w") as f:
            f.write("mean_di")  # the kill comes here
        raise OSError("killed while writing")

    monkeypatch.setattr(monai_saver, "write_metrics_reports", half_written)
    with pytest.raises(OSError, match="killed while writing"):
        _run(AtomicMetricsSaver, tmp_path, [0.1, 0.2])
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == before  # old, complete files; no staging left


def test_stale_staging_removed_and_bad_folder(tmp_path):
    stale = tmp_path / f"{STAGING_PREFIX}abc.tmp"
    stale.mkdir()
    (stale / "metrics.csv").write_text("mean_d")
    (tmp_path / "keep.csv").write_text("x")
    _run(AtomicMetricsSaver, tmp_path, [1.0, 0.0])
    assert not stale.exists() and (tmp_path / "keep.csv").read_text() == "x"
    assert (tmp_path / "metrics.csv").read_text() == "mean_dice,0.5\n"
    with pytest.raises(ValueError, match="save_dir must name a folder"):
        AtomicMetricsSaver(save_dir=" ")
