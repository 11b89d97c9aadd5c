from __future__ import annotations

import pytest
import torch
from monai.engines.utils import IterationEvents
from torch import nn

from noisymed.engines import (
    METHODS,
    CoTeachingTrainer,
    MixupAttentionTrainer,
    MixupTrainer,
    forget_rate,
    loss_keys,
    noisy_label_trainer,
    reinitialized_copy,
)
from noisymed.networks import FeatureClassifier


def _loader(n=16, batch=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    images = torch.rand(n, 1, 28, 28, generator=g)
    labels = torch.randint(0, 2, (n,), generator=g)
    labels[:2] = torch.tensor([0, 1])
    return [{"image": images[i : i + batch], "label": labels[i : i + batch]} for i in range(0, n, batch)]


def _net():
    torch.manual_seed(0)
    return FeatureClassifier("resnet10", widths=(4, 8, 8, 16), num_classes=2)


@pytest.mark.parametrize("method", METHODS)
def test_every_method_trains_and_fires_monai_events(method):
    net = _net()
    opt = torch.optim.SGD(net.parameters(), lr=0.01)
    before = [p.detach().clone() for p in net.parameters()]
    trainer = noisy_label_trainer(method, "cpu", 1, _loader(), net, opt, num_classes=2, noise_rate=0.4)
    fired = []
    for event in (IterationEvents.FORWARD_COMPLETED, IterationEvents.LOSS_COMPLETED, IterationEvents.MODEL_COMPLETED):
        trainer.add_event_handler(event, lambda e, ev=event: fired.append(ev))
    trainer.run()
    assert len(fired) == 6  # two iterations, three events each
    out = trainer.state.output
    first = out[0] if isinstance(out, list) else out
    for key in loss_keys(method):
        assert key in first and torch.isfinite(torch.as_tensor(first[key])).all(), key
    assert any(not torch.equal(a, b) for a, b in zip(before, net.parameters()))
    if method in ("coteaching", "mixup_attention"):
        assert len(opt.param_groups) == 2  # the peer / the attention module were added to the optimizer


def test_trainer_classes_and_options():
    net = _net()
    opt = torch.optim.SGD(net.parameters(), lr=0.01)
    assert isinstance(noisy_label_trainer("mixup", "cpu", 1, _loader(), net, opt, 2), MixupTrainer)
    t = noisy_label_trainer("coteaching", "cpu", 1, _loader(), net, opt, 2, noise_rate=0.2, options={"num_gradual": 5})
    assert isinstance(t, CoTeachingTrainer) and t.rate == 0.2 and t.num_gradual == 5
    t = noisy_label_trainer("mixup_attention", "cpu", 1, _loader(), _net(), opt, 2, options={"gamma": 0.5, "group_size": 3})
    assert isinstance(t, MixupAttentionTrainer) and t.gamma == 0.5 and t.attention.group_size == 3
    with pytest.raises(ValueError, match="method must be one of"):
        noisy_label_trainer("dividemix", "cpu", 1, _loader(), net, opt, 2)
    with pytest.raises(ValueError, match="unknown method option"):
        noisy_label_trainer("ce", "cpu", 1, _loader(), net, opt, 2, options={"qq": 1})


def test_forget_rate_schedule():
    assert [forget_rate(e, 0.4, num_gradual=4) for e in range(6)] == pytest.approx([0, 0.1, 0.2, 0.3, 0.4, 0.4])
    assert forget_rate(3, 0.4, num_gradual=0) == 0.4
    assert forget_rate(1, 0.4, num_gradual=2, exponent=2) == pytest.approx(0.1)


def test_co_teaching_each_network_learns_from_the_peers_small_loss_samples():
    net = _net()
    trainer = noisy_label_trainer("coteaching", "cpu", 1, _loader(), net, torch.optim.SGD(net.parameters(), 0.1), 2, 0.5)
    trainer.state.epoch = 100  # past the ramp: forget half
    targets = torch.tensor([0, 0, 0, 0])
    # net 1 is confident and right on samples 0, 1; net 2 on samples 2, 3
    p1 = torch.tensor([[5.0, 0.0], [5.0, 0.0], [0.0, 5.0], [0.0, 5.0]])
    p2 = p1.flip(0)
    terms = trainer.compute_loss({"pred": p1, "pred2": p2}, targets)
    ce = nn.functional.cross_entropy
    # network 1 updates on network 2's small-loss samples (2, 3: wrong for net 1), and vice versa
    assert terms["loss_net1"].item() == pytest.approx(ce(p1[2:], targets[2:]).item(), rel=1e-6)
    assert terms["loss_net2"].item() == pytest.approx(ce(p2[:2], targets[:2]).item(), rel=1e-6)
    assert terms["forget_rate"].item() == pytest.approx(0.5)


def test_mixup_loss_is_the_lambda_weighted_pair_of_losses():
    net = _net()
    trainer = noisy_label_trainer("mixup", "cpu", 1, _loader(), net, torch.optim.SGD(net.parameters(), 0.1), 2)
    pred = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    targets = torch.tensor([0, 0])
    terms = trainer.compute_loss({"pred": pred, "mixup_lambda": 0.3, "mixup_perm": torch.tensor([1, 0])}, targets)
    ce = nn.functional.cross_entropy(pred, targets)
    assert terms["loss"].item() == pytest.approx(ce.item(), rel=1e-6)  # both label sets equal here
    terms = trainer.compute_loss({"pred": pred, "mixup_lambda": 0.3, "mixup_perm": torch.tensor([1, 0])}, torch.tensor([0, 1]))
    expected = 0.3 * nn.functional.cross_entropy(pred, torch.tensor([0, 1])) + 0.7 * nn.functional.cross_entropy(
        pred, torch.tensor([1, 0])
    )
    assert terms["loss"].item() == pytest.approx(expected.item(), rel=1e-6)


def test_reinitialized_copy_has_new_weights_and_same_shapes():
    net = _net()
    peer = reinitialized_copy(net)
    pairs = list(zip(net.state_dict().items(), peer.state_dict().items()))
    assert all(a[1].shape == b[1].shape for a, b in pairs)
    assert any(not torch.equal(a[1], b[1]) for a, b in pairs if a[1].is_floating_point())


def test_sample_names_prefer_the_source_path_then_meta_then_index():
    from monai.data import MetaTensor

    from noisymed.engines import sample_names

    batch = [
        {"image": MetaTensor(torch.zeros(1), meta={"filename_or_obj": "/m.nii"}), "image_source": "/a.png", "index": 3},
        {"image": MetaTensor(torch.zeros(1), meta={"filename_or_obj": "/m.nii"})},
        {"image": torch.zeros(1), "index": torch.tensor(7)},
        {"image": torch.zeros(1), "path": "/x.dcm", "index": 1},
    ]
    names = [n["filename_or_obj"] for n in sample_names(batch)]
    assert names == ["/a.png", "/m.nii", "7", "/x.dcm"]
    with pytest.raises(ValueError, match="cannot name a sample"):
        sample_names([{"image": torch.zeros(1)}])


def test_mixup_attention_loss_weights_the_plain_and_mixed_terms():
    net = _net()
    opt = torch.optim.SGD(net.parameters(), 0.1)
    opts = {"gamma": 0.5, "plain_weight": 0.0}
    trainer = noisy_label_trainer("mixup_attention", "cpu", 1, _loader(), net, opt, 2, options=opts)
    assert trainer.plain_weight == 0.0 and trainer.gamma == 0.5
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0]])
    mixed = trainer.attention(torch.randn(2, 16), torch.tensor([0, 1]))
    pred_mixed = torch.tensor([[1.0, 0.0], [0.0, 3.0]])
    terms = trainer.compute_loss({"pred": logits, "pred_mixed": pred_mixed, "mixed": mixed}, torch.tensor([0, 1]))
    expected_mixed = nn.functional.cross_entropy(pred_mixed, mixed.targets)
    assert terms["loss_mixed"].item() == pytest.approx(expected_mixed.item(), rel=1e-6)
    assert terms["loss"].item() == pytest.approx(0.5 * expected_mixed.item(), rel=1e-6)
    with pytest.raises(ValueError, match="gamma and plain_weight must be >= 0"):
        noisy_label_trainer("mixup_attention", "cpu", 1, _loader(), _net(), opt, 2, options={"plain_weight": -1.0})
