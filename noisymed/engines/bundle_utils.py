"""Small pieces bundle configs attach to MONAI engines (progress, logged loss terms, sample names)."""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from ignite.engine import Engine, Events
from ignite.handlers import ProgressBar

__all__ = ["ProgressBarHandler", "loss_terms", "sample_names"]

LOSS_KEYS = ("loss", "loss_sup", "loss_mutual", "weight_mutual")


def loss_terms(output: Any, keys: Sequence[str] = LOSS_KEYS) -> dict[str, float]:
    """The scalar loss terms of a (possibly decollated) trainer output, as floats.

    Args:
        output: ``engine.state.output``: a dict, or the list of per-sample dicts a decollating trainer makes.
        keys: the keys to keep where present.

    Returns:
        ``{key: float}`` for each key found.
    """
    first = output[0] if isinstance(output, (list, tuple)) else output
    return {k: float(first[k]) for k in keys if k in first}


def sample_names(batch: Sequence[Mapping], key: str = "image") -> list[dict[str, str]]:
    """``[{"filename_or_obj": name}, ...]`` for a decollated batch, for MONAI's savers' ``batch_transform``.

    The name is the first of: ``<key>_source`` (the path :class:`noisymed.transforms.LoadClassificationImaged`
    keeps), the item's ``path``, the image's metadata ``filename_or_obj``, the item's ``index`` (MedMNIST), ``case``.

    Raises:
        ValueError: for an item none of these name.
    """
    names = []
    for item in batch:
        meta = getattr(item.get(key), "meta", {}) or {}
        candidates = (
            item.get(f"{key}_source"),
            item.get("path"),
            meta.get("filename_or_obj"),
            item.get("index"),
            item.get("case"),
        )
        for name in candidates:
            if name is not None:
                names.append({"filename_or_obj": str(name.item() if hasattr(name, "item") else name)})
                break
        else:
            raise ValueError(f"cannot name a sample with keys {sorted(item)}: add {key}_source, path, index or case.")
    return names


class ProgressBarHandler(ProgressBar):
    """ignite's tqdm progress bar showing the loss terms on a terminal; one plain line per interval elsewhere.

    A progress bar redraws itself with carriage returns: in a log file or a pipe those pile up into lines of
    thousands of characters. So the bar is used only when the stream is a terminal (``stream.isatty()``);
    otherwise one line is written every ``interval`` iterations and at the end of each epoch, e.g.
    ``Epoch 3/10 iteration 200/200 (12.3 s): loss 0.4321 loss_sup 0.1000`` (the loss terms are means over the
    iterations since the previous line).

    Args:
        keys: loss terms shown beside the bar / in the line.
        persist: keep the bar of finished epochs on screen (terminal only).
        interval: iterations between two plain lines (None: one line per epoch).
        tty: force the bar (True) or the plain lines (False); None asks ``stream.isatty()``.
        stream: where bar or lines go (None: ``sys.stderr`` at attach time).

    Raises:
        ValueError: for an ``interval`` below 1.
    """

    def __init__(
        self,
        keys: Sequence[str] = LOSS_KEYS,
        persist: bool = False,
        interval: int | None = None,
        tty: bool | None = None,
        stream: TextIO | None = None,
    ):
        if interval is not None and (isinstance(interval, bool) or not isinstance(interval, int) or interval < 1):
            raise ValueError(f"interval must be a positive integer or None, got {interval!r}.")
        super().__init__(persist=persist, **({"file": stream} if stream is not None else {}))
        self.keys = tuple(keys)
        self.interval = interval
        self.tty = tty
        self.stream = stream
        self._sums: dict[str, float] = {}
        self._count = 0
        self._start = 0.0

    def uses_bar(self) -> bool:
        """Whether a tqdm bar is drawn (True) or plain lines are written (False)."""
        if self.tty is not None:
            return bool(self.tty)
        stream = self.stream if self.stream is not None else sys.stderr
        isatty = getattr(stream, "isatty", None)
        return bool(isatty()) if callable(isatty) else False

    def attach(self, engine: Engine, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        if self.uses_bar():
            kwargs.setdefault("output_transform", lambda out: loss_terms(out, self.keys))
            kwargs.setdefault("event_name", Events.ITERATION_COMPLETED)
            super().attach(engine, *args, **kwargs)
            return
        engine.add_event_handler(Events.EPOCH_STARTED, self._plain_start)
        engine.add_event_handler(Events.ITERATION_COMPLETED, self._plain_add)
        if self.interval is not None:
            engine.add_event_handler(Events.ITERATION_COMPLETED(every=self.interval), self._plain_line)
        engine.add_event_handler(Events.EPOCH_COMPLETED, self._plain_line)

    def _plain_start(self, engine: Engine) -> None:
        self._sums, self._count, self._start = {}, 0, time.perf_counter()

    def _plain_add(self, engine: Engine) -> None:
        for k, v in loss_terms(engine.state.output, self.keys).items():
            self._sums[k] = self._sums.get(k, 0.0) + v
        self._count += 1

    def _plain_line(self, engine: Engine) -> None:
        if self._count == 0:  # the interval ended exactly at the epoch's end: written already
            return
        state = engine.state
        length = state.epoch_length
        within = (state.iteration - 1) % length + 1 if length else state.iteration
        terms = " ".join(f"{k} {v / self._count:.4f}" for k, v in self._sums.items())
        line = (
            f"Epoch {state.epoch}/{state.max_epochs} iteration {within}/{length} "
            f"({time.perf_counter() - self._start:.1f} s): {terms}".rstrip()
        )
        stream = self.stream if self.stream is not None else sys.stderr
        stream.write(line + "\n")
        stream.flush()
        self._sums, self._count = {}, 0
