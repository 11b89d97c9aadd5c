from __future__ import annotations

import pytest
import torch
from ignite.engine import Events
from monai.engines import SupervisedTrainer
from monai.handlers import CheckpointSaver

from noisymed.engines import NonFiniteLossError, StopOnNonFiniteLoss


def _trainer(images, handlers, epochs=2, batch_size=2):
    torch.manual_seed(0)
    net = torch.nn.Linear(3, 2)
    data = [{"image": x, "label": torch.tensor(i % 2)} for i, x in enumerate(images)]
    loader = torch.utils.data.DataLoader(data, batch_size=batch_size, shuffle=False)
    trainer = SupervisedTrainer(
        device=torch.device("cpu"),
        max_epochs=epochs,
        train_data_loader=loader,
        network=net,
        optimizer=torch.optim.SGD(net.parameters(), lr=0.1),
        loss_function=torch.nn.CrossEntropyLoss(),
        train_handlers=handlers,
    )
    return trainer, net


def test_a_nan_input_stops_training_naming_the_iteration_and_saves_nothing(tmp_path):
    images = [torch.ones(3) * i for i in range(6)]
    images[4] = torch.tensor([0.0, float("nan"), 1.0])  # third batch of each 3-batch epoch
    saver = CheckpointSaver(str(tmp_path), {"model": torch.nn.Linear(1, 1)}, save_final=True, final_filename="model.pt")
    trainer, _ = _trainer(images, [StopOnNonFiniteLoss(), saver])
    seen = []
    trainer.add_event_handler(Events.ITERATION_COMPLETED, lambda e: seen.append(e.state.iteration))
    with pytest.raises(NonFiniteLossError, match=r"^loss=nan at iteration 3 \(epoch 1, batch 3\): training stopped"):
        trainer.run()
    assert seen == [1, 2]  # handlers attached after it never saw the NaN iteration
    assert list(tmp_path.iterdir()) == []  # the final-checkpoint saver did not run for this error


def test_the_handler_is_first_among_exception_handlers_wherever_it_is_listed(tmp_path):
    images = [torch.ones(3) * i for i in range(4)]
    images[3] = torch.full((3,), float("inf"))
    saver = CheckpointSaver(str(tmp_path), {"model": torch.nn.Linear(1, 1)}, save_final=True, final_filename="model.pt")
    trainer, _ = _trainer(images, [saver, StopOnNonFiniteLoss()], epochs=1)
    with pytest.raises(NonFiniteLossError, match=r"loss=(nan|inf) at iteration 2 \(epoch 1, batch 2\)"):
        trainer.run()
    assert not (tmp_path / "model.pt").exists()


def test_other_errors_still_reach_the_other_handlers_and_are_raised(tmp_path):
    images = [torch.ones(3) * i for i in range(4)]

    def boom(engine):
        raise KeyError("not a loss problem")

    saver = CheckpointSaver(str(tmp_path), {"model": torch.nn.Linear(1, 1)}, save_final=True, final_filename="model.pt")
    trainer, _ = _trainer(images, [StopOnNonFiniteLoss(), saver], epochs=1)
    trainer.add_event_handler(Events.ITERATION_COMPLETED, boom)
    with pytest.raises(KeyError, match="not a loss problem"):
        trainer.run()
    assert (tmp_path / "model.pt").is_file()  # MONAI's saver still handles other errors as before
    alone, _ = _trainer(images, [StopOnNonFiniteLoss()], epochs=1)
    alone.add_event_handler(Events.ITERATION_COMPLETED, boom)
    with pytest.raises(KeyError, match="not a loss problem"):  # not swallowed when it is the only handler
        alone.run()


def test_finite_training_runs_to_the_end():
    trainer, _ = _trainer([torch.ones(3) * i for i in range(4)], [StopOnNonFiniteLoss()], epochs=2)
    trainer.run()
    assert trainer.state.iteration == 4


@pytest.mark.parametrize(
    "config, section",
    [
        ("la_mutual_learning/configs/train.json", "train"),
        ("noisy_label_classification/configs/train.json", "train"),
        ("noisy_label_classification/configs/pretrain.json", "pretrain"),
        ("cxr_single_positive/configs/train.json", "train"),
    ],
)
def test_every_bundle_training_lists_the_guard_first(config, section):
    import json
    from pathlib import Path

    bundles = Path(__file__).resolve().parents[2] / "bundles"
    handlers = json.loads((bundles / config).read_text())[section]["handlers"]
    assert handlers[0] == {"_target_": "noisymed.engines.StopOnNonFiniteLoss"}


def _rank_worker(rank: int, port: int, out: str) -> None:
    import os

    os.environ.update({"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)})
    torch.distributed.init_process_group("gloo", rank=rank, world_size=2)
    try:
        images = [torch.ones(3) * i for i in range(6)]
        if rank == 1:
            images[3] = torch.full((3,), float("nan"))  # second batch of rank 1 only
        trainer, _ = _trainer(images, [StopOnNonFiniteLoss()], epochs=1)
        try:
            trainer.run()
            message = "no error"
        except NonFiniteLossError as err:
            message = str(err)
        with open(f"{out}/rank{rank}.txt", "w") as f:
            f.write(message)
    finally:
        torch.distributed.destroy_process_group()


def test_a_rank_stops_when_another_rank_has_the_nan(monkeypatch):
    import ignite.distributed as idist

    monkeypatch.setattr(idist, "get_world_size", lambda: 2)
    monkeypatch.setattr(idist, "all_reduce", lambda value: value + 1.0)  # the other rank counts one non-finite loss
    trainer, _ = _trainer([torch.ones(3) * i for i in range(4)], [StopOnNonFiniteLoss()], epochs=1)
    with pytest.raises(NonFiniteLossError, match=r"^a NaN/infinite loss on another rank at iteration 1 \(epoch 1, batch 1\)"):
        trainer.run()


@pytest.mark.slow
def test_every_rank_stops_at_the_same_iteration(tmp_path):
    """Two gloo processes: rank 1 meets a NaN, and both stop at that iteration (no rank waits in DDP forever)."""
    import torch.multiprocessing as mp

    from tests.conftest import free_port

    mp.spawn(_rank_worker, args=(free_port(), str(tmp_path)), nprocs=2, join=True)
    rank0, rank1 = (tmp_path / "rank0.txt").read_text(), (tmp_path / "rank1.txt").read_text()
    assert rank1.startswith("loss=nan at iteration 2 (epoch 1, batch 2)")
    assert rank0.startswith("a NaN/infinite loss on another rank at iteration 2 (epoch 1, batch 2)")
