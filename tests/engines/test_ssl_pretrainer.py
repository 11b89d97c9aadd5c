from __future__ import annotations

import pytest
import torch
from ignite.engine import Events

from noisymed.engines import (
    SSL_OBJECTIVES,
    MoCoObjective,
    SSLPretrainer,
    frozen_copy,
    momentum_update,
    ssl_objective,
)
from noisymed.networks import FeatureClassifier


def _batches(size, n=2, second_view=True):
    g = torch.Generator().manual_seed(0)
    out = []
    for _ in range(n):
        x = torch.rand(8, 1, *size, generator=g)
        batch = {"image": x, "label": torch.tensor([0, 1] * 4)}
        if second_view:
            batch["image_2"] = x + 0.05 * torch.randn(x.shape, generator=g)
        out.append(batch)
    return out


def _pretrain(name, size, epochs=2, options=None, loader=None):
    torch.manual_seed(0)
    net = FeatureClassifier("resnet10", spatial_dims=len(size), widths=(4, 8, 8, 16))
    small = {"hidden_dim": 16, "embedding_dim": 8, "queue_size": 12, "latent_dim": 8, **(options or {})}
    objective = ssl_objective(name, net.backbone, net.feature_dim, len(size), 1, size, options=small)
    opt = torch.optim.Adam(list(net.backbone.parameters()) + objective.trainable_parameters(), lr=1e-2)
    trainer = SSLPretrainer(
        device="cpu", max_epochs=epochs, train_data_loader=loader or _batches(size), network=net.backbone, objective=objective,
        optimizer=opt,
    )  # fmt: skip
    losses = []
    trainer.add_event_handler(Events.ITERATION_COMPLETED, lambda e: losses.append(dict(e.state.output[0])))
    return net, objective, trainer, losses


@pytest.mark.parametrize("size", [(16, 16), (8, 8, 8)], ids=["2d", "3d"])
@pytest.mark.parametrize("name", SSL_OBJECTIVES)
def test_every_objective_pretrains_2d_and_3d(name, size):
    net, objective, trainer, losses = _pretrain(name, size)
    before = net.backbone.conv1.weight.detach().clone()
    state_before = {k: v.clone() for k, v in objective.state_dict().items()}
    trainer.run()
    assert len(losses) == 4
    for out in losses:
        assert set(objective.loss_keys) <= set(out) and all(torch.isfinite(torch.as_tensor(out[k])) for k in objective.loss_keys)
    assert not torch.equal(before, net.backbone.conv1.weight)
    changed = [k for k, v in objective.state_dict().items() if v.dtype.is_floating_point and not torch.equal(v, state_before[k])]
    assert changed  # heads (and momentum targets, queues) moved
    if name in ("moco", "byol"):
        assert any(k.startswith("target_backbone.") for k in changed)
        assert not any(p.requires_grad for p in objective.target_backbone.parameters())


def test_objective_state_round_trips_through_a_checkpoint(tmp_path):
    net, objective, trainer, _ = _pretrain("moco", (16, 16), epochs=1)
    trainer.run()
    torch.save({"model": net.state_dict(), "ssl_objective": objective.state_dict()}, tmp_path / "ckpt.pt")
    fresh = ssl_objective("moco", net.backbone, net.feature_dim, 2, 1, (16, 16), options={"hidden_dim": 16, "embedding_dim": 8, "queue_size": 12})
    assert not torch.equal(fresh.queue, objective.queue)
    fresh.load_state_dict(torch.load(tmp_path / "ckpt.pt")["ssl_objective"])
    assert torch.equal(fresh.queue, objective.queue) and int(fresh.queue_ptr) == int(objective.queue_ptr) == 4
    for a, b in zip(fresh.target_backbone.parameters(), objective.target_backbone.parameters()):
        assert torch.equal(a, b)


def test_losses_fall_for_contrastive_pretext_and_generative_objectives():
    for name in ("simclr", "supcon", "rotation", "vae"):
        _, _, trainer, losses = _pretrain(name, (16, 16), epochs=8)
        trainer.run()
        first, last = sum(float(o["loss"]) for o in losses[:2]), sum(float(o["loss"]) for o in losses[-2:])
        assert last < first, name


def test_momentum_update_by_hand():
    online = torch.nn.Linear(1, 1, bias=False)
    target = frozen_copy(online)
    with torch.no_grad():
        online.weight.fill_(1.0)
        target.weight.fill_(3.0)
    momentum_update(target, online, 0.75)
    assert target.weight.item() == pytest.approx(0.75 * 3 + 0.25 * 1)
    with pytest.raises(ValueError, match="differ in their parameters"):
        momentum_update(target, torch.nn.Linear(2, 1), 0.5)


def test_moco_queue_wraps_around():
    net = FeatureClassifier("resnet10", widths=(4, 8, 8, 16))
    moco = MoCoObjective(net.backbone, net.feature_dim, queue_size=5, hidden_dim=4, embedding_dim=2)
    moco._enqueue(torch.tensor([[1.0, 0.0], [0.0, 2.0], [3.0, 0.0]]))
    moco._enqueue(torch.tensor([[0.0, -1.0], [-2.0, 0.0], [0.0, 5.0]]))
    # slots 0-2 got the first keys, 3-4 and then 0 the second: pointer at 1
    assert int(moco.queue_ptr) == 1
    assert moco.queue.tolist() == [[0.0, 1.0], [0.0, 1.0], [1.0, 0.0], [0.0, -1.0], [-1.0, 0.0]]


def test_errors_are_named():
    net = FeatureClassifier("resnet10", widths=(4, 8, 8, 16))
    with pytest.raises(ValueError, match="pretrain_objective must be one of"):
        ssl_objective("dino", net.backbone, 16, 2, 1, (16, 16))
    with pytest.raises(ValueError, match=r"unknown pretraining option\(s\) \['queue'\]"):
        ssl_objective("moco", net.backbone, 16, 2, 1, (16, 16), options={"queue": 3})
    with pytest.raises(ValueError, match="momentum must be in"):
        ssl_objective("byol", net.backbone, 16, 2, 1, (16, 16), options={"momentum": 1.0})
    with pytest.raises(TypeError, match="must be an SSLObjective"):
        SSLPretrainer(device="cpu", max_epochs=1, train_data_loader=[], network=net.backbone, objective=torch.nn.Linear(1, 1), optimizer=torch.optim.SGD(net.parameters(), 0.1))
    _, _, trainer, _ = _pretrain("simclr", (16, 16), loader=_batches((16, 16), second_view=False))
    with pytest.raises(ValueError, match="no second view 'image_2'"):
        trainer.run()
    _, _, trainer, _ = _pretrain("vae", (16, 16), loader=[{"image": torch.rand(8, 1, 12, 12)}])
    with pytest.raises(ValueError, match=r"the VAE decodes \(C, \*spatial\) = \(1, 16, 16\), got a batch of shape"):
        trainer.run()
