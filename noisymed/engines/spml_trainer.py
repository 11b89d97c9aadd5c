"""Trainer for single-positive multi-label learning: the SPML baselines and the MPC framework."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import torch
from ignite.engine import Events
from monai.utils import CommonKeys as Keys
from torch import nn
from torch.optim import Optimizer
from torch.utils.data import DataLoader

from noisymed.losses import PseudoLabelConsistencyLoss, check_thresholds, make_pseudo_labels
from noisymed.utils import as_bool, sigmoid_rampup

from .loss_step_trainer import LossStepTrainer

__all__ = ["SinglePositiveTrainer", "SPMLTrainingForward", "SPML_LOSS_KEYS"]

SPML_LOSS_KEYS = ("loss", "loss_base", "loss_ipc", "loss_fpc", "loss_btc", "weight_cons", "pseudo_pos_rate")


class SPMLTrainingForward(nn.Module):
    """Expose ``net.forward_train`` as ``forward`` so that ``DistributedDataParallel`` can wrap it.

    Args:
        net: a network with ``forward_train(x, x_strong, fp, btc)``, e.g.
            :class:`noisymed.networks.SinglePositiveClassifier`.

    Raises:
        TypeError: when ``net`` has no ``forward_train``.
    """

    def __init__(self, net: nn.Module):
        super().__init__()
        if not callable(getattr(net, "forward_train", None)):
            raise TypeError(f"{type(net).__name__} has no forward_train(); expected a SinglePositiveClassifier.")
        self.net = net

    def forward(self, x: torch.Tensor, x_strong: torch.Tensor | None = None, fp: bool = True, btc: bool = True) -> Any:
        return self.net.forward_train(x, x_strong, fp=fp, btc=btc)


class SinglePositiveTrainer(LossStepTrainer):
    """One iteration of SPML training, with the optional MPC consistency terms.

    ``loss = L_base(logits_weak, y) + r(t) · (λ_ipc L_ipc + λ_fpc L_fpc + λ_btc L_btc)``:

    - ``L_base`` is ``loss_function(logits, y[, index=...])`` on the weak view (an SPML loss of
      :mod:`noisymed.losses.spml`, or full-label BCE with ``label_key="full_label"``);
    - pseudo labels come from the weak view's detached prediction with the observed positive forced to 1
      (:func:`noisymed.losses.make_pseudo_labels`, thresholds ``tau_pos`` / ``tau_neg``);
    - IPC fits the strong view (``strong_key``) to them, FPC the feature-dropout stream, BTC the batch
      transformer stream (:class:`noisymed.losses.PseudoLabelConsistencyLoss` each);
    - with ``pseudo_positives_in_base`` the confident pseudo positives also join the observed positives in
      ``L_base`` (so the base loss stops pushing a recovered positive to 0);
    - ``r(t) = sigmoid_rampup(epochs done, rampup_epochs)``.

    A term with weight 0 is not computed (its stream is not run); with all three at 0 this is plain SPML
    training. With pseudo labels on, each epoch's ``engine.state.metrics`` get ``pseudo_pos_rate`` (the share
    of unobserved labels made pseudo positive) and, where the batch has ``truth_key``, ``pseudo_pos_precision``
    (the share of those that are true positives) and ``hidden_pos_recall`` (the share of the hidden true
    positives recovered), so that logs show whether IPC recovers anything. ``loss_function.set_epoch(epoch)``
    (0-based) is called at each epoch start where it exists (LL-R/LL-Ct), and ``index`` is passed where the loss
    has ``requires_index`` (ROLE). The engine output holds ``image``, ``label``, ``pred`` (weak-view logits),
    ``loss`` and :data:`SPML_LOSS_KEYS`; MONAI's ``IterationEvents`` fire as in ``SupervisedTrainer``.

    Args:
        device: torch device.
        max_epochs: epochs to run.
        train_data_loader: batches with ``image``, ``label_key``, and ``strong_key`` / ``index_key`` when used.
        network: a :class:`~noisymed.networks.SinglePositiveClassifier` (wrapped in
            :class:`SPMLTrainingForward`), or such a wrapper already in ``DistributedDataParallel``.
        optimizer: the optimizer (include the loss's parameters for ROLE).
        loss_function: the base loss.
        label_key: batch key of the training labels (``"label"``: single positive; ``"full_label"``).
        index_key: batch key of the training-set index.
        strong_key: batch key of the strong view.
        ipc_weight: ``λ_ipc`` (>= 0).
        fpc_weight: ``λ_fpc`` (>= 0).
        btc_weight: ``λ_btc`` (>= 0).
        tau_pos: pseudo-positive threshold.
        tau_neg: pseudo-negative threshold.
        rampup_epochs: epochs of the sigmoid ramp of the consistency weights (0: none).
        pseudo_positives_in_base: add confident pseudo positives to the base loss's positives.
        exclusive_class: column of a class exclusive with all others ("No Finding"), used by the pseudo
            labels (see :func:`noisymed.losses.make_pseudo_labels`); None for none.
        truth_key: batch key of the full labels where they are known (simulated single positives). They are
            never used for training, only to report how good the pseudo labels are (see below); None to skip.
        train_handlers: MONAI/ignite handlers.
        kwargs: anything else ``SupervisedTrainer`` takes.

    Raises:
        ValueError: for a negative weight or ramp, or a batch missing a needed key.
    """

    def __init__(
        self,
        device: str | torch.device,
        max_epochs: int,
        train_data_loader: Iterable | DataLoader,
        network: nn.Module,
        optimizer: Optimizer,
        loss_function: Callable,
        label_key: str = "label",
        index_key: str = "index",
        strong_key: str = "image_strong",
        ipc_weight: float = 0.0,
        fpc_weight: float = 0.0,
        btc_weight: float = 0.0,
        tau_pos: float = 0.7,
        tau_neg: float = 0.05,
        rampup_epochs: float = 0.0,
        pseudo_positives_in_base: bool = True,
        exclusive_class: int | None = None,
        truth_key: str | None = "full_label",
        train_handlers: Sequence | None = None,
        **kwargs: Any,
    ):
        for name, value in (
            ("ipc_weight", ipc_weight),
            ("fpc_weight", fpc_weight),
            ("btc_weight", btc_weight),
            ("rampup_epochs", rampup_epochs),
        ):
            if value < 0:
                raise ValueError(f"{name} must be >= 0, got {value}.")
        check_thresholds(tau_pos, tau_neg)
        if callable(getattr(network, "forward_train", None)):
            network = SPMLTrainingForward(network)
        super().__init__(
            device=device,
            max_epochs=max_epochs,
            train_data_loader=train_data_loader,
            network=network,
            optimizer=optimizer,
            loss_function=loss_function,
            train_handlers=train_handlers,
            **kwargs,
        )
        self.label_key, self.index_key, self.strong_key = label_key, index_key, strong_key
        self.weights = {"ipc": float(ipc_weight), "fpc": float(fpc_weight), "btc": float(btc_weight)}
        self._use = {k: w > 0 for k, w in self.weights.items()}  # a term with weight 0 is not computed
        self.tau_pos, self.tau_neg = float(tau_pos), float(tau_neg)
        self.rampup_epochs = float(rampup_epochs)
        self.pseudo_positives_in_base = as_bool(pseudo_positives_in_base, "pseudo_positives_in_base")
        self.exclusive_class = exclusive_class
        self.consistency = PseudoLabelConsistencyLoss()
        self.truth_key = truth_key
        self._counts = torch.zeros(4, dtype=torch.long)  # unobserved, pseudo positive, true pseudo positive, hidden
        self.add_event_handler(Events.EPOCH_STARTED, lambda e: self._counts.zero_())
        self.add_event_handler(Events.EPOCH_COMPLETED, self._pseudo_label_metrics)
        if callable(getattr(loss_function, "set_epoch", None)):
            self.add_event_handler(Events.EPOCH_STARTED, lambda e: loss_function.set_epoch(e.state.epoch - 1))

    def _pseudo_label_metrics(self, engine: SinglePositiveTrainer) -> None:
        unobserved, pseudo, true_pseudo, hidden = (int(v) for v in self._counts)
        if not any(w > 0 for w in self.weights.values()) or unobserved == 0:
            return
        engine.state.metrics["pseudo_pos_rate"] = pseudo / unobserved
        if hidden or true_pseudo:
            engine.state.metrics["pseudo_pos_precision"] = true_pseudo / pseudo if pseudo else 0.0
            engine.state.metrics["hidden_pos_recall"] = true_pseudo / hidden if hidden else 0.0

    def _get(self, batchdata: dict, key: str) -> torch.Tensor:
        if key not in batchdata:
            raise ValueError(f"batch has no {key!r} (keys: {sorted(batchdata)}).")
        return torch.as_tensor(batchdata[key]).to(self.state.device, non_blocking=self.non_blocking)

    def batch_inputs(self, batchdata: dict) -> tuple[torch.Tensor, torch.Tensor]:
        """The weak view and the training labels (``label_key``) of a batch."""
        return self._get(batchdata, Keys.IMAGE).float(), self._get(batchdata, self.label_key).float()

    def forward(self, inputs: torch.Tensor, targets: torch.Tensor, batchdata: dict) -> dict[str, Any]:
        """The network's training streams (weak-view logits as ``pred``), plus the batch's ``index`` where the
        loss needs it and its full labels (``truth``) where known, for :meth:`compute_loss`."""
        use = self._use
        needs_strong = use["ipc"] or (use["btc"] and self.strong_key in batchdata)
        x_strong = self._get(batchdata, self.strong_key).float() if needs_strong else None
        out = dict(self.network(inputs, x_strong, use["fpc"], use["btc"]))
        out[Keys.PRED] = out.pop("logits")
        if getattr(self.loss_function, "requires_index", False):
            out["index"] = self._get(batchdata, self.index_key)
        if any(use.values()) and self.truth_key is not None and self.truth_key in batchdata:
            out["truth"] = self._get(batchdata, self.truth_key) > 0.5
        return out

    def compute_loss(self, outputs: dict[str, Any], targets: torch.Tensor) -> dict[str, Any]:
        """The base loss and the ramped MPC terms (see the class docstring); counts the pseudo labels."""
        logits, use = outputs[Keys.PRED], self._use
        zero = logits.new_zeros(())
        terms = {"ipc": zero, "fpc": zero, "btc": zero}
        ramp, pseudo_rate = 0.0, 0.0
        base_targets = targets
        if any(use.values()):
            pseudo, mask = make_pseudo_labels(logits, targets, self.tau_pos, self.tau_neg, self.exclusive_class)
            unobserved = targets < 0.5
            made = pseudo.bool() & unobserved
            n_unobserved, n_made = int(unobserved.sum()), int(made.sum())
            pseudo_rate = n_made / max(1, n_unobserved)
            self._counts[0] += n_unobserved
            self._counts[1] += n_made
            if "truth" in outputs:
                self._counts[2] += int((made & outputs["truth"]).sum())
                self._counts[3] += int((unobserved & outputs["truth"]).sum())
            if self.pseudo_positives_in_base:
                base_targets = torch.maximum(targets, pseudo)
            epoch_length = self.state.epoch_length or 1
            ramp = sigmoid_rampup((self.state.iteration - 1) / epoch_length, self.rampup_epochs)
            streams = {"ipc": "logits_strong", "fpc": "logits_fp", "btc": "logits_btc"}
            for name, key in streams.items():
                if use[name]:
                    if key not in outputs:
                        raise ValueError(f"{name} is on but the network gave no {key!r} (no batch transformer?).")
                    terms[name] = self.consistency(outputs[key], pseudo, mask)
        if "index" in outputs:
            loss_base = self.loss_function(logits, base_targets, index=outputs["index"])
        else:
            loss_base = self.loss_function(logits, base_targets)
        loss = loss_base + ramp * sum(self.weights[k] * terms[k] for k in terms)
        return {
            Keys.LOSS: loss,
            "loss_base": loss_base,
            "loss_ipc": terms["ipc"],
            "loss_fpc": terms["fpc"],
            "loss_btc": terms["btc"],
            "weight_cons": ramp,
            "pseudo_pos_rate": pseudo_rate,
        }
