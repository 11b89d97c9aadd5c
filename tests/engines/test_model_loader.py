from __future__ import annotations

import json

import pytest
import torch
from ignite.engine import Engine
from torch import nn

from noisymed.engines import MODEL_SETTINGS_NAME, ModelLoader, load_model_weights
from noisymed.networks import TwoDecoderVNet


def _save(net, folder, settings=None):
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(net.state_dict(), folder / "model.pt")
    if settings is not None:
        (folder / MODEL_SETTINGS_NAME).write_text(json.dumps(settings))
    return folder / "model.pt"


def test_a_fitting_model_is_loaded_at_start(tmp_path):
    torch.manual_seed(0)
    trained = TwoDecoderVNet(features=4)
    path = _save(trained, tmp_path)
    net = TwoDecoderVNet(features=4)
    engine = Engine(lambda e, b: None)
    ModelLoader(path, net, settings={"features": 4}).attach(engine)
    assert not torch.equal(next(iter(net.parameters())), next(iter(trained.parameters())))  # nothing loaded yet
    engine.run([0], max_epochs=1)
    assert all(torch.equal(a, b) for a, b in zip(net.state_dict().values(), trained.state_dict().values()))
    # a training checkpoint's "model" entry is taken as well
    torch.save({"model": trained.state_dict(), "optimizer": {}}, tmp_path / "ckpt.pt")
    load_model_weights(tmp_path / "ckpt.pt", TwoDecoderVNet(features=4))


def test_another_width_names_the_file_the_keys_and_the_option(tmp_path):
    path = _save(TwoDecoderVNet(features=8), tmp_path)  # no settings file: a model saved before they were recorded
    with pytest.raises(ValueError) as err:
        load_model_weights(path, TwoDecoderVNet(features=4), settings={"features": 4, "out_channels": 2, "decoder": "a"})
    message = str(err.value)
    assert message.startswith(f"{path}: does not fit the TwoDecoderVNet this config builds: ")
    assert "tensors of another shape (first: " in message and "(8, 1, 3, 3, 3) in the file, (4, 1, 3, 3, 3) in the network" in message
    assert "trained with features 8, this config has 4: pass --features 8" in message


def test_a_model_of_another_bundle(tmp_path):
    other = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    path = _save(other, tmp_path)
    with pytest.raises(ValueError) as err:
        load_model_weights(path, TwoDecoderVNet(features=4), settings={"features": 4})
    message = str(err.value)
    assert "network keys missing from the file (first: " in message and "file keys the network lacks (first: 0.weight)" in message
    assert "trained by another bundle or with other network options; this config has features=4" in message
    (tmp_path / MODEL_SETTINGS_NAME).write_text(json.dumps({"network": "Sequential"}))
    with pytest.raises(ValueError, match=r"model.pt: is a Sequential \(per .*\), but this config builds a TwoDecoderVNet"):
        load_model_weights(path, TwoDecoderVNet(features=4))


def test_an_override_contradicting_the_recorded_settings_is_refused(tmp_path):
    recorded = {"pixdim": [0.625, 0.625, 0.625], "patch_size": [16, 16, 16], "features": 4, "network": "TwoDecoderVNet"}
    path = _save(TwoDecoderVNet(features=4), tmp_path, recorded)
    net = TwoDecoderVNet(features=4)
    load_model_weights(path, net, settings={"pixdim": (0.625, 0.625, 0.625), "patch_size": [16, 16, 16], "features": 4})
    with pytest.raises(ValueError) as err:
        load_model_weights(path, net, settings={"pixdim": [1.0, 1.0, 1.0], "patch_size": [32, 32, 32], "features": 4})
    message = str(err.value)
    assert "pixdim: trained with [0.625, 0.625, 0.625], this run has [1.0, 1.0, 1.0]" in message
    assert "patch_size: trained with [16, 16, 16], this run has [32, 32, 32]" in message
    assert "Drop --pixdim --patch_size (the recorded values are used by default)" in message


def test_missing_or_unreadable_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"model.pt: no trained model here"):
        load_model_weights(tmp_path / "model.pt", nn.Linear(1, 1))
    (tmp_path / "model.pt").write_bytes(b"half a file")
    with pytest.raises(ValueError, match=r"model.pt: cannot be read as a PyTorch file"):
        load_model_weights(tmp_path / "model.pt", nn.Linear(1, 1))
    torch.save([1, 2], tmp_path / "list.pt")
    with pytest.raises(ValueError, match=r"list.pt: holds a list, not a state dict"):
        load_model_weights(tmp_path / "list.pt", nn.Linear(1, 1))
