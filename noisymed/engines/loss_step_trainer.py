"""A MONAI ``SupervisedTrainer`` whose forward pass and loss are methods a subclass overrides.

Methods for noisy labels differ from plain supervised training only in what they compute between the batch and
the loss (two networks, mixed samples, two views). :class:`LossStepTrainer` keeps everything else of MONAI's
trainer — batch preparation, ``IterationEvents`` in MONAI's order, handlers, ``engine.state.output`` with
``image``, ``label``, ``pred`` and ``loss`` — so each method only writes :meth:`forward` and :meth:`compute_loss`.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import torch
from monai.data import MetaTensor
from monai.engines import SupervisedTrainer
from monai.engines.utils import IterationEvents
from monai.utils import CommonKeys as Keys
from torch import nn

from noisymed.utils import as_bool, to_channels_last

__all__ = ["LossStepTrainer"]


def _plain(value: Any) -> Any:
    return value.as_tensor() if isinstance(value, MetaTensor) else value


def _detached(value: Any) -> Any:
    return value.detach() if isinstance(value, torch.Tensor) else value


class LossStepTrainer(SupervisedTrainer):
    """``SupervisedTrainer`` with the forward pass and loss split into overridable methods.

    One iteration: ``inputs, targets = batch_inputs(batch)`` (MONAI's ``prepare_batch`` by default),
    ``outputs = forward(inputs, targets, batch)`` (must set ``pred``; the other entries are
    private to :meth:`compute_loss`), ``FORWARD_COMPLETED``, ``terms = compute_loss(outputs, targets)`` (must
    set ``loss``; its other entries, detached, join ``engine.state.output`` for logging),
    ``LOSS_COMPLETED``, backward, ``BACKWARD_COMPLETED``, optimizer step, ``MODEL_COMPLETED``.

    Mixed precision (``amp=True``), as MONAI's ``SupervisedTrainer`` does it: the forward pass and the loss (with
    their events) run under ``torch.autocast(device_type=<the engine device's type>, **amp_kwargs)``: float16 by
    default on CUDA, bfloat16 on the CPU (where MONAI's own trainer asks for CUDA autocast, which the CPU ignores).
    The backward pass and the optimizer step go through ``self.scaler``, the ``GradScaler`` MONAI's
    ``Trainer.run`` makes when ``amp`` is set; on a machine without CUDA that scaler is disabled and passes the
    loss and the step through unchanged (no scaling is needed for bfloat16). Losses keep their numerically
    sensitive parts in float32 themselves (see :func:`noisymed.utils.autocast_off`). With ``amp=False`` nothing
    of this runs: the iteration is the plain float32 one.

    Gradient accumulation (``accumulation_steps=n``), as MONAI's ``SupervisedTrainer`` does it: the gradients of
    ``n`` consecutive iterations are summed, each loss divided by ``n``, and the optimizer steps after every
    ``n``-th iteration of an epoch and after its last one; ``engine.state.output["loss"]`` stays the undivided loss.
    ``compile=True`` compiles ``network`` with ``torch.compile`` (MONAI's ``__init__`` does it) and hands
    :meth:`forward` plain tensors instead of ``MetaTensor``s, as MONAI's iteration does.

    Args:
        train_modules: further modules (besides ``network``) to put in train mode each iteration, e.g. a
            second network or an attention module.
        channels_last: put ``network``, ``train_modules`` and each batch's inputs in channels-last memory format
            (:func:`noisymed.utils.to_channels_last`: ``channels_last_3d`` for 3D networks); the values are
            unchanged, GPUs may compute faster. Convert a network before wrapping it in
            ``DistributedDataParallel`` (the conversion here is then a no-op).
        kwargs: everything :class:`monai.engines.SupervisedTrainer` takes; ``amp`` may be the text
            ``"true"``/``"false"`` of the bundle command line.
    """

    def __init__(
        self, *args: Any, train_modules: Sequence[nn.Module] = (), channels_last: bool | str = False, **kwargs: Any
    ) -> None:
        if "amp" in kwargs:
            kwargs["amp"] = as_bool(kwargs["amp"], "amp")
        super().__init__(*args, **kwargs)
        self.train_modules = list(train_modules)
        self.channels_last = as_bool(channels_last, "channels_last")
        if self.channels_last:
            for module in (self.network, *self.train_modules):
                to_channels_last(module)

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
        if self.compile:  # torch.compile and MetaTensor do not mix (pytorch/pytorch#117026), as in MONAI's iteration
            inputs, targets = _plain(inputs), _plain(targets)
        if self.channels_last:
            inputs = to_channels_last(inputs)
        engine.state.output = {Keys.IMAGE: inputs, Keys.LABEL: targets}
        engine.network.train()
        for module in self.train_modules:
            module.train()
        zero_grad, step = self._accumulation_phase()
        if zero_grad:
            engine.optimizer.zero_grad(set_to_none=engine.optim_set_to_none)
        with self.autocast(inputs):
            outputs = self.forward(inputs, targets, batchdata)
            engine.state.output[Keys.PRED] = outputs[Keys.PRED]
            engine.fire_event(IterationEvents.FORWARD_COMPLETED)
            terms = self.compute_loss(outputs, targets)
            engine.state.output.update({k: v if k == Keys.LOSS else _detached(v) for k, v in terms.items()})
            engine.fire_event(IterationEvents.LOSS_COMPLETED)
        loss = terms[Keys.LOSS] / self.accumulation_steps if self.accumulation_steps > 1 else terms[Keys.LOSS]
        scaler = engine.scaler if engine.amp else None
        if scaler is not None:
            scaler.scale(loss).backward()
            engine.fire_event(IterationEvents.BACKWARD_COMPLETED)
            if step:
                scaler.step(engine.optimizer)
                scaler.update()
        else:
            loss.backward()
            engine.fire_event(IterationEvents.BACKWARD_COMPLETED)
            if step:
                engine.optimizer.step()
        engine.fire_event(IterationEvents.MODEL_COMPLETED)
        return engine.state.output

    def _accumulation_phase(self) -> tuple[bool, bool]:
        """``(zero the gradients first, step the optimizer last)`` for this iteration under ``accumulation_steps``."""
        n = self.accumulation_steps
        if n <= 1:
            return True, True
        length = self.state.epoch_length
        local = (self.state.iteration - 1) % length if length else self.state.iteration - 1  # 0-based
        last_of_epoch = length is not None and local + 1 == length
        return local % n == 0, (local + 1) % n == 0 or last_of_epoch

    def autocast(self, inputs: torch.Tensor) -> AbstractContextManager:
        """``torch.autocast`` for the engine's device (the inputs' device when it has none) with ``amp_kwargs``
        when ``amp`` is set; otherwise a context that does nothing."""
        if not self.amp:
            return nullcontext()
        device = self.state.device if self.state.device is not None else inputs.device
        return torch.autocast(device_type=torch.device(device).type, **self.amp_kwargs)
