from __future__ import annotations

import errno
import os

import pytest
import torch
from ignite.engine import Engine, Events

from noisymed.engines import ModelSaver


def _evaluator(scores, key="acc"):
    """An engine whose EPOCH_COMPLETED updates the best metric as MONAI's Workflow does (before val_handlers)."""
    engine = Engine(lambda e, b: None)
    engine.state.key_metric_name = key
    engine.state.best_metric, engine.state.best_metric_epoch = -1, -1

    @engine.on(Events.EPOCH_COMPLETED)
    def compare(e):
        score = scores[e.state.epoch - 1]
        if score > e.state.best_metric:
            e.state.best_metric, e.state.best_metric_epoch = score, e.state.epoch

    return engine


def test_best_model_is_written_only_at_a_new_best(tmp_path):
    net = torch.nn.Linear(2, 1)
    saved = {}
    engine = _evaluator([0.5, 0.4, 0.7, 0.7])
    ModelSaver(tmp_path, net).attach(engine)

    @engine.on(Events.EPOCH_COMPLETED)
    def record(e):  # what model.pt holds after each epoch
        saved[e.state.epoch] = float(torch.load(tmp_path / "model.pt", weights_only=True)["bias"])

    @engine.on(Events.EPOCH_STARTED)
    def change(e):  # the weights differ from epoch to epoch
        net.bias.data.fill_(float(e.state.epoch))

    engine.run([0], max_epochs=4)
    assert saved == {1: 1.0, 2: 1.0, 3: 3.0, 4: 3.0}  # 0.4 and the tie 0.7 do not replace the best
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pt"]


def test_restored_best_metric_is_not_replaced_by_a_worse_one(tmp_path):
    net = torch.nn.Linear(2, 1)
    torch.save({"bias": torch.tensor([9.0]), "weight": torch.zeros(1, 2)}, tmp_path / "model.pt")
    engine = _evaluator([0.675])
    engine.state.best_metric, engine.state.best_metric_epoch = 0.72, 3  # as TrainingCheckpoint restores them
    ModelSaver(tmp_path, net).attach(engine)
    engine.run([0], max_epochs=1)
    assert float(torch.load(tmp_path / "model.pt", weights_only=True)["bias"]) == 9.0


def test_final_model_and_errors(tmp_path):
    net = torch.nn.Linear(2, 1)
    trainer = Engine(lambda e, b: None)
    ModelSaver(tmp_path, net, filename="pretrained.pt", when="final").attach(trainer)
    (tmp_path / ".pretrained.pt.x1.tmp.pt").write_bytes(b"half")  # a killed write's leftover
    trainer.run([0], max_epochs=2)
    assert torch.equal(torch.load(tmp_path / "pretrained.pt", weights_only=True)["weight"], net.weight)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pretrained.pt"]
    with pytest.raises(FileExistsError, match=r"pretrained\.pt already exists.*--overwrite true"):
        ModelSaver(tmp_path, net, filename="pretrained.pt", when="final", overwrite="false")
    with pytest.raises(ValueError, match="when must be one of"):
        ModelSaver(tmp_path, net, when="last")
    with pytest.raises(ValueError, match="needs an evaluator with a key metric"):
        ModelSaver(tmp_path, net).attach(Engine(lambda e, b: None))


def test_a_failed_run_writes_no_final_model(tmp_path):
    def fail(engine, batch):
        raise RuntimeError("diverged")

    trainer = Engine(fail)
    ModelSaver(tmp_path, torch.nn.Linear(2, 1), when="final").attach(trainer)
    with pytest.raises(RuntimeError, match="diverged"):
        trainer.run([0], max_epochs=1)
    assert not any(tmp_path.iterdir())


def test_a_full_disk_is_named_and_the_old_model_stays(tmp_path, monkeypatch):
    net = torch.nn.Linear(2, 1)
    saver = ModelSaver(tmp_path, net)
    saver.save()
    before = (tmp_path / "model.pt").read_bytes()
    net.bias.data.fill_(5.0)

    def full(_fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError, match=r"no space left on device while writing .*model\.pt"):
        saver.save()
    monkeypatch.undo()
    assert (tmp_path / "model.pt").read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["model.pt"]
