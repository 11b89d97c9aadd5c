from __future__ import annotations

import pytest
import torch

from noisymed.networks import FeatureClassifier, WithFeatures

SMALL = (8, 16, 32, 64)


@pytest.mark.parametrize("dims, shape", [(2, (3, 1, 28, 28)), (3, (2, 1, 16, 16, 16))])
def test_resnet_shapes(dims, shape):
    net = FeatureClassifier("resnet10", spatial_dims=dims, in_channels=1, num_classes=3, widths=SMALL)
    x = torch.randn(*shape)
    assert net(x).shape == (shape[0], 3)
    assert net.forward_features(x).shape == (shape[0], 64) and net.feature_dim == 64


def test_densenet121_2d_feature_dim_and_logits_equal_head_of_features():
    net = FeatureClassifier("densenet121", spatial_dims=2, in_channels=1, num_classes=2).eval()
    x = torch.randn(2, 1, 32, 32)
    with torch.no_grad():
        f = net.forward_features(x)
        assert f.shape == (2, 1024) and net.feature_dim == 1024
        assert torch.allclose(net(x), net.head(f), atol=1e-6)


def test_with_features_returns_logits_and_features():
    net = FeatureClassifier("resnet10", widths=SMALL, num_classes=2).eval()
    wrapped = WithFeatures(net)
    x = torch.randn(2, 1, 28, 28)
    with torch.no_grad():
        logits, feats = wrapped(x)
        assert torch.allclose(logits, net(x)) and torch.allclose(feats, net.forward_features(x))
        assert torch.allclose(wrapped.classify(feats), logits)
    with pytest.raises(TypeError, match="forward_features"):
        WithFeatures(torch.nn.Linear(2, 2))


def test_stem_stride_changes_cost_not_output_shape():
    x = torch.randn(1, 1, 28, 28)
    for stride in (1, 2):
        net = FeatureClassifier("resnet10", widths=SMALL, stem_stride=stride)
        assert net(x).shape == (1, 2)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"backbone": "vgg16"}, "backbone must be one of"),
        ({"spatial_dims": 1}, "spatial_dims must be 2 or 3"),
        ({"num_classes": 1}, "num_classes must be >= 2"),
        ({"widths": (8, 16, 32)}, "widths must be 4 positive"),
        ({"stem_stride": 0}, "stem_stride must be >= 1"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        FeatureClassifier(**kwargs)


def test_param_groups_split_backbone_and_head():
    net = FeatureClassifier("resnet10", widths=SMALL)
    groups = net.param_groups(backbone_lr=1e-4)
    assert groups[0]["lr"] == 1e-4 and "lr" not in groups[1]
    assert sum(p.numel() for g in groups for p in g["params"]) == sum(p.numel() for p in net.parameters())
    assert [p.shape for p in groups[1]["params"]] == [(2, 64), (2,)]
    frozen = net.param_groups(backbone_lr=0.0)  # a linear probe: the head only, no gradient into the backbone
    assert len(frozen) == 1 and not any(p.requires_grad for p in net.backbone.parameters())
    opt = torch.optim.Adam(frozen, lr=1e-2)
    before = net.backbone.conv1.weight.detach().clone()
    net(torch.randn(4, 1, 28, 28)).sum().backward()
    opt.step()
    assert torch.equal(before, net.backbone.conv1.weight) and net.backbone.conv1.weight.grad is None
    with pytest.raises(ValueError, match="backbone_lr must be >= 0"):
        net.param_groups(backbone_lr=-1.0)
