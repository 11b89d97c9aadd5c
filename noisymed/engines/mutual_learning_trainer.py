"""Semi-supervised trainer for two-decoder networks: supervised Dice on labeled samples plus mutual loss."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import torch
from monai.utils import CommonKeys as Keys
from torch import nn
from torch.optim import Optimizer
from torch.utils.data import DataLoader

from noisymed.utils import at_least_float32, autocast_off

from .loss_step_trainer import LossStepTrainer

__all__ = ["MutualLearningTrainer", "TrainingForward", "DIAGNOSTIC_KEYS", "mutual_diagnostics", "diagnostic_metrics"]

#: Per-iteration diagnostics of the mutual loss that :class:`MutualLearningTrainer` adds to its output.
DIAGNOSTIC_KEYS = ("diag_agree", "diag_fg_dice", "diag_mask_a", "diag_weight_mean", "diag_weight_p10")


def mutual_diagnostics(
    logits_a: torch.Tensor, logits_b: torch.Tensor, terms: Sequence | None = None
) -> dict[str, float]:
    """Why mutual learning helps or not, on one batch: how the decoders agree, where the mask is on, how the
    reliability weight is spread.

    Args:
        logits_a: (B, K, *spatial) decoder A logits.
        logits_b: decoder B logits, same shape.
        terms: the two :class:`noisymed.losses.PseudoLabelTerm` ``(a from b, b from a)``, or None (then the mask
            and weight entries are NaN).

    Returns:
        ``diag_agree``: share of voxels where the two argmaxes agree; ``diag_fg_dice``: Dice between the two
        decoders' foreground (argmax > 0; 1 when both are empty); ``diag_mask_a``: share of voxels where decoder A
        learns from B (the mask of the other direction is about its complement); ``diag_weight_mean`` and
        ``diag_weight_p10``: mean and 10th percentile of the reliability weight over the voxels where a mask is on.
    """
    with torch.no_grad():
        arg_a, arg_b = logits_a.argmax(1), logits_b.argmax(1)
        fg_a, fg_b = arg_a > 0, arg_b > 0
        total = int(fg_a.sum() + fg_b.sum())
        out = {
            "diag_agree": float((arg_a == arg_b).float().mean()),
            "diag_fg_dice": 2.0 * float((fg_a & fg_b).sum()) / total if total else 1.0,
            "diag_mask_a": float("nan"),
            "diag_weight_mean": float("nan"),
            "diag_weight_p10": float("nan"),
        }
        if terms is not None:
            a_from_b, b_from_a = terms
            out["diag_mask_a"] = float(a_from_b.mask.float().mean())
            on = torch.cat([a_from_b.weight[a_from_b.mask > 0], b_from_a.weight[b_from_a.mask > 0]]).float()
            if on.numel():
                out["diag_weight_mean"] = float(on.mean())
                out["diag_weight_p10"] = float(on.kthvalue(max(1, int(0.1 * on.numel()))).values)
    return out


def diagnostic_metrics() -> dict:
    """ignite ``Average`` metrics of :data:`DIAGNOSTIC_KEYS` over each epoch, for a trainer's ``key_train_metric``.

    MONAI's ``StatsHandler`` then logs them at the end of every epoch (``Epoch[k] Metrics -- diag_agree: ...``),
    i.e. once per validation when an epoch is ``val_interval`` iterations. NaN entries (no mutual loss) stay NaN.
    """
    from ignite.metrics import Average

    def _get(key: str) -> Callable[[Any], float]:
        def read(output: Any) -> float:
            first = output[0] if isinstance(output, (list, tuple)) else output
            return float(first.get(key, float("nan")))

        return read

    return {k: Average(output_transform=_get(k)) for k in DIAGNOSTIC_KEYS}


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
    (decoder A's logits), ``loss`` and the parts ``loss_sup``, ``loss_mutual``, ``weight_mutual`` (and the
    ``diag_*`` entries of :func:`mutual_diagnostics`); ``IterationEvents`` fire as in
    :class:`monai.engines.SupervisedTrainer` (the iteration is
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
        """``loss_sup`` on the labeled samples (mean of both decoders), ``λ(t) · loss_mutual`` on all.

        Under mixed precision the whole loss is computed in float32 (the decoders' outputs are cast up and autocast
        is off), so the Dice's softmax and sums and the mutual loss never run in float16/bfloat16.
        """
        with autocast_off(outputs[Keys.PRED]):
            return self._float32_loss(
                {k: at_least_float32(v) if isinstance(v, torch.Tensor) else v for k, v in outputs.items()}, targets
            )

    def _float32_loss(self, outputs: dict[str, Any], targets: torch.Tensor) -> dict[str, Any]:
        logits_a, logits_b, labeled = outputs[Keys.PRED], outputs["logits_b"], outputs["labeled"]
        zero = logits_a.new_zeros(())
        if labeled.any():
            loss_sup = 0.5 * (
                self.loss_function(logits_a[labeled], targets[labeled]).mean()
                + self.loss_function(logits_b[labeled], targets[labeled]).mean()
            )
        else:
            loss_sup = zero
        terms = None
        if self.mutual_loss is None:
            weight, loss_mutual = 0.0, zero
        else:
            weight = float(self.consistency_weight(self.state.iteration))
            if callable(getattr(self.mutual_loss, "terms", None)):
                terms = self.mutual_loss.terms(logits_a, logits_b, outputs["feat_a"], outputs["feat_b"])
                loss_mutual = terms[0].loss + terms[1].loss
            else:
                loss_mutual = self.mutual_loss(logits_a, logits_b, outputs["feat_a"], outputs["feat_b"])
        loss = loss_sup + weight * loss_mutual
        out = {Keys.LOSS: loss, "loss_sup": loss_sup, "loss_mutual": loss_mutual, "weight_mutual": weight}
        return {**out, **mutual_diagnostics(logits_a, logits_b, terms)}
