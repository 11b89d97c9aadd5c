"""Batch transformer: self-attention across the samples of a mini-batch (the BTC stream of MPC)."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["BatchTransformer"]


class BatchTransformer(nn.Module):
    """A transformer encoder whose sequence is the mini-batch: each sample's feature vector attends to
    the other samples' (BatchFormer, Hou et al., CVPR 2022; the BTC module of Xiao et al., IEEE TMI 2024).

    A ``(B, D)`` batch is fed to ``nn.TransformerEncoder`` as one sequence of length ``B``
    (``x.unsqueeze(0)`` with ``batch_first=True``), so the output of sample ``i`` depends on all samples.
    No positional encoding: the output is equivariant to the order of the batch. It is a training-time
    stream only; the classifier wrapper skips it at inference.

    Args:
        dim: feature size ``D``.
        num_heads: attention heads (must divide ``dim``).
        num_layers: encoder layers.
        dim_feedforward: hidden size of each layer's MLP.
        dropout: dropout inside the encoder layers.

    Raises:
        ValueError: for non-positive sizes or ``dim`` not divisible by ``num_heads``.

    Example::

        btc = BatchTransformer(dim=1024, num_heads=4)
        mixed = btc(torch.randn(32, 1024))  # (32, 1024); row i depends on all 32 rows
    """

    def __init__(
        self, dim: int, num_heads: int = 4, num_layers: int = 1, dim_feedforward: int = 512, dropout: float = 0.1
    ):
        super().__init__()
        if min(dim, num_heads, num_layers, dim_feedforward) < 1:
            raise ValueError(
                "dim, num_heads, num_layers and dim_feedforward must be >= 1, "
                f"got {dim}, {num_heads}, {num_layers}, {dim_feedforward}."
            )
        if dim % num_heads:
            raise ValueError(f"dim={dim} is not divisible by num_heads={num_heads}.")
        layer = nn.TransformerEncoderLayer(
            d_model=dim, nhead=num_heads, dim_feedforward=dim_feedforward, dropout=dropout, batch_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, num_layers=num_layers, enable_nested_tensor=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Args:
            x: ``(B, D)`` features of one mini-batch.

        Returns:
            ``(B, D)``, each row mixed with the others by self-attention.

        Raises:
            ValueError: when ``x`` is not 2D.
        """
        if x.ndim != 2:
            raise ValueError(f"expected (B, D) features, got shape {list(x.shape)}.")
        return self.encoder(x.unsqueeze(0)).squeeze(0)  # the batch is the sequence dimension
