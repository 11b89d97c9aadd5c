"""Contrastive pretraining of a feature extractor (the noisy-label paper's method, part 1): SimCLR or SupCon."""

from __future__ import annotations

from typing import Any

import torch
from monai.utils import CommonKeys as Keys
from torch import nn

from noisymed.utils import as_bool

from .loss_step_trainer import LossStepTrainer

__all__ = ["ContrastivePretrainer"]


class ContrastivePretrainer(LossStepTrainer):
    """Two augmented views of each image through the backbone and a projection head, then a contrastive loss.

    The batch holds the first view under ``image`` and the second under ``view_key`` (two independent random
    augmentations of the same image). Both views go through the network in one pass, so batch normalisation
    sees them together, as in SimCLR. With ``use_labels`` the loss also gets the batch's labels (SupCon);
    otherwise it is called as ``loss(z1, z2)``, which fits MONAI's NT-Xent :class:`monai.losses.ContrastiveLoss`.

    Args:
        projection: the projection head (training only; its parameters must be in the optimizer).
        view_key: batch key of the second view.
        use_labels: pass the labels to the loss (:class:`noisymed.losses.SupConLoss`).
        kwargs: everything :class:`LossStepTrainer` takes; ``network`` maps images to (B, D) features, e.g.
            ``FeatureClassifier(...).backbone`` (or its ``DistributedDataParallel`` wrapper).

    Raises:
        ValueError: when a batch lacks the second view.
    """

    def __init__(
        self, *args: Any, projection: nn.Module, view_key: str = "image_2", use_labels: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, train_modules=[projection], **kwargs)
        self.projection, self.view_key = projection, view_key
        self.use_labels = as_bool(use_labels, "use_labels")

    def forward(self, inputs: torch.Tensor, targets: torch.Tensor, batchdata: dict) -> dict[str, Any]:
        if self.view_key not in batchdata:
            raise ValueError(f"batch has no second view {self.view_key!r} (keys: {list(batchdata)}).")
        view2 = torch.as_tensor(batchdata[self.view_key]).to(inputs.device)
        z = self.projection(torch.flatten(self.network(torch.cat([inputs, view2], 0)), 1))
        z1, z2 = z.chunk(2, 0)
        return {Keys.PRED: z1, "embedding_2": z2}

    def compute_loss(self, outputs: dict[str, Any], targets: torch.Tensor) -> dict[str, Any]:
        z1, z2 = outputs[Keys.PRED], outputs["embedding_2"]
        loss = self.loss_function(z1, z2, targets.reshape(-1)) if self.use_labels else self.loss_function(z1, z2)
        return {Keys.LOSS: loss}
