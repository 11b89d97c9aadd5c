"""Joint-embedding pretraining objectives: two views of an image should map to related embeddings.

=================  ===============================================================================================
objective          what is learned
=================  ===============================================================================================
``simclr``         NT-Xent over both views of the batch (MONAI ``ContrastiveLoss``; Chen et al., ICML 2020)
``supcon``         supervised contrastive loss with the batch's (possibly noisy) labels (Khosla et al. 2020)
``moco``           MoCo v2: query encoder vs. a momentum key encoder and a queue of earlier keys as negatives
                   (InfoNCE; He et al., CVPR 2020; Chen et al. 2020)
``byol``           BYOL: an online predictor regresses a momentum target's projection, no negatives (Grill et al.)
``simsiam``        SimSiam: the same with stop-gradient instead of a momentum target (Chen & He, CVPR 2021)
``barlow_twins``   Barlow Twins: cross-correlation of the views' embeddings to the identity (Zbontar et al. 2021)
=================  ===============================================================================================

Projectors and predictors are :class:`noisymed.networks.ProjectionHead` (``Linear - BatchNorm - ReLU - Linear``);
the papers' ImageNet widths (2048-8192) are options. Momentum encoders run in train mode (batch statistics) and
MoCo's queue starts as random unit vectors, as in the reference code; MoCo's shuffled batch norm (a multi-GPU
trick) is not used. The momentum coefficient is constant (BYOL's cosine schedule towards 1 is not used: short runs).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from monai.losses import ContrastiveLoss
from torch import nn

from noisymed.losses import BarlowTwinsLoss, BYOLLoss, InfoNCELoss, SimSiamLoss, SupConLoss
from noisymed.networks import ProjectionHead

from .ssl_objective import SSLObjective, features, frozen_copy, momentum_update

__all__ = ["ContrastiveObjective", "MoCoObjective", "BYOLObjective", "SimSiamObjective", "BarlowTwinsObjective"]


def _check_momentum(momentum: float) -> float:
    if not 0.0 <= momentum < 1.0:
        raise ValueError(f"momentum must be in [0, 1), got {momentum}.")
    return float(momentum)


def _both_views(backbone: nn.Module, head: nn.Module, view1: torch.Tensor, view2: torch.Tensor) -> tuple:
    """Both views through backbone and head in one pass (batch norm sees them together), split back."""
    return head(features(backbone, torch.cat([view1, view2], 0))).chunk(2, 0)


class ContrastiveObjective(SSLObjective):
    """SimCLR (NT-Xent, MONAI's ``ContrastiveLoss``) or, with ``use_labels``, SupCon.

    Args:
        feature_dim: backbone feature size.
        temperature: the loss temperature.
        use_labels: SupCon with the batch's labels instead of SimCLR.
        hidden_dim: projection head width.
        embedding_dim: embedding size.
    """

    def __init__(
        self,
        feature_dim: int,
        temperature: float = 0.5,
        use_labels: bool = False,
        hidden_dim: int = 256,
        embedding_dim: int = 128,
    ) -> None:
        super().__init__()
        self.projection = ProjectionHead(feature_dim, hidden_dim, embedding_dim)
        self.use_labels = bool(use_labels)
        self.loss = SupConLoss(temperature) if self.use_labels else ContrastiveLoss(temperature=temperature)

    def forward(self, backbone, view1, view2, labels):
        z1, z2 = _both_views(backbone, self.projection, view1, view2)
        if self.use_labels:
            if labels is None:
                raise ValueError("supcon needs the batch's labels, but the batch has no 'label'.")
            loss = self.loss(z1, z2, labels.reshape(-1))
        else:
            loss = self.loss(z1, z2)
        return {"loss": loss, "pred": z1}


class MoCoObjective(SSLObjective):
    """MoCo v2: InfoNCE of queries (view 1, online) against keys (view 2, momentum encoder) and a queue.

    Args:
        backbone: the online backbone; its momentum copy is taken here.
        feature_dim: backbone feature size.
        temperature: InfoNCE temperature (0.2 in MoCo v2).
        queue_size: number of negatives kept (keep it below the number of training images, or the queue holds
            stale copies of the current images as negatives).
        momentum: key-encoder momentum in [0, 1).
        hidden_dim: projection head width.
        embedding_dim: embedding size.

    Raises:
        ValueError: for a queue size < 1 or a momentum outside [0, 1).
    """

    loss_keys = ("loss", "positive_cos")

    def __init__(
        self,
        backbone: nn.Module,
        feature_dim: int,
        temperature: float = 0.2,
        queue_size: int = 1024,
        momentum: float = 0.99,
        hidden_dim: int = 256,
        embedding_dim: int = 128,
    ) -> None:
        super().__init__()
        if queue_size < 1:
            raise ValueError(f"queue_size must be >= 1, got {queue_size}.")
        self.momentum = _check_momentum(momentum)
        self.projection = ProjectionHead(feature_dim, hidden_dim, embedding_dim)
        self.target_backbone, self.target_projection = frozen_copy(backbone), frozen_copy(self.projection)
        self.register_buffer("queue", F.normalize(torch.randn(int(queue_size), embedding_dim), dim=1))
        self.register_buffer("queue_ptr", torch.zeros((), dtype=torch.long))
        self.loss = InfoNCELoss(temperature)

    @torch.no_grad()
    def _enqueue(self, keys: torch.Tensor) -> None:
        size = self.queue.shape[0]
        keys = F.normalize(keys, dim=1)[-size:]
        index = (self.queue_ptr + torch.arange(keys.shape[0], device=keys.device)) % size
        self.queue[index] = keys
        self.queue_ptr.copy_((self.queue_ptr + keys.shape[0]) % size)

    def forward(self, backbone, view1, view2, labels):
        q = self.projection(features(backbone, view1))
        with torch.no_grad():
            k = self.target_projection(features(self.target_backbone, view2))
        loss = self.loss(q, k, self.queue.clone())
        positive = F.cosine_similarity(q.detach(), k, dim=1).mean()
        self._enqueue(k)
        return {"loss": loss, "pred": q, "positive_cos": positive}

    def after_step(self, backbone):
        momentum_update(self.target_backbone, backbone, self.momentum)
        momentum_update(self.target_projection, self.projection, self.momentum)


class BYOLObjective(SSLObjective):
    """BYOL: the online branch's prediction regresses the momentum target's projection of the other view.

    Args:
        backbone: the online backbone; its momentum copy is taken here.
        feature_dim: backbone feature size.
        momentum: target momentum in [0, 1).
        hidden_dim: projector/predictor width.
        embedding_dim: projection size.

    Raises:
        ValueError: for a momentum outside [0, 1).
    """

    def __init__(
        self,
        backbone: nn.Module,
        feature_dim: int,
        momentum: float = 0.99,
        hidden_dim: int = 256,
        embedding_dim: int = 128,
    ) -> None:
        super().__init__()
        self.momentum = _check_momentum(momentum)
        self.projection = ProjectionHead(feature_dim, hidden_dim, embedding_dim)
        self.predictor = ProjectionHead(embedding_dim, hidden_dim, embedding_dim)
        self.target_backbone, self.target_projection = frozen_copy(backbone), frozen_copy(self.projection)
        self.loss = BYOLLoss()

    def forward(self, backbone, view1, view2, labels):
        z1, z2 = _both_views(backbone, self.projection, view1, view2)
        p1, p2 = self.predictor(torch.cat([z1, z2], 0)).chunk(2, 0)
        with torch.no_grad():
            t1, t2 = _both_views(self.target_backbone, self.target_projection, view1, view2)
        return {"loss": self.loss(p1, p2, t1, t2), "pred": z1}

    def after_step(self, backbone):
        momentum_update(self.target_backbone, backbone, self.momentum)
        momentum_update(self.target_projection, self.projection, self.momentum)


class SimSiamObjective(SSLObjective):
    """SimSiam: symmetric negative cosine of each view's prediction and the other's stopped projection.

    Args:
        feature_dim: backbone feature size.
        hidden_dim: projector/predictor width.
        embedding_dim: projection size.
    """

    loss_keys = ("loss", "embedding_std")

    def __init__(self, feature_dim: int, hidden_dim: int = 256, embedding_dim: int = 128) -> None:
        super().__init__()
        self.projection = ProjectionHead(feature_dim, hidden_dim, embedding_dim)
        self.predictor = ProjectionHead(embedding_dim, hidden_dim, embedding_dim)
        self.loss = SimSiamLoss()

    def forward(self, backbone, view1, view2, labels):
        z1, z2 = _both_views(backbone, self.projection, view1, view2)
        p1, p2 = self.predictor(torch.cat([z1, z2], 0)).chunk(2, 0)
        # the per-dimension spread of the normalised embedding: 0 when the representation collapses
        spread = F.normalize(z1.detach(), dim=1).std(0).mean()
        return {"loss": self.loss(p1, p2, z1, z2), "pred": z1, "embedding_std": spread}


class BarlowTwinsObjective(SSLObjective):
    """Barlow Twins: the views' standardised embeddings' cross-correlation is pulled to the identity.

    Args:
        feature_dim: backbone feature size.
        lambda_offdiag: weight of the off-diagonal term.
        hidden_dim: projector width.
        embedding_dim: embedding size.
    """

    def __init__(
        self, feature_dim: int, lambda_offdiag: float = 5e-3, hidden_dim: int = 256, embedding_dim: int = 256
    ) -> None:
        super().__init__()
        self.projection = ProjectionHead(feature_dim, hidden_dim, embedding_dim)
        self.loss = BarlowTwinsLoss(lambda_offdiag)

    def forward(self, backbone, view1, view2, labels):
        z1, z2 = _both_views(backbone, self.projection, view1, view2)
        return {"loss": self.loss(z1, z2), "pred": z1}
