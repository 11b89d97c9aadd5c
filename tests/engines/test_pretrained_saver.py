from __future__ import annotations

import pytest
import torch
from ignite.engine import Engine

from noisymed.engines import PretrainedSaver


def test_saves_state_dicts_once_on_completion(tmp_path):
    a, b = torch.nn.Linear(2, 1), torch.nn.Linear(1, 1)
    path = tmp_path / "models" / "pretrained.pt"
    engine = Engine(lambda e, batch: None)
    PretrainedSaver(path, {"model": a, "ssl_objective": b}).attach(engine)
    assert not path.exists()
    engine.run([0], max_epochs=1)
    saved = torch.load(path, weights_only=True)
    assert set(saved) == {"model", "ssl_objective"} and torch.equal(saved["model"]["weight"], a.weight)
    assert [p.name for p in path.parent.iterdir()] == ["pretrained.pt"]  # no temporary file left


def test_refuses_an_existing_file_before_training_unless_overwrite(tmp_path):
    path = tmp_path / "pretrained.pt"
    path.write_bytes(b"earlier run")
    with pytest.raises(FileExistsError, match="pretrained.pt already exists.*--overwrite true"):
        PretrainedSaver(path, {"model": torch.nn.Linear(1, 1)})
    PretrainedSaver(path, {"model": torch.nn.Linear(1, 1)}, save=False)  # other ranks do not write, do not check
    saver = PretrainedSaver(path, {"model": torch.nn.Linear(1, 1)}, overwrite="true")
    saver(Engine(lambda e, b: None))
    assert set(torch.load(path, weights_only=True)) == {"model"}
    with pytest.raises(ValueError, match="at least one module"):
        PretrainedSaver(tmp_path / "x.pt", {})
