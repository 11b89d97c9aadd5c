"""The loss of a variational autoencoder with a diagonal Gaussian posterior and a standard normal prior.

With ``x`` the image, ``x_hat`` its reconstruction, ``mu`` and ``logvar`` the posterior's mean and log-variance
(B, L) and ``beta`` the weight of the prior term, per sample (then averaged over the batch):

    reconstruction = sum_pixels (x_hat - x)^2
    KL             = -1/2 * sum_l (1 + logvar_l - mu_l^2 - exp(logvar_l))
    L              = reconstruction + beta * KL

(the negative evidence lower bound for a Gaussian decoder of unit variance, up to constants, with ``beta = 1``).

References:
    Kingma DP, Welling M. Auto-encoding variational Bayes. ICLR 2014.
    Higgins I, et al. beta-VAE. ICLR 2017.
"""

from __future__ import annotations

import torch
from torch.nn.modules.loss import _Loss

__all__ = ["VAELoss"]


class VAELoss(_Loss):
    """Summed squared reconstruction error plus ``beta`` times the KL divergence to N(0, I), per sample.

    Args:
        beta: weight of the KL term, >= 0.

    Raises:
        ValueError: for a negative ``beta``.
    """

    def __init__(self, beta: float = 1.0) -> None:
        if beta < 0:
            raise ValueError(f"beta must be >= 0, got {beta}.")
        super().__init__()
        self.beta = float(beta)

    def terms(
        self, reconstruction: torch.Tensor, target: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The batch-mean reconstruction error and KL divergence, separately.

        Args:
            reconstruction: (B, C, *spatial) decoder output.
            target: the images, same shape.
            mu: (B, L) posterior means.
            logvar: (B, L) posterior log-variances.

        Returns:
            ``(reconstruction_error, kl)``, two scalars.

        Raises:
            ValueError: when shapes disagree.
        """
        if reconstruction.shape != target.shape:
            raise ValueError(
                f"reconstruction {tuple(reconstruction.shape)} and target {tuple(target.shape)} differ in shape."
            )
        if mu.ndim != 2 or mu.shape != logvar.shape or mu.shape[0] != target.shape[0]:
            raise ValueError(
                f"mu and logvar must both be (B={target.shape[0]}, L), got {tuple(mu.shape)} and {tuple(logvar.shape)}."
            )
        recon = (reconstruction - target).pow(2).flatten(1).sum(1).mean()
        kl = (-0.5 * (1.0 + logvar - mu.pow(2) - logvar.exp()).sum(1)).mean()
        return recon, kl

    def forward(
        self, reconstruction: torch.Tensor, target: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor
    ) -> torch.Tensor:
        """``reconstruction_error + beta * kl`` (see :meth:`terms`)."""
        recon, kl = self.terms(reconstruction, target, mu, logvar)
        return recon + self.beta * kl
