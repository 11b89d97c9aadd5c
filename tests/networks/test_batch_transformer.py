from __future__ import annotations

import pytest
import torch

from noisymed.networks import BatchTransformer


def test_batch_is_the_sequence_dimension():
    torch.manual_seed(0)
    btc = BatchTransformer(dim=16, num_heads=4, dim_feedforward=32, dropout=0.0).eval()
    x = torch.randn(5, 16)
    y = btc(x)
    assert y.shape == (5, 16)
    # changing sample 4 changes the output of sample 0: the samples attend to each other
    x2 = x.clone()
    x2[4] += 3.0
    y2 = btc(x2)
    assert not torch.allclose(y[0], y2[0], atol=1e-5)
    # a sample alone gives another output than in the batch
    assert not torch.allclose(btc(x[:1])[0], y[0], atol=1e-5)
    # no positional encoding: permuting the batch permutes the output
    perm = torch.tensor([3, 0, 4, 1, 2])
    assert torch.allclose(btc(x[perm]), y[perm], atol=1e-5)


def test_validation():
    with pytest.raises(ValueError, match="not divisible by num_heads"):
        BatchTransformer(dim=10, num_heads=4)
    with pytest.raises(ValueError, match="must be >= 1"):
        BatchTransformer(dim=16, num_layers=0)
    with pytest.raises(ValueError, match=r"expected \(B, D\) features"):
        BatchTransformer(dim=16)(torch.randn(2, 3, 16))
