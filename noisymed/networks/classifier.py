"""An image classifier split into a MONAI backbone (features) and a linear head, in 2D or 3D.

Noisy-label methods need the pooled features as well as the logits: contrastive pretraining puts a projection
head on the features, the intra-group mixup attention mixes features of several samples before the head.
:class:`FeatureClassifier` builds the backbone from MONAI (``ResNet``, ``DenseNet121``; no torchvision) without
its classifier and adds one ``Linear`` head. ``forward(x)`` returns logits, so the network exports and runs as
any MONAI classification network; ``forward_features(x)`` returns the (B, D) features.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from monai.networks.nets import DenseNet121, ResNet
from torch import nn

from noisymed.utils import as_bool

__all__ = ["FeatureClassifier", "WithFeatures", "BACKBONES", "RESNET_LAYERS"]

#: ResNet depths MONAI builds with basic blocks, as ``name -> layers``.
RESNET_LAYERS: dict[str, tuple[int, int, int, int]] = {
    "resnet10": (1, 1, 1, 1),
    "resnet18": (2, 2, 2, 2),
    "resnet34": (3, 4, 6, 3),
}
BACKBONES = (*RESNET_LAYERS, "densenet121")


class FeatureClassifier(nn.Module):
    """MONAI backbone + linear head; ``forward`` gives logits, ``forward_features`` the pooled features.

    Args:
        backbone: one of :data:`BACKBONES`.
        spatial_dims: 2 or 3.
        in_channels: input channels.
        num_classes: output classes (>= 2).
        widths: ResNet stage widths (``block_inplanes``); the torchvision widths are (64, 128, 256, 512).
            Ignored by DenseNet121.
        small_input: for small images (MedMNIST's 28 px): ResNet's first convolution becomes 3 wide with stride
            ``stem_stride`` and its max-pool is dropped (the ImageNet stem, 7 wide with stride 2 and a max-pool,
            would leave 28 px images 1 px wide at the last stage). Ignored by DenseNet121.
        stem_stride: stride of the small-input stem: 2 (default) is 4-8x cheaper on 2 CPU cores than 1.
        dropout: dropout on the features before the head.

    Raises:
        ValueError: for an unknown backbone, ``spatial_dims`` not 2 or 3, ``num_classes`` < 2 or bad widths.

    Example::

        net = FeatureClassifier("resnet18", spatial_dims=2, in_channels=1, num_classes=2, widths=(16, 32, 64, 128))
        logits = net(torch.zeros(4, 1, 28, 28))          # (4, 2)
        feats = net.forward_features(torch.zeros(4, 1, 28, 28))  # (4, 128)
    """

    def __init__(
        self,
        backbone: str = "resnet18",
        spatial_dims: int = 2,
        in_channels: int = 1,
        num_classes: int = 2,
        widths: Sequence[int] = (64, 128, 256, 512),
        small_input: bool = True,
        stem_stride: int = 2,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if backbone not in BACKBONES:
            raise ValueError(f"backbone must be one of {BACKBONES}, got {backbone!r}.")
        if spatial_dims not in (2, 3):
            raise ValueError(f"spatial_dims must be 2 or 3, got {spatial_dims}.")
        if num_classes < 2:
            raise ValueError(f"num_classes must be >= 2, got {num_classes}.")
        if stem_stride < 1:
            raise ValueError(f"stem_stride must be >= 1, got {stem_stride}.")
        widths = [int(w) for w in widths]
        small_input = as_bool(small_input, "small_input")
        if len(widths) != 4 or min(widths) < 1:
            raise ValueError(f"widths must be 4 positive stage widths, got {widths}.")
        self.backbone_name, self.spatial_dims, self.num_classes = backbone, spatial_dims, num_classes
        if backbone == "densenet121":
            net = DenseNet121(spatial_dims=spatial_dims, in_channels=in_channels, out_channels=num_classes)
            self.feature_dim = net.class_layers.out.in_features
            net.class_layers.out = nn.Identity()
        else:
            net = ResNet(
                block="basic",
                layers=RESNET_LAYERS[backbone],
                block_inplanes=widths,
                spatial_dims=spatial_dims,
                n_input_channels=in_channels,
                conv1_t_size=3 if small_input else 7,
                conv1_t_stride=stem_stride if small_input else 2,
                no_max_pool=small_input,
                feed_forward=False,
            )
            self.feature_dim = widths[-1]
        self.backbone = net
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.head = nn.Linear(self.feature_dim, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, *spatial) images -> (B, feature_dim) pooled features."""
        return torch.flatten(self.backbone(x), 1)

    def param_groups(self, backbone_lr: float | None = None) -> list[dict]:
        """Optimizer parameter groups: the backbone (with its own learning rate when given) and the head.

        A lower learning rate for a pretrained backbone keeps fine-tuning from overwriting the pretrained
        features, the usual way to keep what self-supervised pretraining learned. ``backbone_lr=0`` freezes the
        backbone (a linear probe): its parameters stop requiring gradients, so no backward pass runs through it,
        and only the head's group is returned. Batch-norm statistics still follow the training data.

        Args:
            backbone_lr: learning rate of the backbone; None uses the optimizer's; 0 freezes it.

        Returns:
            ``[{"params": backbone, ["lr": backbone_lr]}, {"params": head}]``, or ``[{"params": head}]`` when frozen.

        Raises:
            ValueError: for a negative ``backbone_lr``.
        """
        if backbone_lr is not None and backbone_lr < 0:
            raise ValueError(f"backbone_lr must be >= 0, got {backbone_lr}.")
        head = {"params": list(self.head.parameters())}
        if backbone_lr == 0:
            self.backbone.requires_grad_(False)
            return [head]
        backbone = {"params": list(self.backbone.parameters())}
        if backbone_lr is not None:
            backbone["lr"] = float(backbone_lr)
        return [backbone, head]

    def classify(self, features: torch.Tensor) -> torch.Tensor:
        """(B, feature_dim) features (possibly mixed) -> (B, num_classes) logits."""
        return self.head(self.dropout(features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, *spatial) images -> (B, num_classes) logits."""
        return self.classify(self.forward_features(x))


class WithFeatures(nn.Module):
    """``forward(x) -> (logits, features)`` of a :class:`FeatureClassifier`, so one call (the one
    ``DistributedDataParallel`` sees) gives both; :meth:`classify` reuses the same head on other features.

    Args:
        net: the classifier.

    Raises:
        TypeError: when ``net`` lacks ``forward_features``/``classify``.
    """

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        if not (callable(getattr(net, "forward_features", None)) and callable(getattr(net, "classify", None))):
            raise TypeError(f"{type(net).__name__} needs forward_features() and classify(), e.g. FeatureClassifier.")
        self.net = net

    def classify(self, features: torch.Tensor) -> torch.Tensor:
        """The wrapped network's head on (B, feature_dim) features."""
        return self.net.classify(features)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.net.forward_features(x)
        return self.net.classify(features), features
