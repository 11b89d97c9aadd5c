from __future__ import annotations

import errno
import logging
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from ignite.engine import Engine, Events
from ignite.metrics import Accuracy
from monai.data import DataLoader, Dataset
from monai.engines import SupervisedEvaluator, SupervisedTrainer
from monai.handlers import LrScheduleHandler, ValidationHandler, from_engine
from monai.transforms import Compose, RandFlipd, RandGaussianNoised
from monai.utils import set_determinism

from noisymed.data import TwoStreamBatchSampler
from noisymed.engines import ModelSaver, TrainingCheckpoint, latest_checkpoint, load_latest_checkpoint


def _handler(tmp_path, resume, save="true", **kwargs):
    net = torch.nn.Linear(2, 1)
    return TrainingCheckpoint(tmp_path, net, torch.optim.SGD(net.parameters(), lr=0.1), resume=resume, save=save, **kwargs)


def test_resume_and_save_read_command_line_text(tmp_path):
    # `python -m monai.bundle run ... --resume false` passes the string "false", which is truthy in Python
    off = _handler(tmp_path, "false", save="False")
    assert off.resume is False and off.save is False
    off.attach(Engine(lambda e, b: None))  # nothing to resume from, nothing asked: no error
    with pytest.raises(FileNotFoundError, match="to resume from"):
        _handler(tmp_path, "true").attach(Engine(lambda e, b: None))
    with pytest.raises(TypeError, match="resume must be a bool"):
        _handler(tmp_path, "maybe")
    with pytest.raises(ValueError, match="n_saved must be >= 1"):
        _handler(tmp_path, False, n_saved=0)


def _ckpt(iteration, epoch_length=4):
    return {"model": {"w": torch.full((2,), float(iteration))}, "optimizer": {}, "trainer": {"iteration": iteration, "epoch_length": epoch_length, "max_epochs": 9}}


def test_newest_loadable_by_iteration_inside_skipping_broken_files(tmp_path, caplog):
    torch.save(_ckpt(8), tmp_path / "checkpoint_epoch=2.pt")
    torch.save(_ckpt(4), tmp_path / "checkpoint_final.pt")  # another run's final, newest by time, older inside
    os.utime(tmp_path / "checkpoint_epoch=2.pt", (1, 1))
    (tmp_path / "checkpoint_epoch=4.pt").write_bytes(b"")  # a kill before anything was written (old saver)
    torch.save(_ckpt(12), tmp_path / "checkpoint_epoch=3.pt")
    whole = (tmp_path / "checkpoint_epoch=3.pt").read_bytes()
    (tmp_path / "checkpoint_epoch=3.pt").write_bytes(whole[: len(whole) // 2])  # a kill mid-write (old saver)
    torch.save({"model": {}}, tmp_path / "checkpoint_epoch=5.pt")  # loads, but is not a training checkpoint
    torch.save(_ckpt(40), tmp_path / ".checkpoint_epoch=9.pt.a1b2.tmp.pt")  # a complete temporary: never taken
    with caplog.at_level(logging.INFO):
        path, ckpt = load_latest_checkpoint(tmp_path)
    assert path.name == "checkpoint_epoch=2.pt" and float(ckpt["model"]["w"][0]) == 8.0
    skipped = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(skipped) == 3
    assert "checkpoint_epoch=3.pt" in skipped[0] and "checkpoint_epoch=4.pt" in skipped[1]
    assert "checkpoint_epoch=5.pt (ValueError: not a training checkpoint: lacks ['optimizer', 'trainer']" in skipped[2]
    assert latest_checkpoint(tmp_path).endswith("checkpoint_epoch=2.pt")


def test_none_loadable_names_each_file_and_writes_nothing(tmp_path):
    (tmp_path / "checkpoint_epoch=1.pt").write_bytes(b"")
    (tmp_path / "checkpoint_final.pt").write_bytes(b"PK\x03\x04 half a zip")
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(RuntimeError) as err:
        _handler(tmp_path, True).attach(Engine(lambda e, b: None))
    message = str(err.value)
    assert "none of the 2 training checkpoints loads" in message and "--overwrite true" in message
    assert f"{tmp_path / 'checkpoint_epoch=1.pt'} (" in message and f"{tmp_path / 'checkpoint_final.pt'} (" in message
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no untrained checkpoint_final.pt


def test_fresh_run_refuses_an_earlier_runs_files_and_overwrite_replaces_them(tmp_path):
    torch.save(_ckpt(8), tmp_path / "checkpoint_epoch=2.pt")
    (tmp_path / "model.pt").write_bytes(b"old model")
    (tmp_path / "pretrained.pt").write_bytes(b"kept")  # not this handler's file
    with pytest.raises(FileExistsError) as err:
        _handler(tmp_path, False)
    assert "checkpoint_epoch=2.pt already exists (and 1 more)" in str(err.value)
    assert "pass --resume true to continue that training, or pass --overwrite true" in str(err.value)
    handler = _handler(tmp_path, False, overwrite="true")
    engine = Engine(lambda e, b: None)
    handler.attach(engine)
    engine.run([0, 1], max_epochs=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint_epoch=1.pt", "checkpoint_final.pt", "pretrained.pt"]
    assert torch.load(tmp_path / "checkpoint_final.pt", weights_only=True)["trainer"]["iteration"] == 2


def test_an_older_checkpoint_resumes_with_warnings(tmp_path, caplog):
    net = torch.nn.Linear(2, 1)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    torch.save({"model": {k: torch.full_like(v, 3.0) for k, v in net.state_dict().items()}, "optimizer": opt.state_dict(),
                "trainer": {"epoch_length": 2, "iteration": 4, "max_epochs": 2}}, tmp_path / "checkpoint_final.pt")  # fmt: skip
    engine = Engine(lambda e, b: None)
    TrainingCheckpoint(tmp_path, net, opt, resume=True, save=False).attach(engine)
    with caplog.at_level(logging.INFO):
        engine.run([0, 1], max_epochs=3)
    assert engine.state.iteration == 6 and torch.equal(net.bias, torch.full((1,), 3.0))  # resumed at 4, ran to 6
    assert any("holds no random state" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)


def test_a_checkpoint_that_does_not_fit_is_refused_by_name(tmp_path):
    _handler(tmp_path, False).attach(engine := Engine(lambda e, b: None))
    engine.run([0, 1], max_epochs=1)
    wider = torch.nn.Linear(3, 1)
    engine = Engine(lambda e, b: None)
    TrainingCheckpoint(tmp_path, wider, torch.optim.SGD(wider.parameters(), lr=0.1), resume=True).attach(engine)
    with pytest.raises(ValueError, match=r"checkpoint_final\.pt does not fit this training's network/optimizer"):
        engine.run([0, 1], max_epochs=2)
    engine = Engine(lambda e, b: None)
    _handler(tmp_path, True).attach(engine)
    with pytest.raises(ValueError, match="written with 2 iterations per epoch, this run has 3"):
        engine.run([0, 1, 2], max_epochs=2)


def test_periodic_checkpoints_keep_n_saved_and_old_one_goes_after_the_new_is_complete(tmp_path, monkeypatch):
    import noisymed.utils.atomic_write as atomic_write

    handler = _handler(tmp_path, False, n_saved=2)
    engine = Engine(lambda e, b: None)
    handler.attach(engine)
    seen = []
    real = atomic_write.os.replace

    def replace(src, dst):  # what the folder holds when each new checkpoint is renamed into place
        seen.append(sorted(p.name for p in tmp_path.glob("checkpoint_*.pt")))
        real(src, dst)

    monkeypatch.setattr(atomic_write.os, "replace", replace)
    engine.run([0], max_epochs=4)
    assert seen[3] == ["checkpoint_epoch=2.pt", "checkpoint_epoch=3.pt"]  # both still there while epoch 4 is renamed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint_epoch=3.pt", "checkpoint_epoch=4.pt", "checkpoint_final.pt"]


def test_a_full_disk_is_named_and_the_previous_checkpoint_stays(tmp_path, monkeypatch):
    handler = _handler(tmp_path, False)
    engine = Engine(lambda e, b: None)
    handler.attach(engine)

    def full(_fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    @engine.on(Events.EPOCH_COMPLETED)
    def fill_disk(e):
        if e.state.epoch == 2:
            monkeypatch.setattr(os, "fsync", full)

    with pytest.raises(OSError, match=r"no space left on device while writing .*checkpoint_epoch=2\.pt") as err:
        engine.run([0], max_epochs=3)
    assert err.value.errno == errno.ENOSPC
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint_epoch=1.pt"]  # no final, no temporary
    assert torch.load(tmp_path / "checkpoint_epoch=1.pt", weights_only=True)["trainer"]["iteration"] == 1


class _ScaledCrossEntropy(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = torch.nn.Parameter(torch.ones(()))

    def forward(self, logits, target):
        return torch.nn.functional.cross_entropy(logits * self.scale, target)


def _train(root, epochs, resume=False, sampler="shuffle", workers=0, epoch_length=None):
    """A tiny MONAI training with every kind of randomness a bundle has: random transforms, a shuffling or
    two-stream sampler, dropout, an epoch-level scheduler, validation with a best model. The checkpoint handler is
    first in the list on purpose: it must still write after validation and the scheduler step."""
    set_determinism(0)
    data = [{"image": np.full((1, 4), i, np.float32) + np.arange(4, dtype=np.float32), "label": i % 2} for i in range(8)]
    transform = Compose([RandGaussianNoised("image", prob=1.0, std=0.5), RandFlipd("image", prob=0.5, spatial_axis=0)])
    dataset = Dataset(data, transform)
    if sampler == "shuffle":
        loader = DataLoader(dataset, batch_size=2, shuffle=True, num_workers=workers)
    else:
        loader = DataLoader(dataset, batch_sampler=TwoStreamBatchSampler(range(3), range(3, 8), 1, 2, 3, seed=0), num_workers=workers)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 8), torch.nn.Dropout(0.3), torch.nn.Linear(8, 2))
    loss = _ScaledCrossEntropy()  # a trainer module with parameters of its own (as ROLE's loss, a co-teaching peer)
    opt = torch.optim.SGD([*net.parameters(), *loss.parameters()], lr=0.1, momentum=0.9)
    sched = torch.optim.lr_scheduler.StepLR(opt, 1, gamma=0.7)
    evaluator = SupervisedEvaluator(
        device="cpu", val_data_loader=DataLoader(Dataset(data), batch_size=8), network=net, decollate=False,
        key_val_metric={"acc": Accuracy(output_transform=from_engine(["pred", "label"]))},
        val_handlers=[ModelSaver(root, net)],
    )  # fmt: skip
    handlers = [
        TrainingCheckpoint(root, net, opt, resume=resume, lr_scheduler=sched, evaluator=evaluator),
        LrScheduleHandler(sched, print_lr=False),
        ValidationHandler(1, evaluator),
    ]
    trainer = SupervisedTrainer(
        device="cpu", max_epochs=epochs, epoch_length=epoch_length, train_data_loader=loader, network=net, optimizer=opt,
        loss_function=loss, train_handlers=handlers, decollate=False,
    )  # fmt: skip
    trainer.run()
    return net, evaluator, loss


# epoch_length 3 of a 4-batch loader: ignite goes on with the same iterator in the next epoch, so checkpoints fall
# inside a pass of the loader (the CXR bundle's --epoch_length)
@pytest.mark.parametrize("sampler,workers,epoch_length", [("shuffle", 0, None), ("two_stream", 0, None), ("shuffle", 1, None), ("shuffle", 0, 3)])
def test_resumed_training_is_bit_identical_to_an_uninterrupted_one(tmp_path, sampler, workers, epoch_length):
    full_net, full_eval, full_loss = _train(tmp_path / "full", 4, sampler=sampler, workers=workers, epoch_length=epoch_length)
    _train(tmp_path / "cut", 2, sampler=sampler, workers=workers, epoch_length=epoch_length)
    ckpt = torch.load(tmp_path / "cut" / "checkpoint_epoch=2.pt", weights_only=True)
    assert ckpt["lr_scheduler"]["last_epoch"] == 2  # written after the scheduler step
    assert ckpt["evaluator"]["best_metric_epoch"] >= 1  # and after validation
    assert list(ckpt["engine_modules"]) == ["loss_function"]
    assert (ckpt["data_pass"] or {}).get("batches") == (2 if epoch_length else None)  # 6 of 4 + 4 drawn
    net, evaluator, loss = _train(tmp_path / "cut", 4, resume=True, sampler=sampler, workers=workers, epoch_length=epoch_length)
    assert float(full_loss.scale) != 1.0 and torch.equal(full_loss.scale, loss.scale)  # restored, not restarted
    for name, value in full_net.state_dict().items():
        assert torch.equal(value, net.state_dict()[name]), name
    assert (evaluator.state.best_metric, evaluator.state.best_metric_epoch) == (full_eval.state.best_metric, full_eval.state.best_metric_epoch)
    a, b = (torch.load(tmp_path / d / "model.pt", weights_only=True) for d in ("full", "cut"))
    assert all(torch.equal(a[k], b[k]) for k in a)
    a, b = (torch.load(tmp_path / d / "checkpoint_final.pt", weights_only=True) for d in ("full", "cut"))
    assert torch.equal(a["optimizer"]["state"][0]["momentum_buffer"], b["optimizer"]["state"][0]["momentum_buffer"])
    assert a["trainer"] == b["trainer"] and a["evaluator"] == b["evaluator"]


REPO = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("kill_resume_driver.py")


def _assert_same(a, b, where="checkpoint"):
    assert type(a) is type(b), where
    if isinstance(a, torch.Tensor):
        assert a.dtype == b.dtype and torch.equal(a, b), where
    elif isinstance(a, dict):
        assert list(a) == list(b), where
        for key in a:
            _assert_same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same(x, y, f"{where}[{i}]")
    else:
        assert a == b, where


def _kill_and_resume(tmp_path, configs: Path, overrides: dict, kills: list[str], starts: list[int]) -> None:
    """Train once uninterrupted (``full``) and once killed at each of ``kills`` and resumed (``cut``, each run
    starting at the iteration in ``starts``); the final checkpoint (weights, optimizer, trainer, best metric,
    random state) and model.pt must be bit-identical."""
    import json
    import subprocess
    import sys

    runs = [{"overrides": {**overrides, "bundle_root": str(tmp_path / "full")}, "kill": None}]
    runs += [{"overrides": {**overrides, "bundle_root": str(tmp_path / "cut")}, "kill": k} for k in [*kills, None]]
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"configs": [str(configs / "train.json")], "runs": runs}))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, str(DRIVER), str(plan)]
    proc = subprocess.run(cmd, capture_output=True, encoding="utf-8", errors="replace", timeout=600, env=env, cwd=tmp_path)
    outcomes = json.loads(proc.stdout.strip().splitlines()[-1]) if proc.stdout.strip() else None
    expected = [["ok", 0], *[["killed", i] for i in starts[:-1]], ["ok", starts[-1]]]
    assert outcomes == expected, proc.stderr[-3000:]
    full, cut = tmp_path / "full" / "models", tmp_path / "cut" / "models"
    assert sorted(p.name for p in cut.iterdir()) == sorted(p.name for p in full.iterdir())  # no temporaries left
    for name in ("checkpoint_final.pt", "model.pt"):
        _assert_same(torch.load(full / name, weights_only=True), torch.load(cut / name, weights_only=True), name)


def _handler_config(parser, section="train"):
    handlers = parser.get(f"{section}#handlers")
    index = next(i for i, h in enumerate(handlers) if str(h.get("_target_", "")).endswith("TrainingCheckpoint"))
    return f"{section}#handlers#{index}"


def test_la_bundle_killed_at_several_moments_resumes_bit_identical(tmp_path):
    from monai.bundle import ConfigParser

    from noisymed.data import ensure_la_demo

    configs = REPO / "bundles" / "la_mutual_learning" / "configs"
    demo = ensure_la_demo(tmp_path / "demo", num_train=4, num_test=2, shape=(32, 32, 32))
    overrides = {
        "features": 4, "patch_size": [16, 16, 16], "num_workers": 0, "sw_overlap": 0.25, "dataset_dir": str(demo),
        "num_labeled": 2, "val_list": "test.list", "max_iterations": 6, "val_interval": 2, "rampup_interval": 1,
    }  # fmt: skip
    # after model.pt of epoch 1 (no checkpoint yet: a fresh start with --overwrite true), in the validation of
    # epoch 2, halfway through writing checkpoint 2, after checkpoint 2 is in place and before checkpoint 1 goes
    kills = ["val_done:1", "val_iter:2", "ckpt_write:2", "ckpt_renamed:2"]
    _kill_and_resume(tmp_path, configs, overrides, kills, starts=[0, 0, 2, 2, 4])  # 2 iterations per epoch

    parser = ConfigParser()
    parser.read_config(str(configs / "train.json"))
    parser.update({**overrides, "bundle_root": str(tmp_path / "cut")})
    with pytest.raises(Exception) as err:  # a fresh run into the finished run's models/ folder
        parser.get_parsed_content(_handler_config(parser))
    from tests.conftest import exception_messages

    message = exception_messages(err.value)
    assert "already exists" in message and "--resume true" in message and "--overwrite true" in message


def test_noisy_label_bundle_killed_at_several_moments_resumes_bit_identical(tmp_path):
    rng = np.random.default_rng(0)
    labels = np.arange(80) % 2
    images = rng.integers(0, 60, (80, 28, 28)).astype(np.uint8) + (150 * labels[:, None, None]).astype(np.uint8)
    npz = tmp_path / "toy.npz"
    np.savez(npz, train_images=images[:64], train_labels=labels[:64, None], val_images=images[64:], val_labels=labels[64:, None])
    overrides = {
        "widths": [4, 8, 8, 16], "backbone": "resnet10", "num_workers": 0, "dataset": str(npz), "epochs": 3,
        "batch_size": 16, "noise_rate": 0.25, "method": "mixup_attention",
    }  # fmt: skip
    # in the training of epoch 2 (iteration 6 of 4 per epoch), then in the validation of epoch 3
    configs = REPO / "bundles" / "noisy_label_classification" / "configs"
    _kill_and_resume(tmp_path, configs, overrides, ["train_iter:6", "val_iter:3"], starts=[0, 4, 8])  # 4 per epoch
