"""The training settings a saved model needs at inference, recorded beside ``model.pt``.

``models/model.pt`` stays the plain state dict (the model-zoo rule), but a state dict does not say at which voxel
size, patch size or width it was trained: an LA model evaluated without repeating ``--pixdim`` scores Dice 0.06
instead of 0.8, silently. :class:`ModelSettingsSaver` writes those settings to ``models/model_settings.json`` when
training starts; evaluation and inference configs read them with :func:`read_model_settings`, use them where the
user gave no value, and :class:`noisymed.engines.ModelLoader` refuses a conflicting one.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from ignite.engine import Engine, Events
from torch import nn

from noisymed.utils import as_bool, write_text_atomic

__all__ = ["MODEL_SETTINGS_NAME", "ModelSettingsSaver", "read_model_settings", "jsonable", "settings_differ"]

MODEL_SETTINGS_NAME = "model_settings.json"
"""File name of the recorded settings, in the folder of ``model.pt``."""

NETWORK_KEY = "network"
"""Key under which the network's class name is recorded."""


def jsonable(value: Any, name: str = "setting") -> Any:
    """``value`` as plain JSON types (tuples and arrays as lists, NumPy scalars as Python numbers).

    Raises:
        TypeError: for a value JSON cannot hold (naming it).
    """
    if isinstance(value, Mapping):
        return {str(k): jsonable(v, f"{name}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [jsonable(v, name) for v in (value.tolist() if isinstance(value, np.ndarray) else value)]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, "tolist"):  # a torch tensor
        return jsonable(value.tolist(), name)
    raise TypeError(f"{name}: {value!r} ({type(value).__name__}) cannot be recorded in {MODEL_SETTINGS_NAME}.")


def settings_differ(a: Any, b: Any) -> bool:
    """Whether two recorded values differ (numbers compared to 1e-9 relative, ``1 == 1.0``)."""
    a, b = jsonable(a), jsonable(b)
    if isinstance(a, bool) or isinstance(b, bool):
        return a is not b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return not math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) != len(b) or any(settings_differ(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return set(a) != set(b) or any(settings_differ(a[k], b[k]) for k in a)
    return a != b


def read_model_settings(path: str | Path) -> dict[str, Any]:
    """The settings recorded in ``path``, or ``{}`` when there is no such file (a model saved before they were).

    Args:
        path: the ``model_settings.json`` file (or the folder holding it).

    Returns:
        The recorded settings.

    Raises:
        ValueError: for a file that is not a JSON object.
    """
    path = Path(path)
    if path.is_dir():
        path = path / MODEL_SETTINGS_NAME
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path}: not a readable settings file ({err}); delete it or train the model again.") from err
    if not isinstance(data, dict):
        raise ValueError(f"{path}: must hold a JSON object of settings, got {type(data).__name__}.")
    return data


class ModelSettingsSaver:
    """Write the settings inference depends on to ``<save_dir>/model_settings.json`` when training starts.

    The file is written atomically. A resumed run does not rewrite it: it checks that the run's settings are
    the recorded ones and stops otherwise (a model cannot be continued at another voxel size or width).
    Attach it after the handler that refuses to train into a folder holding an earlier model.

    Args:
        save_dir: the folder of ``model.pt``.
        settings: ``name -> value`` (JSON types, tuples, NumPy values), e.g. ``{"pixdim": [0.625] * 3}``.
        network: the network; its class name is recorded under ``"network"`` (to name a model of another
            bundle at load time).
        resume: whether this run resumes an earlier one.
        filename: the file name.

    Raises:
        TypeError: for a setting JSON cannot hold, or the reserved name ``"network"``.
    """

    def __init__(
        self,
        save_dir: str | Path,
        settings: Mapping[str, Any],
        network: nn.Module | None = None,
        resume: bool | str = False,
        filename: str = MODEL_SETTINGS_NAME,
    ) -> None:
        if NETWORK_KEY in settings:
            raise TypeError(f"{NETWORK_KEY!r} is recorded from the network argument; rename that setting.")
        self.path = Path(save_dir) / filename
        self.settings = jsonable(dict(settings))
        if network is not None:
            self.settings[NETWORK_KEY] = type(network).__name__
        self.resume = as_bool(resume, "resume")

    def attach(self, engine: Engine) -> None:
        """Run :meth:`__call__` when ``engine`` starts."""
        if not engine.has_event_handler(self, Events.STARTED):
            engine.add_event_handler(Events.STARTED, self)

    def __call__(self, engine: Engine | None = None) -> None:
        """Write the settings (or, when resuming, check them against the recorded ones).

        Raises:
            ValueError: when resuming with settings that differ from the recorded ones.
        """
        recorded = read_model_settings(self.path)
        if self.resume and recorded:
            differ = [k for k in self.settings if k in recorded and settings_differ(recorded[k], self.settings[k])]
            if differ:
                was = ", ".join(f"{k} {json.dumps(recorded[k])}" for k in differ)
                now = ", ".join(f"{k} {json.dumps(self.settings[k])}" for k in differ)
                raise ValueError(
                    f"{self.path}: the run being resumed was trained with {was}; this run has {now}. "
                    "Pass the recorded values to resume, or start a fresh run in another bundle_root."
                )
            return
        write_text_atomic(self.path, json.dumps(self.settings, indent=2) + "\n")
