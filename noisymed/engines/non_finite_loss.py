"""Stop training with an error at the first NaN or infinite loss, before anything saves the broken weights.

ignite's ``TerminateOnNan`` ends the run as if it had finished, so the handlers of ``COMPLETED`` (MONAI's
``CheckpointSaver(save_final=True)``) then save a model trained on ``loss=nan``. This handler raises instead, and
makes sure the ``EXCEPTION_RAISED`` handlers that would save a "final" checkpoint do not run for this error.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import ignite.distributed as idist
from ignite.engine import Engine, Events
from monai.utils import CommonKeys

__all__ = ["NonFiniteLossError", "StopOnNonFiniteLoss"]


class NonFiniteLossError(FloatingPointError):
    """The training loss became NaN or infinite."""


def _loss(output: Any) -> dict[str, float]:
    """``{"loss": value}`` of a trainer output (a dict, or the per-sample dicts of a decollating trainer)."""
    first = output[0] if isinstance(output, (list, tuple)) and output else output
    value = first[CommonKeys.LOSS] if isinstance(first, Mapping) else first
    return {CommonKeys.LOSS: float(value)}


class StopOnNonFiniteLoss:
    """Raise :class:`NonFiniteLossError` at the first iteration whose loss is NaN or infinite, naming it.

    Put it first in a trainer's handler list: it checks the loss before later ``ITERATION_COMPLETED`` handlers
    log or save anything, and its ``EXCEPTION_RAISED`` handler runs before the others (a checkpoint saver with
    ``save_final`` would otherwise write the broken weights as the final checkpoint) and re-raises this error.
    Any other error is passed on to the other ``EXCEPTION_RAISED`` handlers unchanged.

    Args:
        output_transform: ``engine.state.output`` -> ``{name: float}`` of the terms to check (default: the
            ``loss`` of the output; every trainer here puts its total loss there).

    Raises:
        NonFiniteLossError: during training, naming the iteration, the epoch and the non-finite terms.
    """

    def __init__(self, output_transform: Callable[[Any], Mapping[str, float]] = _loss) -> None:
        self.output_transform = output_transform

    def attach(self, engine: Engine) -> None:
        """Check every iteration of ``engine``; run first among its ``EXCEPTION_RAISED`` handlers."""
        engine.add_event_handler(Events.ITERATION_COMPLETED, self)
        engine.add_event_handler(Events.EXCEPTION_RAISED, self.exception_raised)
        handlers = engine._event_handlers[Events.EXCEPTION_RAISED]  # ignite has no public handler priority
        handlers.insert(0, handlers.pop())

    def __call__(self, engine: Engine) -> None:
        terms = self.output_transform(engine.state.output)
        bad = {k: v for k, v in terms.items() if not math.isfinite(v)}
        # in a multi-GPU run every rank must stop at the same iteration, or the others wait forever in DDP
        others = idist.all_reduce(float(len(bad))) - len(bad) if idist.get_world_size() > 1 else 0
        if bad or others:
            state = engine.state
            epoch_length = state.epoch_length or 0
            within = (state.iteration - 1) % epoch_length + 1 if epoch_length else state.iteration
            shown = ", ".join(f"{k}={v}" for k, v in bad.items()) or "a NaN/infinite loss on another rank"
            raise NonFiniteLossError(
                f"{shown} at iteration {state.iteration} (epoch {state.epoch}, batch {within}): training stopped and "
                "these weights are not saved. Look for a NaN/infinite input or label, or lower the learning rate; "
                "the checkpoints saved before this step are kept."
            )

    def exception_raised(self, engine: Engine, e: Exception) -> None:
        """Re-raise this handler's error (no later handler saves the weights); leave other errors to the others."""
        if isinstance(e, NonFiniteLossError) or len(engine._event_handlers[Events.EXCEPTION_RAISED]) == 1:
            raise e
