from __future__ import annotations

import pytest
import torch

from noisymed.networks import FeatureDecoder


@pytest.mark.parametrize("size, channels", [((28, 28), 1), ((28, 28), 3), ((12, 12, 12), 1), ((7, 9), 2)])
def test_output_shape_and_range(size, channels):
    decoder = FeatureDecoder(16, channels, size, channels=(8, 4))
    # the coarse grid is ceil(size / 4) per side before two doublings
    assert decoder.base == [-(-s // 4) for s in size]
    out = decoder(torch.randn(3, 16))
    assert out.shape == (3, channels, *size)
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0


def test_gradients_reach_the_input():
    features = torch.randn(2, 8, requires_grad=True)
    FeatureDecoder(8, 1, (8, 8), channels=(4,))(features).sum().backward()
    assert features.grad is not None and float(features.grad.abs().sum()) > 0


def test_errors_are_named():
    with pytest.raises(ValueError, match=r"spatial_size must be 2 or 3 positive values, got \(28,\)"):
        FeatureDecoder(8, 1, (28,))
    with pytest.raises(ValueError, match="must be positive"):
        FeatureDecoder(8, 0, (8, 8))
