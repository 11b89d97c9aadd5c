from __future__ import annotations

import math

import pytest
import torch

from noisymed.losses import ReliablePseudoLabelLoss, reliable_pseudo_label_term


def _two_voxel_case():
    """Two voxels, two classes, two feature channels (shapes (1, K, 1, 1, 2)).

    Voxel 0: teacher confident (logits [0, 2]), student unsure ([0, 0.5]) -> student learns here.
    Voxel 1: teacher unsure ([1, 0]), student confident ([3, 0]) -> masked out.
    Teacher features: voxel 0 -> [1, 0], voxel 1 -> [0, 1]; so prototype(class 1) = [1, 0], prototype(class 0) = [0, 1].
    """
    student = torch.tensor([[0.0, 3.0], [0.5, 0.0]]).reshape(1, 2, 1, 1, 2)
    teacher = torch.tensor([[0.0, 1.0], [2.0, 0.0]]).reshape(1, 2, 1, 1, 2)
    feats = torch.tensor([[1.0, 0.0], [0.0, 1.0]]).reshape(1, 2, 1, 1, 2)
    return student, teacher, feats


def test_hand_computed_value_mask_and_weight():
    student, teacher, feats = _two_voxel_case()
    term = reliable_pseudo_label_term(student, teacher, feats, ce_input="logits")
    assert term.mask.shape == (1, 1, 1, 2)
    assert term.mask.flatten().tolist() == [1.0, 0.0]
    assert term.pseudo_label.flatten().tolist() == [1, 0]
    # voxel 0: p_t = softmax([0, 2]); cos to prototypes (class 0, class 1) = (0, 1)
    p1 = math.exp(2) / (1 + math.exp(2))
    w0 = 1 - 0.5 * ((0 - (1 - p1)) ** 2 + (1 - p1) ** 2)
    # voxel 1: p_t = softmax([1, 0]); cos = (1, 0)
    q0 = math.e / (1 + math.e)
    w1 = 1 - 0.5 * ((1 - q0) ** 2 + (0 - (1 - q0)) ** 2)
    assert term.weight.flatten().tolist() == pytest.approx([w0, w1], abs=1e-6)
    ce0 = math.log(1 + math.exp(-0.5))  # CE(logits [0, 0.5], target 1)
    assert term.loss.item() == pytest.approx(ce0 * w0 / (1 + 1e-6), abs=1e-6)


def test_probs_variant_feeds_softmax_to_cross_entropy():
    student, teacher, feats = _two_voxel_case()
    term = reliable_pseudo_label_term(student, teacher, feats, ce_input="probs")
    s0, s1 = 1 / (1 + math.exp(0.5)), math.exp(0.5) / (1 + math.exp(0.5))
    ce0 = math.log(1 + math.exp(s0 - s1))
    p1 = math.exp(2) / (1 + math.exp(2))
    w0 = 1 - (1 - p1) ** 2
    assert term.loss.item() == pytest.approx(ce0 * w0 / (1 + 1e-6), abs=1e-6)


def test_both_directions_sum_and_opposite_masks():
    student, teacher, feats = _two_voxel_case()
    loss_fn = ReliablePseudoLabelLoss()
    a_from_b, b_from_a = loss_fn.terms(student, teacher, feats, feats)
    assert a_from_b.mask.flatten().tolist() == [1.0, 0.0]
    assert b_from_a.mask.flatten().tolist() == [0.0, 1.0]
    total = loss_fn(student, teacher, feats, feats)
    assert total.item() == pytest.approx(a_from_b.loss.item() + b_from_a.loss.item(), abs=1e-7)


def test_no_gradient_into_teacher_and_weight_in_unit_interval():
    torch.manual_seed(0)
    student = torch.randn(2, 3, 4, 4, 4, requires_grad=True)
    teacher = torch.randn(2, 3, 4, 4, 4, requires_grad=True)
    feats = torch.randn(2, 5, 4, 4, 4, requires_grad=True)  # signed features: the clamp matters here
    term = reliable_pseudo_label_term(student, teacher, feats)
    term.loss.backward()
    assert teacher.grad is None and feats.grad is None
    assert student.grad is not None and student.grad.abs().sum() > 0
    assert term.weight.min() >= 0 and term.weight.max() <= 1
    assert not term.weight.requires_grad


def test_relu_features_need_no_clamp():
    torch.manual_seed(1)
    teacher = torch.randn(2, 2, 6, 6, 6)
    feats = torch.relu(torch.randn(2, 16, 6, 6, 6))
    term = reliable_pseudo_label_term(torch.randn(2, 2, 6, 6, 6), teacher, feats)
    # unclamped formula, computed with explicit loops as in the official code
    p = torch.softmax(teacher, 1)
    label = p.argmax(1)
    w_ref = torch.zeros_like(term.weight)
    for b in range(2):
        protos = []
        for c in range(2):
            m = (label[b] == c).float()
            protos.append(torch.nn.functional.normalize((feats[b] * m).sum((1, 2, 3)) / (m.sum() + 1e-6), dim=0))
        cos = torch.stack([torch.nn.functional.cosine_similarity(feats[b], pr[:, None, None, None], dim=0) for pr in protos])
        w_ref[b] = 1 - ((cos - p[b]) ** 2).mean(0)
    assert torch.allclose(term.weight, w_ref, atol=1e-5)


def test_errors():
    with pytest.raises(ValueError, match="ce_input"):
        ReliablePseudoLabelLoss(ce_input="softmax")
    with pytest.raises(ValueError, match="same shape"):
        reliable_pseudo_label_term(torch.zeros(1, 2, 2, 2, 2), torch.zeros(1, 3, 2, 2, 2), torch.zeros(1, 4, 2, 2, 2))
    with pytest.raises(ValueError, match="batch and spatial"):
        reliable_pseudo_label_term(torch.zeros(1, 2, 2, 2, 2), torch.zeros(1, 2, 2, 2, 2), torch.zeros(1, 4, 2, 2, 3))


def test_ablation_switches_hand_computed():
    student, teacher, feats = _two_voxel_case()
    p1 = math.exp(2) / (1 + math.exp(2))
    q0 = math.e / (1 + math.e)
    w0 = 1 - (1 - p1) ** 2
    w1 = 1 - (1 - q0) ** 2
    ce0 = math.log(1 + math.exp(-0.5))  # voxel 0: CE(logits [0, 0.5], pseudo label 1)
    ce1 = math.log(1 + math.exp(-3.0))  # voxel 1: CE(logits [3, 0], pseudo label 0)
    mask_only = reliable_pseudo_label_term(student, teacher, feats, use_weight=False)
    assert mask_only.weight.flatten().tolist() == [1.0, 1.0]
    assert mask_only.loss.item() == pytest.approx(ce0 / (1 + 1e-6), abs=1e-6)
    weight_only = reliable_pseudo_label_term(student, teacher, feats, use_mask=False)
    assert weight_only.mask.flatten().tolist() == [1.0, 1.0]
    assert weight_only.loss.item() == pytest.approx((ce0 * w0 + ce1 * w1) / (2 + 1e-6), abs=1e-6)
    neither = reliable_pseudo_label_term(student, teacher, feats, use_mask=False, use_weight=False)
    assert neither.loss.item() == pytest.approx((ce0 + ce1) / (2 + 1e-6), abs=1e-6)
    loss_fn = ReliablePseudoLabelLoss(use_mask=False)
    a_from_b, b_from_a = loss_fn.terms(student, teacher, feats, feats)
    assert a_from_b.loss.item() == pytest.approx(weight_only.loss.item(), abs=1e-7)
    assert b_from_a.mask.flatten().tolist() == [1.0, 1.0]


def test_ablation_switches_must_be_bool():
    with pytest.raises(ValueError, match="use_mask must be true or false, got 'false'"):
        ReliablePseudoLabelLoss(use_mask="false")
    with pytest.raises(ValueError, match="use_weight"):
        ReliablePseudoLabelLoss(use_weight=1)
