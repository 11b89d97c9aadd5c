"""Pretext-task pretraining objectives: the backbone learns by solving a puzzle made from the image itself.

``rotation``: predict the quarter turn applied to each image (Gidaris et al., ICLR 2018); in 3D the turn is about
the last spatial axis (see :func:`noisymed.transforms.rotate_batch`). ``jigsaw``: predict which of a fixed set of
orders shuffled the image's 2-per-axis tiles, each tile encoded by the backbone on its own and the tile features
concatenated in slot order (Noroozi & Favaro, ECCV 2016); in 3D 2 x 2 x 2 tiles (see
:func:`noisymed.transforms.jigsaw_permutations`). Both views of the batch are used, as two independent puzzles.
Both report their pretext accuracy beside the loss.
"""

from __future__ import annotations

import torch
from torch import nn

from noisymed.networks import ProjectionHead
from noisymed.transforms import NUM_ROTATIONS, jigsaw_permutations, jigsaw_tiles, rotate_batch

from .ssl_objective import SSLObjective, features

__all__ = ["RotationObjective", "JigsawObjective"]


def _accuracy(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return (logits.detach().argmax(1) == target).float().mean()


class RotationObjective(SSLObjective):
    """Cross entropy of a linear head predicting the quarter turn (4 classes) from the backbone's features.

    Args:
        feature_dim: backbone feature size.
    """

    loss_keys = ("loss", "pretext_acc")

    def __init__(self, feature_dim: int) -> None:
        super().__init__()
        self.head = nn.Linear(feature_dim, NUM_ROTATIONS)
        self.loss = nn.CrossEntropyLoss()

    def forward(self, backbone, view1, view2, labels):
        images = view1 if view2 is None else torch.cat([view1, view2], 0)
        rotated, turns = rotate_batch(images)
        logits = self.head(features(backbone, rotated))
        return {"loss": self.loss(logits, turns), "pred": logits, "pretext_acc": _accuracy(logits, turns)}


class JigsawObjective(SSLObjective):
    """Cross entropy of an MLP predicting the tile order from the concatenated per-tile features.

    Args:
        feature_dim: backbone feature size.
        spatial_dims: 2 (2 x 2 tiles) or 3 (2 x 2 x 2 tiles).
        num_permutations: the number of orders (classes); None: 24 (all of them in 2D).
        hidden_dim: the MLP's width.
        seed: seed of the fixed permutation set (3D).
    """

    loss_keys = ("loss", "pretext_acc")

    def __init__(
        self,
        feature_dim: int,
        spatial_dims: int = 2,
        num_permutations: int | None = None,
        hidden_dim: int = 256,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.spatial_dims = spatial_dims
        self.register_buffer("permutations", jigsaw_permutations(spatial_dims, num_permutations, seed))
        tiles = self.permutations.shape[1]
        self.head = ProjectionHead(tiles * feature_dim, hidden_dim, self.permutations.shape[0])
        self.loss = nn.CrossEntropyLoss()

    def forward(self, backbone, view1, view2, labels):
        images = view1 if view2 is None else torch.cat([view1, view2], 0)
        if images.ndim - 2 != self.spatial_dims:
            raise ValueError(
                f"jigsaw was built for {self.spatial_dims}D images, got a batch of shape {tuple(images.shape)}."
            )
        order = torch.randint(0, self.permutations.shape[0], (images.shape[0],)).to(images.device)
        tiles = jigsaw_tiles(images, self.permutations, order)  # (B, T, C, *tile)
        b, t = tiles.shape[:2]
        tile_features = features(backbone, tiles.reshape(b * t, *tiles.shape[2:])).reshape(b, -1)
        logits = self.head(tile_features)
        return {"loss": self.loss(logits, order), "pred": logits, "pretext_acc": _accuracy(logits, order)}
