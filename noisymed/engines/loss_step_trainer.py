"""A MONAI ``SupervisedTrainer`` whose forward pass and loss are methods a subclass overrides.

Methods for noisy labels differ from plain supervised training only in what they compute between the batch and
the loss (two networks, mixed samples, two views). :class:`LossStepTrainer` keeps everything else of MONAI's
trainer — batch preparation, ``IterationEvents`` in MONAI's order, handlers, ``engine.state.output`` with
``image``, ``label``, ``pred`` and ``loss`` — so each method only writes :meth:`forward` and :meth:`compute_loss`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from monai.engines import SupervisedTrainer
from monai.engines.utils import IterationEvents
from monai.utils import CommonKeys as Keys
from torch import nn

__all__ = ["LossStepTrainer"]


def _detached(value: Any) -> Any:
    return value.detach() if isinstance(value, torch.Tensor) else value


class LossStepTrainer(SupervisedTrainer):
    """``SupervisedTrainer`` with the forward pass and loss split into overridable methods.

    One iteration: ``inputs, targets = batch_inputs(batch)`` (MONAI's ``prepare_batch`` by default),
    ``outputs = forward(inputs, targets, batch)`` (must set ``pred``; the other entries are
    private to :meth:`compute_loss`), ``FORWARD_COMPLETED``, ``terms = compute_loss(outputs, targets)`` (must
    set ``loss``; its other entries, detached, join ``engine.state.output`` for logging),
    ``LOSS_COMPLETED``, backward, ``BACKWARD_COMPLETED``, optimizer step, ``MODEL_COMPLETED``.

    Args:
        train_modules: further modules (besides ``network``) to put in train mode each iteration, e.g. a
            second network or an attention module.
        kwargs: everything :class:`monai.engines.SupervisedTrainer` takes.
    """

    def __init__(self, *args: Any, train_modules: Sequence[nn.Module] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.train_modules = list(train_modules)

    def batch_inputs(self, batchdata: dict) -> tuple[torch.Tensor, torch.Tensor]:
        """``(inputs, targets)`` of a batch on the engine's device; the default is MONAI's ``prepare_batch``."""
        return self.prepare_batch(batchdata, self.state.device, self.non_blocking, **self.to_kwargs)[:2]

    def forward(self, inputs: torch.Tensor, targets: torch.Tensor, batchdata: dict) -> dict[str, Any]:
        """The forward pass; the default is ``{"pred": network(inputs)}``."""
        return {Keys.PRED: self.network(inputs)}

    def compute_loss(self, outputs: dict[str, Any], targets: torch.Tensor) -> dict[str, Any]:
        """The loss; the default is ``{"loss": loss_function(pred, targets).mean()}``."""
        return {Keys.LOSS: self.loss_function(outputs[Keys.PRED], targets).mean()}

    def _iteration(self, engine: LossStepTrainer, batchdata: dict[str, torch.Tensor]) -> dict:
        if batchdata is None:
            raise ValueError("Must provide batch data for current iteration.")
        inputs, targets = self.batch_inputs(batchdata)
        engine.state.output = {Keys.IMAGE: inputs, Keys.LABEL: targets}
        engine.network.train()
        for module in self.train_modules:
            module.train()
        engine.optimizer.zero_grad(set_to_none=engine.optim_set_to_none)
        outputs = self.forward(inputs, targets, batchdata)
        engine.state.output[Keys.PRED] = outputs[Keys.PRED]
        engine.fire_event(IterationEvents.FORWARD_COMPLETED)
        terms = self.compute_loss(outputs, targets)
        engine.state.output.update({k: v if k == Keys.LOSS else _detached(v) for k, v in terms.items()})
        engine.fire_event(IterationEvents.LOSS_COMPLETED)
        terms[Keys.LOSS].backward()
        engine.fire_event(IterationEvents.BACKWARD_COMPLETED)
        engine.optimizer.step()
        engine.fire_event(IterationEvents.MODEL_COMPLETED)
        return engine.state.output
