"""The interface every self-supervised pretraining objective implements for :class:`SSLPretrainer`.

An objective is an ``nn.Module`` that holds everything a method adds to the backbone: heads, predictors, a
momentum copy of the encoder, a queue of negatives. Its ``state_dict`` is therefore the method's whole state and
goes into the pretraining checkpoints beside the backbone. One call computes the loss of a batch from the backbone
and the two views; :meth:`SSLObjective.after_step` runs after each optimizer step (momentum updates).
"""

from __future__ import annotations

import copy

import torch
from torch import nn

__all__ = ["SSLObjective", "features", "frozen_copy", "momentum_update"]


def features(backbone: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """(B, D) pooled features of ``images`` (the backbone's output flattened after the batch axis)."""
    return torch.flatten(backbone(images), 1)


def frozen_copy(module: nn.Module) -> nn.Module:
    """A deep copy of ``module`` (unwrapped from DDP) whose parameters require no gradient: a momentum target."""
    target = copy.deepcopy(getattr(module, "module", module))
    target.requires_grad_(False)
    return target


@torch.no_grad()
def momentum_update(target: nn.Module, online: nn.Module, momentum: float) -> None:
    """``target <- momentum * target + (1 - momentum) * online``, parameter by parameter (an exponential moving
    average); buffers (batch-norm statistics) stay the target's own.

    Raises:
        ValueError: when the two modules do not have the same parameters.
    """
    online = getattr(online, "module", online)
    t_params, o_params = list(target.parameters()), list(online.parameters())
    if len(t_params) != len(o_params) or any(t.shape != o.shape for t, o in zip(t_params, o_params, strict=True)):
        raise ValueError("momentum target and online module differ in their parameters.")
    for t, o in zip(t_params, o_params, strict=True):
        t.mul_(momentum).add_(o.detach(), alpha=1.0 - momentum)


class SSLObjective(nn.Module):
    """Base class of the pretraining objectives.

    Subclasses implement :meth:`forward`; those with a momentum encoder implement :meth:`after_step`.

    Attributes:
        uses_second_view: whether :meth:`forward` reads the second view (the trainer then requires it).
        loss_keys: the terms :meth:`forward` returns (``loss`` first), for progress bars and logs.
    """

    uses_second_view: bool = True
    loss_keys: tuple[str, ...] = ("loss",)

    def forward(
        self, backbone: nn.Module, view1: torch.Tensor, view2: torch.Tensor | None, labels: torch.Tensor | None
    ) -> dict[str, torch.Tensor]:
        """The loss of one batch.

        Args:
            backbone: maps (B, C, *spatial) images to (B, D) features (possibly DDP-wrapped).
            view1: first augmented view of the batch.
            view2: second augmented view (None where :attr:`uses_second_view` is false).
            labels: the batch's labels or None (used by supervised contrastive learning only).

        Returns:
            ``{"loss": scalar, "pred": tensor, ...}``; ``pred`` is what the trainer exposes as its prediction
            (embeddings or pretext logits); other entries are logged.
        """
        raise NotImplementedError

    def after_step(self, backbone: nn.Module) -> None:
        """Called after each optimizer step with the (updated) backbone; nothing by default."""

    def trainable_parameters(self) -> list[nn.Parameter]:
        """The parameters the optimizer updates (momentum targets and buffers excluded)."""
        return [p for p in self.parameters() if p.requires_grad]
