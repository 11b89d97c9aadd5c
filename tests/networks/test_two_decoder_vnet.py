from __future__ import annotations

import pytest
import torch

from noisymed.networks import TwoDecoderVNet


def test_parameter_count_matches_the_paper_network():
    net = TwoDecoderVNet(in_channels=1, out_channels=2, features=16)
    # Mine3d_v1 of the official code (encoder + deconv decoder + nearest+conv decoder): 12,347,716
    assert sum(p.numel() for p in net.parameters()) == 12_347_716


def test_width_is_a_parameter():
    small = sum(p.numel() for p in TwoDecoderVNet(features=4).parameters())
    assert small < sum(p.numel() for p in TwoDecoderVNet(features=8).parameters()) < 12_347_716


def test_shapes_train_and_inference():
    net = TwoDecoderVNet(features=4)
    x = torch.randn(2, 1, 32, 32, 16)
    logits_a, logits_b, feat_a, feat_b = net.forward_train(x)
    assert logits_a.shape == logits_b.shape == (2, 2, 32, 32, 16)
    assert feat_a.shape == feat_b.shape == (2, 4, 32, 32, 16)
    assert (feat_a >= 0).all() and (feat_b >= 0).all()  # ReLU features
    net.eval()
    assert net(x).shape == (2, 2, 32, 32, 16)


@pytest.mark.parametrize("decoder", ["a", "b", "mean"])
def test_decoder_choice(decoder):
    torch.manual_seed(0)
    net = TwoDecoderVNet(features=4, decoder=decoder).eval()
    x = torch.randn(1, 1, 16, 16, 16)
    with torch.no_grad():
        la, lb, _, _ = net.forward_train(x)
        out = net(x)
    expected = {"a": torch.softmax(la, 1), "b": torch.softmax(lb, 1)}.get(
        decoder, 0.5 * (torch.softmax(la, 1) + torch.softmax(lb, 1))
    )
    assert torch.allclose(torch.softmax(out, 1), expected, atol=1e-5)


def test_torchscript_matches_eager():
    torch.manual_seed(0)
    net = TwoDecoderVNet(features=4, decoder="mean").eval()
    x = torch.randn(1, 1, 16, 16, 32)
    scripted = torch.jit.script(net)
    with torch.no_grad():
        assert torch.allclose(scripted(x), net(x), atol=1e-6)


def test_bad_arguments():
    with pytest.raises(ValueError, match="decoder"):
        TwoDecoderVNet(decoder="c")
    with pytest.raises(ValueError, match="features"):
        TwoDecoderVNet(features=0)
