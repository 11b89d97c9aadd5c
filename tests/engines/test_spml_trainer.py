from __future__ import annotations

import pytest
import torch
from monai.engines.utils import IterationEvents

from noisymed.engines import SPML_LOSS_KEYS, SinglePositiveTrainer
from noisymed.losses import AssumeNegativeLoss, LargeLossLoss, ROLELoss
from noisymed.networks import SinglePositiveClassifier


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """DenseNet121 on 2 shared cores: two OpenMP threads under load are ~30x slower than one."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _batches(n: int = 2, b: int = 4, c: int = 3):
    g = torch.Generator().manual_seed(0)
    out = []
    for k in range(n):
        obs = torch.zeros(b, c)
        obs[torch.arange(b), torch.arange(b) % c] = 1.0
        out.append(
            {
                "image": torch.rand(b, 1, 32, 32, generator=g),
                "image_strong": torch.rand(b, 1, 32, 32, generator=g),
                "label": obs,
                "full_label": (torch.rand(b, c, generator=g) > 0.5).float(),
                "index": torch.arange(k * b, (k + 1) * b),
            }
        )
    return out


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    return SinglePositiveClassifier(num_classes=3, btc_feedforward=64)


def test_mpc_iteration_terms_and_events(net):
    fired = []
    trainer = SinglePositiveTrainer(
        device="cpu", max_epochs=1, train_data_loader=_batches(), network=net,
        optimizer=torch.optim.SGD(net.parameters(), lr=0.0), loss_function=AssumeNegativeLoss(),
        ipc_weight=1.0, fpc_weight=0.5, btc_weight=2.0, rampup_epochs=0, tau_pos=0.6, tau_neg=0.4, decollate=False,
    )  # fmt: skip
    for event in (IterationEvents.FORWARD_COMPLETED, IterationEvents.LOSS_COMPLETED, IterationEvents.MODEL_COMPLETED):
        trainer.add_event_handler(event, lambda e, ev=event: fired.append(ev))
    trainer.run()
    out = trainer.state.output
    assert set(SPML_LOSS_KEYS) <= set(out) and out["pred"].shape == (4, 3)
    assert out["weight_cons"] == 1.0 and all(float(out[k]) > 0 for k in ("loss_ipc", "loss_fpc", "loss_btc"))
    expected = out["loss_base"] + out["loss_ipc"] + 0.5 * out["loss_fpc"] + 2.0 * out["loss_btc"]
    assert float(out["loss"]) == pytest.approx(float(expected), rel=1e-5)
    assert len(fired) == 6  # three events x two iterations


def test_plain_spml_runs_no_extra_stream_and_full_labels(net):
    trainer = SinglePositiveTrainer(
        device="cpu", max_epochs=1, train_data_loader=_batches(1), network=net,
        optimizer=torch.optim.SGD(net.parameters(), lr=0.0), loss_function=AssumeNegativeLoss(), label_key="full_label",
        decollate=False,
    )  # fmt: skip
    trainer.run()
    out = trainer.state.output
    assert float(out["loss_ipc"]) == 0 and out["weight_cons"] == 0.0
    assert torch.equal(out["label"], _batches(1)[0]["full_label"])
    assert float(out["loss"]) == pytest.approx(float(out["loss_base"]))


def test_epoch_and_index_reach_the_losses(net):
    ll = LargeLossLoss(delta_rel=0.1)
    trainer = SinglePositiveTrainer(
        device="cpu", max_epochs=2, train_data_loader=_batches(1), network=net,
        optimizer=torch.optim.SGD(net.parameters(), lr=0.0), loss_function=ll,
    )  # fmt: skip
    trainer.run()
    assert ll.rate == pytest.approx(0.1)  # set for the second (0-based 1) epoch
    role = ROLELoss(num_samples=8, num_classes=3)
    opt = torch.optim.SGD(list(role.parameters()), lr=1.0)
    trainer = SinglePositiveTrainer(
        device="cpu", max_epochs=1, train_data_loader=_batches(1), network=net, optimizer=opt, loss_function=role,
    )  # fmt: skip
    before = role.label_logits.detach().clone()
    trainer.run()
    changed = (role.label_logits.detach() != before).any(1)
    assert changed[:4].all() and not changed[4:].any()  # only the rows of the batch's indices


def test_validation(net):
    with pytest.raises(ValueError, match="ipc_weight must be >= 0"):
        SinglePositiveTrainer("cpu", 1, _batches(1), net, torch.optim.SGD(net.parameters(), lr=0.0), AssumeNegativeLoss(), ipc_weight=-1)
    with pytest.raises(ValueError, match="tau_neg <= tau_pos"):
        SinglePositiveTrainer("cpu", 1, _batches(1), net, torch.optim.SGD(net.parameters(), lr=0.0), AssumeNegativeLoss(), tau_pos=0.2, tau_neg=0.5)


class _FixedLogits(torch.nn.Module):
    """forward_train gives fixed logits for every stream (a parameter keeps the optimizer happy)."""

    def __init__(self, logits: torch.Tensor):
        super().__init__()
        self.logits = logits
        self.w = torch.nn.Parameter(torch.zeros(()))

    def forward_train(self, x, x_strong=None, fp=True, btc=True):
        z = self.logits + self.w
        out = {"logits": z}
        if x_strong is not None:
            out["logits_strong"] = z
        if fp:
            out["logits_fp"] = z
        if btc:
            out["logits_btc"] = z
        return out


def test_pseudo_label_quality_metrics_by_hand():
    # observed positives (0,0) and (1,1); true positives add (0,1) and (1,2): 4 unobserved entries, 2 hidden.
    # sigmoid(2) = 0.88 > tau_pos makes (0,1) a pseudo positive (a true one); (1,2) at sigmoid(-5) stays negative.
    batch = {
        "image": torch.zeros(2, 1, 32, 32),
        "image_strong": torch.zeros(2, 1, 32, 32),
        "label": torch.tensor([[1.0, 0, 0], [0, 1, 0]]),
        "full_label": torch.tensor([[1.0, 1, 0], [0, 1, 1]]),
    }
    net = _FixedLogits(torch.tensor([[5.0, 2.0, -5.0], [-5.0, 5.0, -5.0]]))
    trainer = SinglePositiveTrainer(
        device="cpu", max_epochs=1, train_data_loader=[batch, batch], network=net,
        optimizer=torch.optim.SGD(net.parameters(), lr=0.0), loss_function=AssumeNegativeLoss(),
        ipc_weight=1.0, tau_pos=0.7, tau_neg=0.05, decollate=False,
    )  # fmt: skip
    trainer.run()
    m = trainer.state.metrics
    assert m["pseudo_pos_rate"] == pytest.approx(0.25)  # 2 of 8 unobserved entries over the two iterations
    assert m["pseudo_pos_precision"] == pytest.approx(1.0)
    assert m["hidden_pos_recall"] == pytest.approx(0.5)
    assert trainer.state.output["pseudo_pos_rate"] == pytest.approx(0.25)


def test_no_pseudo_label_metrics_without_pseudo_labels_or_truth(net):
    plain = SinglePositiveTrainer(
        device="cpu", max_epochs=1, train_data_loader=_batches(1), network=net,
        optimizer=torch.optim.SGD(net.parameters(), lr=0.0), loss_function=AssumeNegativeLoss(), decollate=False,
    )  # fmt: skip
    plain.run()
    assert "pseudo_pos_rate" not in plain.state.metrics
    blind = SinglePositiveTrainer(
        device="cpu", max_epochs=1, train_data_loader=_batches(1), network=net,
        optimizer=torch.optim.SGD(net.parameters(), lr=0.0), loss_function=AssumeNegativeLoss(),
        ipc_weight=1.0, truth_key=None, decollate=False,
    )  # fmt: skip
    blind.run()
    assert "pseudo_pos_rate" in blind.state.metrics and "pseudo_pos_precision" not in blind.state.metrics


def test_pseudo_positives_in_base_reads_command_line_text_and_refuses_other_values(net):
    def trainer(flag):
        return SinglePositiveTrainer(
            device="cpu", max_epochs=1, train_data_loader=_batches(1), network=net,
            optimizer=torch.optim.SGD(net.parameters(), lr=0.0), loss_function=AssumeNegativeLoss(),
            pseudo_positives_in_base=flag,
        )  # fmt: skip

    assert trainer("false").pseudo_positives_in_base is False  # `--pseudo_positives_in_base false`
    assert trainer("true").pseudo_positives_in_base is True
    with pytest.raises(TypeError, match="must be a bool"):
        trainer("maybe")
