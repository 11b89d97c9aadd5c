"""Semi-supervised trainer for two-decoder networks: supervised Dice on labeled samples plus mutual loss."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import torch
from monai.utils import CommonKeys as Keys
from torch import nn
from torch.optim import Optimizer
from torch.utils.data import DataLoader

from .loss_step_trainer import LossStepTrainer

__all__ = ["MutualLearningTrainer", "TrainingForward"]


class TrainingForward(nn.Module):
    """Expose ``net.forward_train`` as ``forward`` so that ``DistributedDataParallel`` can wrap it.

    Args:
        net: a network with ``forward_train`` (e.g. :class:`noisymed.networks.TwoDecoderVNet`).

    Raises:
        TypeError: when ``net`` has no ``forward_train``.
    """

    def __init__(self, net: nn.Module):
        super().__init__()
        if not callable(getattr(net, "forward_train", None)):
            raise TypeError(f"{type(net).__name__} has no forward_train(); expected a two-decoder network.")
        self.net = net

    def forward(self, x: torch.Tensor) -> Any:
        return self.net.forward_train(x)


class MutualLearningTrainer(LossStepTrainer):
    """One iteration: both decoders' logits and features; Dice on labeled samples; mutual loss on all.

    ``loss = mean_d supervised_loss(logits_d[labeled], label[labeled]) + λ(t) · mutual_loss(...)``,
    where ``λ(t) = consistency_weight(iteration)``. With ``mutual_loss=None`` it is plain supervised
    training of both decoders (the baselines). The engine output holds ``image``, ``label``, ``pred``
    (decoder A's logits), ``loss`` and the parts ``loss_sup``, ``loss_mutual``, ``weight_mutual``;
    ``IterationEvents`` fire as in :class:`monai.engines.SupervisedTrainer` (the iteration is
    :class:`LossStepTrainer`'s), so MONAI's handlers work.

    Args:
        device: torch device.
        max_epochs: epochs to run (an epoch is ``len(train_data_loader)`` iterations).
        train_data_loader: batches with ``image``, ``label`` and the labeled flag.
        network: a two-decoder network (wrapped in :class:`TrainingForward` unless it already returns
            the 4-tuple, e.g. ``DistributedDataParallel(TrainingForward(net))``).
        optimizer: the optimizer.
        supervised_loss: loss on ``(logits, label)`` of the labeled samples, e.g. MONAI's ``DiceLoss``.
        mutual_loss: e.g. :class:`noisymed.losses.ReliablePseudoLabelLoss`; None for supervised only.
        consistency_weight: ``iteration -> λ``, e.g. :class:`noisymed.utils.ConsistencyWeight`.
        labeled_key: batch key of the 0/1 labeled flag.
        kwargs: anything else :class:`monai.engines.SupervisedTrainer` takes (handlers, epoch_length...).

    Raises:
        ValueError: when a batch lacks the labeled flag.
    """

    def __init__(
        self,
        device: str | torch.device,
        max_epochs: int,
        train_data_loader: Iterable | DataLoader,
        network: nn.Module,
        optimizer: Optimizer,
        supervised_loss: Callable,
        mutual_loss: Callable | None = None,
        consistency_weight: Callable[[int], float] | None = None,
        labeled_key: str = "labeled",
        train_handlers: Sequence | None = None,
        **kwargs: Any,
    ):
        if callable(getattr(network, "forward_train", None)):
            network = TrainingForward(network)
        super().__init__(
            device=device,
            max_epochs=max_epochs,
            train_data_loader=train_data_loader,
            network=network,
            optimizer=optimizer,
            loss_function=supervised_loss,
            train_handlers=train_handlers,
            **kwargs,
        )
        self.mutual_loss = mutual_loss
        self.consistency_weight = consistency_weight if consistency_weight is not None else (lambda it: 1.0)
        self.labeled_key = labeled_key

    def forward(self, inputs: torch.Tensor, targets: torch.Tensor, batchdata: dict) -> dict[str, Any]:
        """Both decoders' logits and features, and the labeled flag of each sample.

        Raises:
            ValueError: when the batch lacks the labeled flag.
        """
        if self.labeled_key not in batchdata:
            raise ValueError(
                f"batch has no {self.labeled_key!r} flag (keys: {list(batchdata)}); add noisymed.transforms.MarkLabeledd."
            )
        labeled = torch.as_tensor(batchdata[self.labeled_key]).to(inputs.device).reshape(-1).bool()
        logits_a, logits_b, feat_a, feat_b = self.network(inputs)
        return {Keys.PRED: logits_a, "logits_b": logits_b, "feat_a": feat_a, "feat_b": feat_b, "labeled": labeled}

    def compute_loss(self, outputs: dict[str, Any], targets: torch.Tensor) -> dict[str, Any]:
        """``loss_sup`` on the labeled samples (mean of both decoders), ``λ(t) · loss_mutual`` on all."""
        logits_a, logits_b, labeled = outputs[Keys.PRED], outputs["logits_b"], outputs["labeled"]
        zero = logits_a.new_zeros(())
        if labeled.any():
            loss_sup = 0.5 * (
                self.loss_function(logits_a[labeled], targets[labeled]).mean()
                + self.loss_function(logits_b[labeled], targets[labeled]).mean()
            )
        else:
            loss_sup = zero
        if self.mutual_loss is None:
            weight, loss_mutual = 0.0, zero
        else:
            weight = float(self.consistency_weight(self.state.iteration))
            loss_mutual = self.mutual_loss(logits_a, logits_b, outputs["feat_a"], outputs["feat_b"])
        loss = loss_sup + weight * loss_mutual
        return {Keys.LOSS: loss, "loss_sup": loss_sup, "loss_mutual": loss_mutual, "weight_mutual": weight}
