from __future__ import annotations

import pytest
import torch
from monai.networks.nets import DenseNet121

from noisymed.networks import FeatureClassifier, SinglePositiveClassifier


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """DenseNet121 on 2 shared cores: two OpenMP threads under load are ~30x slower than one."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    return SinglePositiveClassifier(num_classes=3, btc_heads=4)


def test_forward_is_plain_logits_and_skips_the_batch_transformer(net):
    net.eval()
    x = torch.randn(4, 1, 32, 32)
    with torch.no_grad():
        logits = net(x)
        assert logits.shape == (4, 3)
        # inference output of a sample does not depend on the rest of the batch (no BTC at inference)
        assert torch.allclose(net(x[:1]), logits[:1], atol=1e-5)
        assert torch.allclose(net.head(net.features(x)), logits)
    calls = []
    handle = net.btc.register_forward_hook(lambda *a: calls.append(1))
    with torch.no_grad():
        net(x)
    handle.remove()
    assert calls == []


def test_forward_train_streams_share_the_head(net):
    net.train()
    x, xs = torch.randn(4, 1, 32, 32), torch.randn(4, 1, 32, 32)
    out = net.forward_train(x, xs)
    assert set(out) == {"logits", "logits_strong", "logits_fp", "logits_btc"}
    assert all(v.shape == (4, 3) for v in out.values())
    out["logits_btc"].sum().backward()
    assert net.head.weight.grad is not None and net.btc.encoder.layers[0].linear1.weight.grad is not None
    assert set(net.forward_train(x, fp=False, btc=False)) == {"logits"}


def test_local_checkpoint_init(tmp_path, net):
    dense = DenseNet121(spatial_dims=2, in_channels=1, out_channels=10)  # another head size: skipped
    torch.save(dense.state_dict(), tmp_path / "densenet.pt")
    fresh = SinglePositiveClassifier(num_classes=3, batch_transformer=False, pretrained_path=tmp_path / "densenet.pt")
    first = "features.conv0.weight"
    assert torch.equal(fresh.backbone.state_dict()[first], dense.state_dict()[first])
    assert fresh.load_backbone(tmp_path / "densenet.pt") == ["class_layers.out.bias", "class_layers.out.weight"]
    with pytest.raises(FileNotFoundError, match="never downloaded"):
        SinglePositiveClassifier(num_classes=3, pretrained_path=tmp_path / "missing.pt")
    with pytest.raises(ValueError, match="feature_dropout must be in"):
        SinglePositiveClassifier(num_classes=3, feature_dropout=1.0)


def test_noisy_label_bundle_densenet_initialises_the_backbone(tmp_path):
    # the noisy-label bundle's models/model.pt with backbone densenet121 (keys backbone.features.*, head.*)
    other = FeatureClassifier(backbone="densenet121", num_classes=2)
    torch.save(other.state_dict(), tmp_path / "model.pt")
    fresh = SinglePositiveClassifier(num_classes=3, batch_transformer=False)
    assert fresh.load_backbone(tmp_path / "model.pt") == ["class_layers.out.bias", "class_layers.out.weight"]
    mine, theirs = fresh.backbone.state_dict(), other.state_dict()
    assert all(torch.equal(mine[k], theirs["backbone." + k]) for k in mine if k.startswith("features."))
