"""One pretraining trainer for every self-supervised method, and the factory that builds each method's objective.

=================  ==============================================================  =================================
``objective``      method                                                          options (defaults)
=================  ==============================================================  =================================
``simclr``         NT-Xent contrastive (Chen et al. 2020)                          temperature 0.5
``supcon``         supervised contrastive with the (noisy) labels (Khosla 2020)    temperature 0.5
``moco``           MoCo v2, momentum encoder + queue (He 2020; Chen 2020)          temperature 0.2, queue_size 1024,
                                                                                   momentum 0.99
``byol``           BYOL, momentum target + predictor (Grill et al. 2020)           momentum 0.99
``simsiam``        SimSiam, stop-gradient + predictor (Chen & He 2021)
``barlow_twins``   Barlow Twins, cross-correlation to identity (Zbontar 2021)      lambda_offdiag 0.005
``rotation``       rotation prediction (Gidaris et al. 2018)
``jigsaw``         jigsaw puzzle, 2x2 (2D) / 2x2x2 (3D) tiles (Noroozi 2016)       num_permutations 24
``vae``            VAE whose encoder is the backbone (Kingma & Welling 2014)       latent_dim 64, beta 1.0
=================  ==============================================================  =================================

Joint-embedding methods also read ``hidden_dim`` (256) and ``embedding_dim`` (128; Barlow Twins 256); jigsaw
reads ``hidden_dim``. The trainer stays the same for all: it hands the backbone and the batch's two views to the
objective, backpropagates the loss the objective returns into the backbone and the objective's trainable
parameters, then lets the objective update its momentum targets. The objective's state (heads, momentum
encoders, MoCo's queue) is a ``state_dict``: save it beside the backbone to resume pretraining.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from monai.engines.utils import IterationEvents
from torch import nn

from .joint_embedding_objectives import (
    BarlowTwinsObjective,
    BYOLObjective,
    ContrastiveObjective,
    MoCoObjective,
    SimSiamObjective,
)
from .loss_step_trainer import LossStepTrainer
from .pretext_objectives import JigsawObjective, RotationObjective
from .ssl_objective import SSLObjective
from .vae_objective import VAEObjective

__all__ = ["SSLPretrainer", "SSL_OBJECTIVES", "SSL_OPTIONS", "ssl_objective"]

_HEAD = {"hidden_dim": 256, "embedding_dim": 128}

#: Options each objective reads and their defaults.
SSL_OPTIONS: dict[str, dict[str, Any]] = {
    "simclr": {"temperature": 0.5, **_HEAD},
    "supcon": {"temperature": 0.5, **_HEAD},
    "moco": {"temperature": 0.2, "queue_size": 1024, "momentum": 0.99, **_HEAD},
    "byol": {"momentum": 0.99, **_HEAD},
    "simsiam": dict(_HEAD),
    "barlow_twins": {"lambda_offdiag": 5e-3, "hidden_dim": 256, "embedding_dim": 256},
    "rotation": {},
    "jigsaw": {"num_permutations": 24, "hidden_dim": 256},
    "vae": {"latent_dim": 64, "beta": 1.0},
}
SSL_OBJECTIVES = tuple(SSL_OPTIONS)


def ssl_objective(
    name: str,
    backbone: nn.Module,
    feature_dim: int,
    spatial_dims: int,
    in_channels: int,
    spatial_size: Sequence[int],
    options: Mapping[str, Any] | None = None,
    temperature: float | None = None,
    device: str | torch.device | None = None,
) -> SSLObjective:
    """Build the objective ``name`` for ``backbone`` (see the module docstring for the options).

    Args:
        name: one of :data:`SSL_OBJECTIVES`.
        backbone: the backbone being pretrained (momentum methods copy it).
        feature_dim: its feature size.
        spatial_dims: 2 or 3.
        in_channels: image channels (VAE).
        spatial_size: image size (VAE).
        options: objective options; a key no objective reads is an error, a key another objective reads is
            ignored (so one options dict can serve a whole study).
        temperature: shorthand for ``options["temperature"]``; None keeps the objective's default.
        device: where the objective's modules go (None: the backbone's device).

    Returns:
        The objective, on ``device``.

    Raises:
        ValueError: for an unknown objective or option, or ``spatial_dims`` not 2 or 3.
    """
    if name not in SSL_OBJECTIVES:
        raise ValueError(f"pretrain_objective must be one of {SSL_OBJECTIVES}, got {name!r}.")
    if spatial_dims not in (2, 3):
        raise ValueError(f"spatial_dims must be 2 or 3, got {spatial_dims}.")
    given = dict(options or {})
    if temperature is not None:
        given["temperature"] = temperature
    known = set().union(*SSL_OPTIONS.values())
    unknown = sorted(set(given) - known)
    if unknown:
        raise ValueError(f"unknown pretraining option(s) {unknown}; known: {sorted(known)}.")
    opts = {**SSL_OPTIONS[name], **{k: v for k, v in given.items() if k in SSL_OPTIONS[name]}}
    if name in ("simclr", "supcon"):
        objective: SSLObjective = ContrastiveObjective(feature_dim, use_labels=name == "supcon", **opts)
    elif name == "moco":
        objective = MoCoObjective(backbone, feature_dim, **opts)
    elif name == "byol":
        objective = BYOLObjective(backbone, feature_dim, **opts)
    elif name == "simsiam":
        objective = SimSiamObjective(feature_dim, **opts)
    elif name == "barlow_twins":
        objective = BarlowTwinsObjective(feature_dim, **opts)
    elif name == "rotation":
        objective = RotationObjective(feature_dim)
    elif name == "jigsaw":
        objective = JigsawObjective(feature_dim, spatial_dims, **opts)
    else:
        objective = VAEObjective(feature_dim, in_channels, spatial_size, **opts)
    if device is None:
        device = next(iter(backbone.parameters())).device
    return objective.to(device)


class SSLPretrainer(LossStepTrainer):
    """Self-supervised pretraining of a backbone with any :class:`SSLObjective`.

    The batch holds the first view under ``image`` and the second under ``view_key`` (two independent random
    augmentations of the same image, e.g. the bundle's ``pretrain.json`` views). ``engine.state.output`` gets the
    objective's terms (``loss`` and those in its ``loss_keys``) for the usual MONAI handlers.

    Args:
        objective: the method (from :func:`ssl_objective`); its trainable parameters must be in the optimizer.
        view_key: batch key of the second view.
        kwargs: everything :class:`LossStepTrainer` takes except ``loss_function`` (the objective is the loss);
            ``network`` maps images to (B, D) features, e.g. ``FeatureClassifier(...).backbone``.

    Raises:
        TypeError: for an objective that is not an :class:`SSLObjective`.
        ValueError: when a batch lacks the second view the objective needs.
    """

    def __init__(self, *args: Any, objective: SSLObjective, view_key: str = "image_2", **kwargs: Any) -> None:
        if not isinstance(objective, SSLObjective):
            raise TypeError(f"objective must be an SSLObjective (see ssl_objective()), got {type(objective).__name__}.")
        super().__init__(*args, loss_function=objective, train_modules=[objective], **kwargs)
        self.objective, self.view_key = objective, view_key
        self.add_event_handler(IterationEvents.MODEL_COMPLETED, self._after_step)

    def _after_step(self, engine: SSLPretrainer) -> None:
        self.objective.after_step(self.network)

    def forward(self, inputs: torch.Tensor, targets: torch.Tensor, batchdata: dict) -> dict[str, Any]:
        view2 = None
        if self.objective.uses_second_view:
            if self.view_key not in batchdata:
                raise ValueError(f"batch has no second view {self.view_key!r} (keys: {list(batchdata)}).")
            view2 = torch.as_tensor(batchdata[self.view_key]).to(inputs.device)
        return self.objective(self.network, inputs, view2, targets)

    def compute_loss(self, outputs: dict[str, Any], targets: torch.Tensor) -> dict[str, Any]:
        return {k: v for k, v in outputs.items() if k != "pred"}
