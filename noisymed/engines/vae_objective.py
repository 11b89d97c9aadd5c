"""Generative pretraining: a variational autoencoder whose encoder is the backbone.

The backbone's pooled features give the posterior's mean and log-variance (two ``Linear`` layers), a sample of it
goes through :class:`noisymed.networks.FeatureDecoder` back to the image, and :class:`noisymed.losses.VAELoss`
(summed squared error + ``beta`` KL to N(0, I)) is minimised. Only the first view is encoded and reconstructed
(an augmented image; no second view is needed). After pretraining the encoder (backbone) is kept, the heads and
decoder dropped.

Reference:
    Kingma DP, Welling M. Auto-encoding variational Bayes. ICLR 2014.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from noisymed.losses import VAELoss
from noisymed.networks import FeatureDecoder

from .ssl_objective import SSLObjective, features

__all__ = ["VAEObjective"]


class VAEObjective(SSLObjective):
    """Reconstruct the image from a reparameterised sample of the backbone's posterior.

    Args:
        feature_dim: backbone feature size.
        in_channels: image channels.
        spatial_size: image size (2 or 3 values).
        latent_dim: latent size.
        beta: weight of the KL term.
        decoder_channels: the decoder's stage widths, coarse to fine.

    Raises:
        ValueError: for a non-positive latent size (sizes and ``beta`` are checked by the decoder and loss).
    """

    uses_second_view = False
    loss_keys = ("loss", "reconstruction", "kl")

    def __init__(
        self,
        feature_dim: int,
        in_channels: int,
        spatial_size: Sequence[int],
        latent_dim: int = 64,
        beta: float = 1.0,
        decoder_channels: Sequence[int] = (64, 32, 16),
    ) -> None:
        super().__init__()
        if latent_dim < 1:
            raise ValueError(f"latent_dim must be >= 1, got {latent_dim}.")
        self.mu, self.logvar = nn.Linear(feature_dim, latent_dim), nn.Linear(feature_dim, latent_dim)
        self.decoder = FeatureDecoder(latent_dim, in_channels, spatial_size, decoder_channels)
        self.loss = VAELoss(beta)

    def forward(self, backbone, view1, view2, labels):
        expected = (self.decoder.out_channels, *self.decoder.spatial_size)
        if tuple(view1.shape[1:]) != expected:
            raise ValueError(f"the VAE decodes (C, *spatial) = {expected}, got a batch of shape {tuple(view1.shape)}.")
        h = features(backbone, view1)
        mu, logvar = self.mu(h), self.logvar(h)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        recon = self.decoder(z)
        reconstruction, kl = self.loss.terms(recon, view1, mu, logvar)
        return {"loss": reconstruction + self.loss.beta * kl, "pred": recon, "reconstruction": reconstruction, "kl": kl}
