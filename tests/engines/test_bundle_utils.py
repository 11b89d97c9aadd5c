from __future__ import annotations

import pytest
import torch
from ignite.engine import Engine

from noisymed.engines import TrainingCheckpoint


def _handler(tmp_path, resume, save="true"):
    net = torch.nn.Linear(2, 1)
    return TrainingCheckpoint(tmp_path, net, torch.optim.SGD(net.parameters(), lr=0.1), resume=resume, save=save)


def test_resume_and_save_read_command_line_text(tmp_path):
    # `python -m monai.bundle run ... --resume false` passes the string "false", which is truthy in Python
    off = _handler(tmp_path, "false", save="False")
    assert off.resume is False and off.save is False
    off.attach(Engine(lambda e, b: None))  # nothing to resume from, nothing asked: no error
    with pytest.raises(FileNotFoundError, match="to resume from"):
        _handler(tmp_path, "true").attach(Engine(lambda e, b: None))
    with pytest.raises(TypeError, match="resume must be a bool"):
        _handler(tmp_path, "maybe")
