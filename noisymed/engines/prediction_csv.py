"""Write one probability per finding and image to a CSV file from an evaluator's output."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import torch
from ignite.engine import Engine, Events

__all__ = ["PredictionCSVWriter"]


class PredictionCSVWriter:
    """A handler collecting ``engine.state.output[i][pred_key]`` (probabilities) and the batch's ``path_key``,
    writing ``<path>,<p_class_1>,...`` rows with a header (``image`` + class names) when the run completes.

    Args:
        output_file: the CSV path (its folder is created).
        class_names: one name per output column (the network's output order).
        pred_key: key of the probabilities in the decollated engine output.
        path_key: batch key of the input path.
        decimals: rounding of the probabilities.

    Raises:
        ValueError: for no class names, or (at run time) a prediction whose length differs from them.
    """

    def __init__(
        self,
        output_file: str | Path,
        class_names: Sequence[str],
        pred_key: str = "pred",
        path_key: str = "path",
        decimals: int = 6,
    ):
        if not class_names:
            raise ValueError("class_names must name each output column.")
        self.output_file = Path(output_file)
        self.class_names = list(class_names)
        self.pred_key, self.path_key, self.decimals = pred_key, path_key, decimals
        self.rows: list[list] = []

    def attach(self, engine: Engine) -> None:
        engine.add_event_handler(Events.STARTED, lambda e: self.rows.clear())
        engine.add_event_handler(Events.ITERATION_COMPLETED, self._collect)
        engine.add_event_handler(Events.COMPLETED, self._write)

    def _collect(self, engine: Engine) -> None:
        outputs = engine.state.output
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        paths = engine.state.batch.get(self.path_key) if isinstance(engine.state.batch, dict) else None
        if paths is None:
            paths = [engine.state.batch[i].get(self.path_key, "") for i in range(len(outputs))]
        for path, out in zip(paths, outputs):
            probs = torch.as_tensor(out[self.pred_key]).detach().float().reshape(-1).cpu()
            if probs.numel() != len(self.class_names):
                raise ValueError(f"{path}: {probs.numel()} outputs for {len(self.class_names)} class names.")
            self.rows.append([str(path)] + [round(float(p), self.decimals) for p in probs])

    def _write(self, engine: Engine) -> None:
        self.output_file.parent.mkdir(parents=True, exist_ok=True)
        with open(self.output_file, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["image", *self.class_names])
            writer.writerows(self.rows)
