from __future__ import annotations

import json

import numpy as np
import pytest
from ignite.engine import Engine, Events
from torch import nn

from noisymed.engines import MODEL_SETTINGS_NAME, ModelSettingsSaver, read_model_settings
from noisymed.engines.model_settings import jsonable, settings_differ


def test_jsonable_and_differ():
    assert jsonable({"a": (1, 2), "b": np.float32(0.5), "c": np.array([1, 2])}) == {"a": [1, 2], "b": 0.5, "c": [1, 2]}
    with pytest.raises(TypeError, match=r"pixdim: .*object.* cannot be recorded"):
        jsonable(object(), "pixdim")
    assert not settings_differ([0.625, 0.625, 0.625], (0.625, 0.625, np.float64(0.625)))
    assert not settings_differ(16, 16.0)
    assert settings_differ([112, 112, 80], [112, 112])
    assert settings_differ("a", "b") and settings_differ(True, 1) is True


def test_saved_at_start_and_read_back(tmp_path):
    saver = ModelSettingsSaver(tmp_path / "models", {"pixdim": (0.625, 0.625, 0.625), "features": 16}, network=nn.Linear(1, 1))
    engine = Engine(lambda e, b: None)
    saver.attach(engine)
    assert not (tmp_path / "models" / MODEL_SETTINGS_NAME).exists()  # nothing is written at attach time
    engine.run([0], max_epochs=1)
    recorded = read_model_settings(tmp_path / "models")
    assert recorded == {"pixdim": [0.625, 0.625, 0.625], "features": 16, "network": "Linear"}
    assert json.loads((tmp_path / "models" / MODEL_SETTINGS_NAME).read_text()) == recorded
    assert read_model_settings(tmp_path / "elsewhere") == {}


def test_resume_checks_instead_of_rewriting(tmp_path):
    ModelSettingsSaver(tmp_path, {"pixdim": [0.625] * 3, "features": 16})()
    ModelSettingsSaver(tmp_path, {"pixdim": [0.625] * 3, "features": 16}, resume="true")()  # same settings: fine
    with pytest.raises(ValueError, match=r"resumed was trained with features 16; this run has features 32"):
        ModelSettingsSaver(tmp_path, {"pixdim": [0.625] * 3, "features": 32}, resume=True)()
    ModelSettingsSaver(tmp_path, {"pixdim": [1.0] * 3, "features": 32})()  # a fresh run records its own
    assert read_model_settings(tmp_path)["features"] == 32


def test_bad_settings_file_and_reserved_key(tmp_path):
    (tmp_path / MODEL_SETTINGS_NAME).write_text("{not json")
    with pytest.raises(ValueError, match=r"model_settings.json: not a readable settings file"):
        read_model_settings(tmp_path)
    (tmp_path / MODEL_SETTINGS_NAME).write_text("[1, 2]")
    with pytest.raises(ValueError, match="must hold a JSON object of settings, got list"):
        read_model_settings(tmp_path / MODEL_SETTINGS_NAME)
    with pytest.raises(TypeError, match="'network' is recorded from the network argument"):
        ModelSettingsSaver(tmp_path, {"network": "x"})


def test_started_fires_once_per_run(tmp_path):
    saver = ModelSettingsSaver(tmp_path, {"features": 4})
    engine = Engine(lambda e, b: None)
    saver.attach(engine)
    saver.attach(engine)
    assert len(engine._event_handlers[Events.STARTED]) == 1
