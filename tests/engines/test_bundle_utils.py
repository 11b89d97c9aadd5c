from __future__ import annotations

import io
import re

import pytest
from ignite.engine import Engine

from noisymed.engines import ProgressBarHandler


class _Pipe(io.StringIO):
    def isatty(self) -> bool:
        return False


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _engine(losses):
    """An engine whose iteration ``i`` (0-based, over all epochs) outputs ``{"loss": losses[i], "loss_sup": 1}``."""
    it = iter(losses)
    return Engine(lambda engine, batch: {"loss": next(it), "loss_sup": 1.0, "other": 5.0})


def test_a_pipe_gets_one_line_per_epoch_with_the_epoch_means():
    stream = _Pipe()
    handler = ProgressBarHandler(keys=("loss", "loss_sup"), stream=stream)
    assert not handler.uses_bar()
    engine = _engine([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    handler.attach(engine)
    engine.run(range(3), max_epochs=2)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 and "\r" not in stream.getvalue()
    # epoch 1 mean of 1, 2, 3 = 2; epoch 2 mean of 4, 5, 6 = 5
    assert re.fullmatch(r"Epoch 1/2 iteration 3/3 \(\d+\.\d s\): loss 2\.0000 loss_sup 1\.0000", lines[0])
    assert re.fullmatch(r"Epoch 2/2 iteration 3/3 \(\d+\.\d s\): loss 5\.0000 loss_sup 1\.0000", lines[1])


def test_an_interval_writes_a_line_every_interval_and_at_the_epoch_end_once():
    stream = _Pipe()
    handler = ProgressBarHandler(keys=("loss",), interval=2, tty=False, stream=stream)
    engine = _engine([1.0, 3.0, 5.0, 7.0, 2.0])
    handler.attach(engine)
    engine.run(range(5), max_epochs=1)
    lines = stream.getvalue().splitlines()
    # iterations 1-2 (mean 2), 3-4 (mean 6), then the epoch's end: iteration 5 alone (mean 2)
    assert [re.sub(r" \(.*\)", "", line) for line in lines] == [
        "Epoch 1/1 iteration 2/5: loss 2.0000",
        "Epoch 1/1 iteration 4/5: loss 6.0000",
        "Epoch 1/1 iteration 5/5: loss 2.0000",
    ]


def test_an_interval_ending_with_the_epoch_writes_no_second_line():
    stream = _Pipe()
    handler = ProgressBarHandler(keys=("loss",), interval=2, tty=False, stream=stream)
    engine = _engine([1.0, 3.0, 5.0, 7.0])
    handler.attach(engine)
    engine.run(range(4), max_epochs=1)
    assert len(stream.getvalue().splitlines()) == 2


def test_a_terminal_gets_the_progress_bar():
    stream = _Terminal()
    handler = ProgressBarHandler(keys=("loss",), stream=stream)
    assert handler.uses_bar()
    engine = _engine([1.0, 2.0, 3.0])
    handler.attach(engine)
    engine.run(range(3), max_epochs=1)
    assert "\r" in stream.getvalue() and "loss" in stream.getvalue()


@pytest.mark.parametrize("interval", [0, -1, 1.5, True])
def test_a_bad_interval_is_refused(interval):
    with pytest.raises(ValueError, match="interval must be a positive integer"):
        ProgressBarHandler(interval=interval)
