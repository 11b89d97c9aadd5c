"""One entry point for every noisy-label training method, so a bundle picks the method with one override.

=====================  ==============================================================================
``method``             what trains
=====================  ==============================================================================
``ce``                 cross entropy (MONAI ``SupervisedTrainer``)
``gce``                generalized cross entropy, ``q`` (Zhang & Sabuncu 2018)
``sce``                symmetric cross entropy, ``sce_alpha``, ``sce_beta`` (Wang et al. 2019)
``mixup``              input mixup, ``mixup_alpha`` (Zhang et al. 2018)
``coteaching``         co-teaching, ``forget_rate`` (default: the noise rate), ``num_gradual`` (Han et al. 2018)
``mixup_attention``    intra-group mixup attention: ``gamma`` * CE on the mixtures + ``plain_weight`` * CE on the batch,
                       ``group_size``, ``grouping``, ``hidden_dim``
=====================  ==============================================================================

Self-supervised pretraining is separate (``pretrain.json`` with :class:`SSLPretrainer`); its weights are
loaded into the network before any of these methods trains, so every method can be run with or without it.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from monai.engines import SupervisedTrainer
from torch import nn
from torch.optim import Optimizer

from noisymed.losses import GeneralizedCrossEntropyLoss, SymmetricCrossEntropyLoss
from noisymed.networks import IntraGroupMixupAttention, WithFeatures

from .co_teaching_trainer import CoTeachingTrainer
from .mixup_attention_trainer import MixupAttentionTrainer
from .mixup_trainer import MixupTrainer

__all__ = ["METHODS", "METHOD_OPTIONS", "noisy_label_trainer", "reinitialized_copy", "loss_keys", "distributed_network"]

METHODS = ("ce", "gce", "sce", "mixup", "coteaching", "mixup_attention")

#: Options each method reads from ``options`` and their defaults.
METHOD_OPTIONS: dict[str, dict[str, Any]] = {
    "ce": {},
    "gce": {"q": 0.7},
    "sce": {"sce_alpha": 0.1, "sce_beta": 1.0},
    "mixup": {"mixup_alpha": 1.0},
    "coteaching": {"forget_rate": None, "num_gradual": 10},
    "mixup_attention": {"gamma": 1.0, "plain_weight": 1.0, "group_size": 2, "grouping": "class", "hidden_dim": 128},
}

_LOSS_KEYS = {
    "coteaching": ("loss", "loss_net1", "loss_net2", "forget_rate"),
    "mixup_attention": ("loss", "loss_plain", "loss_mixed", "attention_min"),
}


def loss_keys(method: str) -> tuple[str, ...]:
    """The loss terms a method's trainer puts in its output (for progress bars and logs)."""
    return _LOSS_KEYS.get(method, ("loss",))


def reinitialized_copy(network: nn.Module) -> nn.Module:
    """A copy of ``network`` (unwrapped from DDP) with fresh random parameters (each module's ``reset_parameters``)."""
    net = copy.deepcopy(getattr(network, "module", network))
    for module in net.modules():
        if callable(getattr(module, "reset_parameters", None)):
            module.reset_parameters()
    return net


def _distributed(module: nn.Module, device: torch.device) -> nn.Module:
    """``module`` wrapped in DDP when a process group with several ranks is running, so its gradients are synced."""
    if (
        torch.distributed.is_available()
        and torch.distributed.is_initialized()
        and torch.distributed.get_world_size() > 1
    ):
        ids = [device] if device.type == "cuda" else None
        return nn.parallel.DistributedDataParallel(module, device_ids=ids)
    return module


def distributed_network(network: nn.Module, method: str, device: str | torch.device) -> nn.Module:
    """``network`` wrapped for multi-GPU training of ``method``: ``DistributedDataParallel`` around the module
    whose ``forward`` the method's trainer calls (``WithFeatures(network)`` for ``mixup_attention``).

    Raises:
        ValueError: for an unknown method.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}.")
    device = torch.device(device)
    module = WithFeatures(network) if method == "mixup_attention" else network
    return nn.parallel.DistributedDataParallel(module, device_ids=[device] if device.type == "cuda" else None)


def noisy_label_trainer(
    method: str,
    device: str | torch.device,
    max_epochs: int,
    train_data_loader: Any,
    network: nn.Module,
    optimizer: Optimizer,
    num_classes: int,
    noise_rate: float = 0.0,
    options: Mapping[str, Any] | None = None,
    train_handlers: Sequence | None = None,
    **kwargs: Any,
) -> SupervisedTrainer:
    """Build the trainer of ``method`` (see the module docstring).

    Modules the method adds (the attention module, co-teaching's second network) are created here on
    ``device`` and their parameters added to ``optimizer`` as a new parameter group with its defaults.

    Args:
        method: one of :data:`METHODS`.
        device: torch device.
        max_epochs: epochs to train.
        train_data_loader: batches with ``image`` and integer ``label``.
        network: a :class:`noisymed.networks.FeatureClassifier` (or its DDP wrapper).
        optimizer: optimizer over ``network``'s parameters.
        num_classes: number of classes.
        noise_rate: the injected noise rate; co-teaching's default forget rate.
        options: method options (see :data:`METHOD_OPTIONS`); unknown keys are an error.
        train_handlers: MONAI/ignite handlers.
        kwargs: anything else :class:`monai.engines.SupervisedTrainer` takes.

    Returns:
        The trainer.

    Raises:
        ValueError: for an unknown method or an option the method does not read.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}.")
    given = dict(options or {})
    known = set().union(*METHOD_OPTIONS.values())
    unknown = sorted(set(given) - known)
    if unknown:
        raise ValueError(f"unknown method option(s) {unknown}; known: {sorted(known)}.")
    opts = {**METHOD_OPTIONS[method], **{k: v for k, v in given.items() if k in METHOD_OPTIONS[method]}}
    device = torch.device(device)
    common = dict(
        device=device,
        max_epochs=max_epochs,
        train_data_loader=train_data_loader,
        network=network,
        optimizer=optimizer,
        train_handlers=train_handlers,
        **kwargs,
    )
    if method == "gce":
        return SupervisedTrainer(loss_function=GeneralizedCrossEntropyLoss(q=opts["q"]), **common)
    if method == "sce":
        return SupervisedTrainer(
            loss_function=SymmetricCrossEntropyLoss(alpha=opts["sce_alpha"], beta=opts["sce_beta"]), **common
        )
    if method == "mixup":
        return MixupTrainer(loss_function=nn.CrossEntropyLoss(), alpha=opts["mixup_alpha"], **common)
    if method == "coteaching":
        peer = reinitialized_copy(network).to(device)
        optimizer.add_param_group({"params": list(peer.parameters())})
        rate = noise_rate if opts["forget_rate"] is None else opts["forget_rate"]
        return CoTeachingTrainer(
            loss_function=nn.CrossEntropyLoss(reduction="none"),
            network2=_distributed(peer, device),
            rate=rate,
            num_gradual=opts["num_gradual"],
            **common,
        )
    if method == "mixup_attention":
        inner = getattr(network, "module", network)
        feature_dim = getattr(inner, "net", inner).feature_dim
        attention = IntraGroupMixupAttention(
            feature_dim,
            num_classes,
            group_size=opts["group_size"],
            hidden_dim=opts["hidden_dim"],
            grouping=opts["grouping"],
        ).to(device)
        optimizer.add_param_group({"params": list(attention.parameters())})
        return MixupAttentionTrainer(
            loss_function=nn.CrossEntropyLoss(),
            attention=_distributed(attention, device),
            gamma=opts["gamma"],
            plain_weight=opts["plain_weight"],
            **common,
        )
    return SupervisedTrainer(loss_function=nn.CrossEntropyLoss(), **common)
