from __future__ import annotations

import math

import pytest
import torch

from noisymed.networks import IntraGroupMixupAttention, make_groups


def test_class_groups_share_the_label_and_singletons_group_with_themselves():
    labels = torch.tensor([0, 1, 0, 1, 1, 2])
    g = make_groups(labels, group_size=3, grouping="class", generator=torch.Generator().manual_seed(0))
    assert g.shape == (6, 3) and torch.equal(g[:, 0], torch.arange(6))
    for row in g:
        assert (labels[row] == labels[row[0]]).all()
    assert g[5].tolist() == [5, 5, 5]  # class 2 has one member
    # class 0 has one partner for two slots: drawn with replacement, never the anchor itself
    assert g[0, 1:].tolist() == [2, 2] and g[2, 1:].tolist() == [0, 0]
    # class 1 has two partners for two slots: both, without replacement
    assert sorted(g[1, 1:].tolist()) == [3, 4]


def test_random_groups_exclude_the_anchor():
    g = make_groups(torch.zeros(5, dtype=torch.long), 2, "random", torch.Generator().manual_seed(1))
    assert (g[:, 1] != g[:, 0]).all()


def test_weights_mixed_features_and_targets_hand_computed():
    attn = IntraGroupMixupAttention(feature_dim=2, num_classes=2, group_size=2, hidden_dim=4, grouping="random")
    with torch.no_grad():  # scores ignore the features: sigmoid(0) = 0.5 for the anchor, sigmoid(ln 3) = 0.75 for the partner
        attn.score[2].weight.zero_()
        attn.score[2].bias.copy_(torch.tensor([0.0, math.log(3.0)]))
    features = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    labels = torch.tensor([0, 1])
    out = attn(features, labels, groups=torch.tensor([[0, 1], [1, 0]]))
    w = torch.tensor([0.5, 0.75]) / 1.25  # [0.4, 0.6]
    assert torch.allclose(out.weights, w.expand(2, 2), atol=1e-6)
    assert torch.allclose(out.features, torch.tensor([[0.4, 0.6], [0.6, 0.4]]), atol=1e-6)
    assert torch.allclose(out.targets, torch.tensor([[0.4, 0.6], [0.6, 0.4]]), atol=1e-6)


def test_intra_class_targets_are_the_group_label_and_gradients_reach_the_attention():
    torch.manual_seed(0)
    attn = IntraGroupMixupAttention(feature_dim=8, num_classes=3, group_size=2)
    features = torch.randn(6, 8, requires_grad=True)
    labels = torch.tensor([0, 0, 1, 1, 2, 2])
    out = attn(features, labels)
    assert out.features.shape == (6, 8) and out.weights.shape == (6, 2)
    assert torch.allclose(out.weights.sum(1), torch.ones(6)) and (out.weights > 0).all()
    assert torch.allclose(out.targets, torch.nn.functional.one_hot(labels, 3).float(), atol=1e-6)
    out.features.sum().backward()
    assert attn.score[0].weight.grad is not None and attn.score[0].weight.grad.abs().sum() > 0
    assert features.grad is not None


def test_errors():
    with pytest.raises(ValueError, match="group_size must be >= 2"):
        IntraGroupMixupAttention(8, 2, group_size=1)
    with pytest.raises(ValueError, match="grouping must be one of"):
        IntraGroupMixupAttention(8, 2, grouping="cluster")
    with pytest.raises(ValueError, match="num_classes must be >= 2"):
        IntraGroupMixupAttention(8, 1)
    attn = IntraGroupMixupAttention(4, 2)
    with pytest.raises(ValueError, match="3 labels for 2 feature rows"):
        attn(torch.zeros(2, 4), torch.tensor([0, 1, 1]))
    with pytest.raises(ValueError, match="groups must be"):
        attn(torch.zeros(2, 4), torch.tensor([0, 1]), groups=torch.zeros(2, 3, dtype=torch.long))
