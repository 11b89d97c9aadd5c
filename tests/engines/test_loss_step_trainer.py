"""LossStepTrainer: mixed precision (amp) as MONAI's trainer does it, channels-last, and the scaler in checkpoints.

On the CPU, ``torch.autocast`` runs in bfloat16 and MONAI's ``GradScaler`` is disabled; the scaled path (CUDA's
float16) is exercised on the CPU by letting MONAI make an enabled CPU ``GradScaler`` instead.
"""

from __future__ import annotations

import logging

import pytest
import torch
from ignite.engine import Events
from monai.engines.utils import IterationEvents
from monai.losses import DiceLoss
from monai.utils import CommonKeys as Keys

from noisymed.engines import LossStepTrainer, MutualLearningTrainer, TrainingCheckpoint
from noisymed.losses import ReliablePseudoLabelLoss
from noisymed.networks import TwoDecoderVNet
from noisymed.utils import ConsistencyWeight, at_least_float32, autocast_off, to_channels_last


def _batches(n=3):
    torch.manual_seed(0)
    image = torch.randn(4, 1, 16, 16, 16)
    label = (image > 0.5).float()
    label[2:] = 0
    return [{"image": image + 0.1 * i, "label": label, "labeled": torch.tensor([1, 1, 0, 0])} for i in range(n)]


def _network(seed=1):
    torch.manual_seed(seed)
    return TwoDecoderVNet(features=4)


def _trainer(net, batches, cls=MutualLearningTrainer, **kwargs):
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    return cls(
        device=torch.device("cpu"),
        max_epochs=1,
        train_data_loader=batches,
        network=net,
        optimizer=opt,
        supervised_loss=DiceLoss(to_onehot_y=True, softmax=True, include_background=False, batch=True),
        mutual_loss=ReliablePseudoLabelLoss(),
        consistency_weight=ConsistencyWeight(1.0, 40, 1),
        decollate=False,
        **kwargs,
    )


def _record_losses(trainer):
    losses = []
    trainer.add_event_handler(Events.ITERATION_COMPLETED, lambda e: losses.append(e.state.output[Keys.LOSS].detach()))
    return losses


class _PlainIteration(MutualLearningTrainer):
    """The iteration as it was before mixed precision was wired in (float32, no scaler), for comparison."""

    def _iteration(self, engine, batchdata):
        inputs, targets = self.batch_inputs(batchdata)
        engine.state.output = {Keys.IMAGE: inputs, Keys.LABEL: targets}
        engine.network.train()
        engine.optimizer.zero_grad(set_to_none=engine.optim_set_to_none)
        outputs = self.forward(inputs, targets, batchdata)
        engine.state.output[Keys.PRED] = outputs[Keys.PRED]
        engine.fire_event(IterationEvents.FORWARD_COMPLETED)
        terms = self.compute_loss(outputs, targets)
        engine.state.output.update(
            {k: v if k == Keys.LOSS else v.detach() if torch.is_tensor(v) else v for k, v in terms.items()}
        )
        engine.fire_event(IterationEvents.LOSS_COMPLETED)
        terms[Keys.LOSS].backward()
        engine.fire_event(IterationEvents.BACKWARD_COMPLETED)
        engine.optimizer.step()
        engine.fire_event(IterationEvents.MODEL_COMPLETED)
        return engine.state.output


def test_amp_on_cpu_runs_the_forward_in_bfloat16_and_the_loss_in_float32():
    net = _network()
    before = [p.detach().clone() for p in net.parameters()]
    trainer = _trainer(net, _batches(), amp="true")  # the text the bundle command line passes
    assert trainer.amp is True
    seen = []
    first_conv = next(m for m in net.modules() if isinstance(m, torch.nn.Conv3d))
    first_conv.register_forward_hook(lambda m, i, out: seen.append(out.dtype))
    losses = _record_losses(trainer)
    trainer.run()
    assert trainer.state.iteration == 3 and len(losses) == 3
    assert set(seen) == {torch.bfloat16}  # the forward ran under CPU autocast
    assert trainer.state.output[Keys.PRED].dtype == torch.bfloat16
    assert all(torch.isfinite(v) and v.dtype == torch.float32 for v in losses)  # the loss computed in float32
    assert trainer.state.output["loss_mutual"] > 0 and torch.isfinite(trainer.state.output["loss_sup"])
    assert trainer.scaler is not None and not trainer.scaler.is_enabled()  # MONAI's CUDA scaler, off on the CPU
    assert all(p.dtype == torch.float32 for p in net.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(before, net.parameters(), strict=True))


def test_amp_false_is_bit_identical_to_amp_not_passed_and_to_the_plain_iteration():
    runs = []
    for cls, kwargs in (
        (MutualLearningTrainer, {}),
        (MutualLearningTrainer, {"amp": False}),
        (MutualLearningTrainer, {"amp": "false"}),
        (_PlainIteration, {}),
    ):
        net = _network()
        trainer = _trainer(net, _batches(), cls=cls, **kwargs)
        losses = _record_losses(trainer)
        trainer.run()
        assert trainer.scaler is None
        runs.append((torch.stack(losses), net.state_dict()))
    reference_losses, reference = runs[-1]
    for losses, weights in runs[:-1]:
        assert torch.equal(losses, reference_losses)
        assert all(torch.equal(weights[k], reference[k]) for k in reference)


def test_amp_with_an_enabled_grad_scaler_scales_steps_and_updates(monkeypatch):
    """CUDA's path (MONAI makes an enabled GradScaler), on the CPU: the scaler's scale grows at every finite step."""
    monkeypatch.setattr(
        torch.cuda.amp, "GradScaler", lambda: torch.amp.GradScaler("cpu", init_scale=64.0, growth_interval=1)
    )
    net = _network()
    before = [p.detach().clone() for p in net.parameters()]
    trainer = _trainer(net, _batches(), amp=True)
    losses = _record_losses(trainer)
    trainer.run()
    assert trainer.scaler.is_enabled() and trainer.scaler.get_scale() == 64.0 * 2**3
    assert all(torch.isfinite(v) for v in losses)
    assert any(not torch.equal(a, b) for a, b in zip(before, net.parameters(), strict=True))
    # the gradients the optimizer stepped with were unscaled: same update as without a scaler, up to bfloat16
    reference_net = _network()
    reference = _trainer(reference_net, _batches(), amp=True)
    monkeypatch.undo()
    reference.run()
    for a, b in zip(net.parameters(), reference_net.parameters(), strict=True):
        assert torch.allclose(a, b, atol=1e-5)


def test_channels_last_gives_the_same_outputs_and_weights():
    """The same values in another memory order: equal up to float32 summation order in eval mode and in the first
    training forward; after training the weights stay close."""
    torch.manual_seed(2)
    image = torch.randn(2, 1, 16, 16, 16)
    reference = _network().eval()
    converted = to_channels_last(_network().eval())
    with torch.no_grad():
        assert torch.allclose(converted(to_channels_last(image)), reference(image), atol=1e-5)

    outputs = []
    for channels_last in (False, True):
        net = _network()
        trainer = _trainer(net, _batches(2), channels_last=channels_last)
        preds = []
        trainer.add_event_handler(
            IterationEvents.FORWARD_COMPLETED, lambda e: preds.append(e.state.output[Keys.PRED].detach())
        )
        trainer.run()
        conv = next(m for m in net.modules() if isinstance(m, torch.nn.Conv3d) and m.in_channels > 1)
        assert conv.weight.is_contiguous(memory_format=torch.channels_last_3d) is channels_last
        if channels_last:
            assert trainer.state.output[Keys.IMAGE].is_contiguous(memory_format=torch.channels_last_3d)
        outputs.append((preds, net.state_dict()))
    (preds_a, weights_a), (preds_b, weights_b) = outputs
    # the first forward (same weights) agrees to float32 summation order. Later iterations are not compared: the
    # mutual loss makes discrete choices (argmax pseudo labels, the confidence mask), so a rounding difference
    # in the last bit can flip a voxel's choice and the runs part (seen on 2 threads: 1.2e-2 after one step)
    assert len(preds_a) == len(preds_b) and torch.allclose(preds_a[0], preds_b[0], atol=1e-4)
    for k in weights_a:
        assert torch.allclose(weights_a[k].float(), weights_b[k].float(), atol=1e-2), k


def test_to_channels_last_by_rank_and_in_place():
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.Flatten(), torch.nn.LazyLinear(2)
    )
    weight = net[0].weight
    assert to_channels_last(net) is net and net[0].weight is weight  # same parameter objects: optimizers keep working
    assert net[0].weight.is_contiguous(memory_format=torch.channels_last)
    x5, x4, x2 = torch.randn(2, 3, 4, 5, 6), torch.randn(2, 3, 4, 5), torch.randn(2, 3)
    assert to_channels_last(x5).is_contiguous(memory_format=torch.channels_last_3d)
    assert to_channels_last(x4).is_contiguous(memory_format=torch.channels_last)
    assert to_channels_last(x2) is x2 and to_channels_last(x5, "false") is x5
    assert torch.equal(to_channels_last(x5), x5)
    with pytest.raises(TypeError, match="module or tensor"):
        to_channels_last([1, 2])
    with pytest.raises(TypeError, match="channels_last must be a bool"):
        to_channels_last(x5, "maybe")


def test_float32_islands_under_autocast():
    x = torch.randn(2, 4, 8)
    assert at_least_float32(x) is x and at_least_float32(x.double()).dtype == torch.float64
    with torch.autocast("cpu"):
        low = torch.nn.functional.linear(x, torch.randn(3, 8))
        assert low.dtype == torch.bfloat16
        with autocast_off(low):
            assert torch.einsum("bcn,bkn->bck", at_least_float32(low), at_least_float32(low)).dtype == torch.float32


def test_mutual_loss_in_float32_under_autocast_matches_float32():
    torch.manual_seed(0)
    logits_a, logits_b = torch.randn(2, 2, 8, 8, 8), torch.randn(2, 2, 8, 8, 8)
    feat_a, feat_b = torch.rand(2, 4, 8, 8, 8), torch.rand(2, 4, 8, 8, 8)
    loss = ReliablePseudoLabelLoss()
    reference = loss(logits_a, logits_b, feat_a, feat_b)
    halves = [t.bfloat16() for t in (logits_a, logits_b, feat_a, feat_b)]
    with torch.autocast("cpu"):
        terms = loss.terms(*halves)
    assert terms[0].loss.dtype == torch.float32 and terms[0].weight.dtype == torch.float32
    assert torch.allclose(terms[0].loss + terms[1].loss, reference, rtol=2e-2)


def _linear_trainer(tmp_path, epochs, resume=False, amp=True):
    torch.manual_seed(0)
    net = torch.nn.Linear(4, 1)
    opt = torch.optim.SGD(net.parameters(), lr=0.01)
    data = [(torch.randn(8, 4), torch.randn(8, 1)) for _ in range(2)]
    checkpoint = TrainingCheckpoint(tmp_path, net, opt, resume=resume, overwrite=not resume)
    trainer = LossStepTrainer(
        device=torch.device("cpu"),
        max_epochs=epochs,
        train_data_loader=data,
        network=net,
        optimizer=opt,
        loss_function=torch.nn.MSELoss(),
        prepare_batch=lambda batch, device, non_blocking, **kw: batch,
        decollate=False,
        amp=amp,
    )
    checkpoint.attach(trainer)
    return trainer


def test_checkpoint_saves_and_restores_the_scaler_only_when_there_is_one(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(
        torch.cuda.amp, "GradScaler", lambda: torch.amp.GradScaler("cpu", init_scale=64.0, growth_interval=1)
    )
    trainer = _linear_trainer(tmp_path, 2)
    trainer.run()
    saved = torch.load(tmp_path / "checkpoint_final.pt", weights_only=True)
    assert saved["scaler"]["scale"] == 64.0 * 2**4 == trainer.scaler.get_scale()

    resumed = _linear_trainer(tmp_path, 3, resume=True)
    scales = []
    resumed.add_event_handler(Events.STARTED, lambda e: scales.append(e.scaler.get_scale()))  # after the restore
    resumed.run()
    assert scales == [64.0 * 2**4] and resumed.scaler.get_scale() == 64.0 * 2**6

    monkeypatch.undo()  # no CUDA: MONAI's scaler is disabled, which counts as none
    with caplog.at_level(logging.INFO):
        plain = _linear_trainer(tmp_path, 4, resume=True)
        plain.run()
    assert "holds a gradient-scaler state" in caplog.text
    assert "scaler" not in torch.load(tmp_path / "checkpoint_final.pt", weights_only=True)

    monkeypatch.setattr(
        torch.cuda.amp, "GradScaler", lambda: torch.amp.GradScaler("cpu", init_scale=64.0, growth_interval=1)
    )
    caplog.clear()
    with caplog.at_level(logging.INFO):
        again = _linear_trainer(tmp_path, 5, resume=True)  # a checkpoint without a scaler (no amp, or older)
        again.run()
    assert "holds no gradient-scaler state" in caplog.text and again.scaler.get_scale() == 64.0 * 2**2


def test_checkpoint_without_amp_has_no_scaler_key(tmp_path):
    trainer = _linear_trainer(tmp_path, 1, amp=False)
    trainer.run()
    assert trainer.scaler is None
    assert "scaler" not in torch.load(tmp_path / "checkpoint_final.pt", weights_only=True)


def _regression_batches(n, size=2):
    torch.manual_seed(3)
    return [{"image": torch.randn(size, 3), "label": torch.randn(size, 1)} for _ in range(n)]


def _accumulating_trainer(batches, **kwargs):
    torch.manual_seed(4)
    net = torch.nn.Linear(3, 1)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    trainer = LossStepTrainer(
        device=torch.device("cpu"),
        max_epochs=kwargs.pop("max_epochs", 1),
        train_data_loader=batches,
        network=net,
        optimizer=opt,
        loss_function=torch.nn.MSELoss(),
        decollate=False,
        **kwargs,
    )
    return trainer, net, opt


def test_accumulation_steps_equal_one_step_on_the_joined_batches():
    """Two iterations of 2 samples accumulated = one iteration on the 4 samples (mean losses, equal sizes)."""
    batches = _regression_batches(4)
    joined = [{k: torch.cat([a[k], b[k]]) for k in a} for a, b in zip(batches[::2], batches[1::2], strict=True)]
    accumulated, net_acc, _ = _accumulating_trainer(batches, accumulation_steps=2)
    losses = _record_losses(accumulated)
    first_loss = torch.nn.functional.mse_loss(net_acc(batches[0]["image"]), batches[0]["label"]).detach()
    accumulated.run()
    plain, net_plain, _ = _accumulating_trainer(joined)
    plain.run()
    assert accumulated.state.iteration == 4 and plain.state.iteration == 2
    for a, b in zip(net_acc.parameters(), net_plain.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-6)
    torch.testing.assert_close(losses[0], first_loss)  # the logged loss is not divided by the steps


def test_accumulation_steps_step_at_the_end_of_every_epoch():
    """Epochs of 3 iterations, accumulating 2: steps after the 2nd and the 3rd iteration of each epoch."""
    trainer, _, opt = _accumulating_trainer(_regression_batches(3), accumulation_steps=2, max_epochs=2)
    steps, zeroed = [], []
    step, zero_grad = opt.step, opt.zero_grad
    opt.step = lambda *a, **k: (steps.append(trainer.state.iteration), step(*a, **k))[1]
    opt.zero_grad = lambda *a, **k: (zeroed.append(trainer.state.iteration), zero_grad(*a, **k))[1]
    trainer.run()
    assert steps == [2, 3, 5, 6]
    assert zeroed == [1, 3, 4, 6]


def test_accumulation_steps_below_one_are_refused():
    with pytest.raises(ValueError, match="accumulation_steps"):
        _accumulating_trainer(_regression_batches(1), accumulation_steps=0)


def test_compile_hands_forward_plain_tensors_and_trains():
    from monai.data import MetaTensor

    seen = []

    class Recording(LossStepTrainer):
        def forward(self, inputs, targets, batchdata):
            seen.append((type(inputs), type(targets)))
            return super().forward(inputs, targets, batchdata)

    batches = [{k: MetaTensor(v) for k, v in b.items()} for b in _regression_batches(2)]
    torch.manual_seed(4)
    net = torch.nn.Linear(3, 1)
    before = [p.detach().clone() for p in net.parameters()]
    trainer = Recording(
        device=torch.device("cpu"),
        max_epochs=1,
        train_data_loader=batches,
        network=net,
        optimizer=torch.optim.SGD(net.parameters(), lr=0.1),
        loss_function=torch.nn.MSELoss(),
        decollate=False,
        compile=True,
        compile_kwargs={"backend": "eager"},
    )
    trainer.run()
    assert seen == [(torch.Tensor, torch.Tensor)] * 2
    assert any(not torch.equal(a, b) for a, b in zip(before, net.parameters(), strict=True))
