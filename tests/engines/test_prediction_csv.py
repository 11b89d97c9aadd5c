from __future__ import annotations

import csv

import pytest
import torch
from ignite.engine import Engine

from noisymed.engines import PredictionCSVWriter


def test_writes_header_and_one_row_per_image(tmp_path):
    batches = [{"path": ["a.png", "b.dcm"]}, {"path": ["c.png"]}]
    preds = [[{"pred": torch.tensor([0.1, 0.9])}, {"pred": torch.tensor([0.5, 0.25])}], [{"pred": torch.tensor([1.0, 0.0])}]]
    engine = Engine(lambda e, batch: preds[e.state.iteration - 1])
    writer = PredictionCSVWriter(tmp_path / "out" / "p.csv", ["Mass", "No Finding"])
    writer.attach(engine)
    engine.run(batches)
    rows = list(csv.reader(open(tmp_path / "out" / "p.csv")))
    assert rows == [["image", "Mass", "No Finding"], ["a.png", "0.1", "0.9"], ["b.dcm", "0.5", "0.25"], ["c.png", "1.0", "0.0"]]
    bad = Engine(lambda e, batch: [{"pred": torch.tensor([0.1])}])
    PredictionCSVWriter(tmp_path / "x.csv", ["a", "b"]).attach(bad)
    with pytest.raises(ValueError, match="1 outputs for 2 class names"):
        bad.run([{"path": ["a.png"]}])
