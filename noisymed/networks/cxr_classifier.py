"""A multi-label chest X-ray classifier: MONAI DenseNet121 features, one shared linear head, and the
training-only streams of MPC (feature-dropout perturbation, batch transformer)."""

from __future__ import annotations

from pathlib import Path

import torch
from monai.networks.nets import DenseNet121
from torch import nn

from noisymed.utils import as_bool

from .batch_transformer import BatchTransformer

__all__ = ["SinglePositiveClassifier"]


class SinglePositiveClassifier(nn.Module):
    """MONAI's ``DenseNet121`` (2D) with a shared classifier for the plain, feature-perturbed and
    batch-transformer streams.

    ``forward(x)`` gives the plain logits ``(B, C)`` (inference and export: no dropout stream, no batch
    transformer); :meth:`forward_train` gives the training streams: the weak view's ``logits``, the strong
    view's ``logits_strong`` (IPC), ``logits_fp`` (the head on ``Dropout(features)``, FPC) and
    ``logits_btc`` (the head on the batch transformer's output, BTC). All streams share one head, as in
    BatchFormer. The batch transformer's weights are part of the state dict (unused at inference), so
    one ``model.pt`` serves training and inference.

    Args:
        num_classes: output classes ``C``.
        in_channels: image channels.
        feature_dropout: dropout rate of the FPC stream, in [0, 1).
        batch_transformer: add the BTC stream.
        btc_heads: attention heads of the batch transformer.
        btc_layers: its layers.
        btc_feedforward: its MLP size.
        pretrained_path: optional local state dict of a MONAI ``DenseNet121`` (keys ``features.*``) or of
            this network; loaded with the classifier layer skipped when its shape differs. Nothing is
            downloaded.

    Raises:
        ValueError: for a bad size or dropout rate.
        FileNotFoundError: when ``pretrained_path`` does not exist.
    """

    __jit_unused_properties__ = ["head"]

    def __init__(
        self,
        num_classes: int,
        in_channels: int = 1,
        feature_dropout: float = 0.5,
        batch_transformer: bool = True,
        btc_heads: int = 4,
        btc_layers: int = 1,
        btc_feedforward: int = 512,
        pretrained_path: str | Path | None = None,
    ):
        super().__init__()
        if num_classes < 1 or in_channels < 1:
            raise ValueError(f"num_classes and in_channels must be >= 1, got {num_classes}, {in_channels}.")
        if not 0.0 <= feature_dropout < 1.0:
            raise ValueError(f"feature_dropout must be in [0, 1), got {feature_dropout}.")
        self.backbone = DenseNet121(spatial_dims=2, in_channels=in_channels, out_channels=num_classes)
        self.num_features = self.backbone.class_layers.out.in_features
        self.feature_dropout = nn.Dropout(feature_dropout)
        self.btc = (
            BatchTransformer(self.num_features, btc_heads, btc_layers, btc_feedforward)
            if as_bool(batch_transformer, "batch_transformer")
            else None
        )
        if pretrained_path is not None:
            self.load_backbone(pretrained_path)

    @property
    def head(self) -> nn.Linear:
        """The shared linear classifier."""
        return self.backbone.class_layers.out

    def load_backbone(self, path: str | Path) -> list[str]:
        """Load a local DenseNet121 state dict into the backbone, skipping tensors whose shape differs.

        Returns:
            The names of the skipped backbone tensors.

        Raises:
            FileNotFoundError: when ``path`` does not exist.
            ValueError: when no tensor of the file matches the backbone.
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: pretrained checkpoint not found (weights are never downloaded).")
        state = torch.load(path, map_location="cpu", weights_only=True)
        state = {k.removeprefix("backbone."): v for k, v in state.items()}
        own = self.backbone.state_dict()
        usable = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
        if not usable:
            raise ValueError(f"{path}: no tensor matches MONAI DenseNet121's state dict.")
        self.backbone.load_state_dict(usable, strict=False)
        return sorted(set(own) - set(usable))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Pooled backbone features ``(B, 1024)``."""
        layers = self.backbone.class_layers
        return layers.flatten(layers.pool(layers.relu(self.backbone.features(x))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Plain logits ``(B, C)``; no perturbation, no batch transformer (TorchScript-able)."""
        return self.backbone.class_layers.out(self.features(x))

    def forward_train(
        self, x: torch.Tensor, x_strong: torch.Tensor | None = None, fp: bool = True, btc: bool = True
    ) -> dict[str, torch.Tensor]:
        """The training streams of one batch; the weak and strong views share one backbone pass.

        Args:
            x: ``(B, ...)`` weak (or only) view.
            x_strong: optional ``(B, ...)`` strong view.
            fp: add ``logits_fp``, the head on ``Dropout(features of x)`` (FPC).
            btc: add ``logits_btc``, the head on the batch transformer over the strong view's features
                (the weak view's when there is no strong view) (BTC); ignored without a batch transformer.

        Returns:
            ``logits`` (weak view), and where asked ``logits_strong``, ``logits_fp``, ``logits_btc``.
        """
        n = x.shape[0]
        feats = self.features(x if x_strong is None else torch.cat([x, x_strong], 0))
        weak = feats[:n]
        out = {"logits": self.head(weak)}
        if x_strong is not None:
            out["logits_strong"] = self.head(feats[n:])
        if fp:
            out["logits_fp"] = self.head(self.feature_dropout(weak))
        if btc and self.btc is not None:
            out["logits_btc"] = self.head(self.btc(weak if x_strong is None else feats[n:]))
        return out
