from __future__ import annotations

import pytest
import torch
from ignite.engine import Events
from monai.losses import ContrastiveLoss

from noisymed.engines import ContrastivePretrainer
from noisymed.losses import SupConLoss
from noisymed.networks import FeatureClassifier, ProjectionHead


def _batches(second_view=True):
    torch.manual_seed(0)
    x = torch.rand(8, 1, 28, 28)
    batch = {"image": x, "label": torch.tensor([0, 1] * 4)}
    if second_view:
        batch["image_2"] = x + 0.05 * torch.randn_like(x)
    return [batch, batch]


@pytest.mark.parametrize("loss, use_labels", [(ContrastiveLoss(temperature=0.5), False), (SupConLoss(0.5), True)])
def test_pretraining_lowers_the_contrastive_loss_and_changes_the_backbone(loss, use_labels):
    net = FeatureClassifier("resnet10", widths=(4, 8, 8, 16))
    head = ProjectionHead(net.feature_dim, 16, 8)
    opt = torch.optim.Adam(list(net.parameters()) + list(head.parameters()), lr=1e-2)
    before = net.backbone.conv1.weight.detach().clone()
    trainer = ContrastivePretrainer(
        device="cpu", max_epochs=5, train_data_loader=_batches(), network=net.backbone, projection=head,
        optimizer=opt, loss_function=loss, use_labels=use_labels,
    )  # fmt: skip
    losses = []
    trainer.add_event_handler(Events.ITERATION_COMPLETED, lambda e: losses.append(float(e.state.output[0]["loss"])))
    trainer.run()
    assert len(losses) == 10 and losses[-1] < losses[0]
    assert not torch.equal(before, net.backbone.conv1.weight)


def test_missing_second_view_is_a_clear_error():
    net = FeatureClassifier("resnet10", widths=(4, 8, 8, 16))
    head = ProjectionHead(net.feature_dim, 16, 8)
    trainer = ContrastivePretrainer(
        device="cpu", max_epochs=1, train_data_loader=_batches(False), network=net.backbone, projection=head,
        optimizer=torch.optim.SGD(net.parameters(), 0.1), loss_function=ContrastiveLoss(),
    )  # fmt: skip
    with pytest.raises(ValueError, match="no second view 'image_2'"):
        trainer.run()
