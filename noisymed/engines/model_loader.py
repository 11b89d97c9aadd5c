"""Load ``model.pt`` into a network, or say why it does not fit: which file, which keys, and the likely cause.

MONAI's ``CheckpointLoader`` raises PyTorch's bare ``Error(s) in loading state_dict`` (a wall of key names) for
a model of another bundle or width. :class:`ModelLoader` names the file, the first mismatching keys and shapes,
and what to pass: the settings recorded at training time (:mod:`noisymed.engines.model_settings`) when the run
contradicts them, or the network option whose value scales the shapes (``--features 32``).
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Mapping
from fractions import Fraction
from pathlib import Path
from typing import Any

import torch
from ignite.engine import Engine, Events
from torch import nn

from .model_settings import MODEL_SETTINGS_NAME, NETWORK_KEY, jsonable, read_model_settings, settings_differ

__all__ = ["ModelLoader", "load_model_weights"]


def _state_dict(obj: Any, path: Path) -> dict[str, torch.Tensor]:
    if isinstance(obj, Mapping) and "model" in obj and isinstance(obj["model"], Mapping):
        obj = obj["model"]  # a training checkpoint {"model": ..., "optimizer": ...}
    if not isinstance(obj, Mapping) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise ValueError(f"{path}: holds a {type(obj).__name__}, not a state dict of tensors (a model.pt).")
    return dict(obj)


def _scale_hint(settings: Mapping[str, Any], file_shape: tuple, net_shape: tuple) -> str:
    """``"trained with features 32, this config has 16: pass --features 32"`` when one option explains the shapes."""
    if len(file_shape) != len(net_shape):
        return ""
    dims = [(f, n) for f, n in zip(file_shape, net_shape, strict=True) if f != n]
    if not dims or any(n == 0 for _, n in dims):
        return ""
    ratio = Fraction(dims[0][0], dims[0][1])
    hints = []
    for key, value in settings.items():
        if isinstance(value, bool) or key == NETWORK_KEY:
            continue
        if isinstance(value, int) and value > 0 and (value * ratio).denominator == 1:
            guess = int(value * ratio)
            hints.append(f"trained with {key} {guess}, this config has {value}: pass --{key} {guess}")
        elif isinstance(value, list) and value and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            scaled = [v * ratio for v in value]
            if all(s.denominator == 1 for s in scaled):
                guess = [int(s) for s in scaled]
                hints.append(f"trained with {key} {guess}, this config has {value}: pass --{key} {json.dumps(guess)}")
    return "; or ".join(hints)


def load_model_weights(
    path: str | Path,
    network: nn.Module,
    settings: Mapping[str, Any] | None = None,
    settings_path: str | Path | None = None,
    map_location: Any = "cpu",
) -> None:
    """Check this run's settings against the recorded ones, then load ``path``'s weights into ``network``.

    Args:
        path: the ``model.pt`` file (a plain state dict; a training checkpoint's ``"model"`` entry is also taken).
        network: the network built by the config.
        settings: this run's values of the recorded settings (``{"features": 16, "pixdim": [...]}``).
        settings_path: the recorded settings; None for ``model_settings.json`` beside ``path``.
        map_location: ``torch.load``'s ``map_location``.

    Raises:
        FileNotFoundError: when ``path`` does not exist.
        ValueError: for settings that contradict the recorded ones (all listed), a file that is not a plain
            state dict, or weights that do not fit ``network`` (file, keys, shapes and the likely cause named).
    """
    path = Path(path)
    settings = jsonable(dict(settings or {}))
    settings_file = Path(settings_path) if settings_path is not None else path.parent / MODEL_SETTINGS_NAME
    recorded = read_model_settings(settings_file)
    network_name = type(network).__name__
    if recorded.get(NETWORK_KEY, network_name) != network_name:
        raise ValueError(
            f"{path}: is a {recorded[NETWORK_KEY]} (per {settings_file}), but this config builds a {network_name}: "
            "the model comes from another bundle. Point bundle_root at this bundle's own trained model."
        )
    differ = [k for k in settings if k in recorded and settings_differ(recorded[k], settings[k])]
    if differ:
        lines = "; ".join(
            f"{k}: trained with {json.dumps(recorded[k])}, this run has {json.dumps(settings[k])}" for k in differ
        )
        options = " ".join(f"--{k}" for k in differ)
        raise ValueError(
            f"{path}: this run contradicts the settings the model was trained with ({settings_file}): {lines}. "
            f"Drop {options} (the recorded values are used by default) or pass the recorded values."
        )
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: no trained model here; train the bundle first or set bundle_root to where it was trained."
        )
    try:
        obj = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ValueError(
            f"{path}: cannot be read as a PyTorch file of plain tensors: it is truncated or of another format, or it "
            f"needs pickled code to load, which is refused ({first})."
        ) from err
    except Exception as err:  # torch raises RuntimeError, EOFError, KeyError... for a cut or foreign file
        raise ValueError(
            f"{path}: cannot be read as a PyTorch file; it may be truncated or not a model ({type(err).__name__}: {err})."
        ) from err
    state = _state_dict(obj, path)
    own = network.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    shapes = [
        (k, tuple(state[k].shape), tuple(own[k].shape)) for k in own if k in state and state[k].shape != own[k].shape
    ]
    if missing or unexpected or shapes:
        parts = []
        if shapes:
            k, f, n = shapes[0]
            parts.append(f"{len(shapes)} tensors of another shape (first: {k}: {f} in the file, {n} in the network)")
        if missing:
            parts.append(f"{len(missing)} network keys missing from the file (first: {missing[0]})")
        if unexpected:
            parts.append(f"{len(unexpected)} file keys the network lacks (first: {unexpected[0]})")
        hint = _scale_hint(settings, shapes[0][1], shapes[0][2]) if shapes else ""
        if not hint:
            described = ", ".join(f"{k}={json.dumps(v)}" for k, v in settings.items()) or "its defaults"
            hint = (
                f"the model was trained by another bundle or with other network options; this config has "
                f"{described}: pass the values the model was trained with"
            )
        raise ValueError(
            f"{path}: does not fit the {network_name} this config builds: {'; '.join(parts)}. Likely cause: {hint}."
        )
    network.load_state_dict(state)


class ModelLoader:
    """An ignite handler that runs :func:`load_model_weights` when the engine starts (``CheckpointLoader``'s place).

    Args:
        load_path: the ``model.pt`` file.
        network: the network to load into.
        settings: this run's values of the settings recorded at training time.
        settings_path: the recorded settings; None for ``model_settings.json`` beside ``load_path``.
        map_location: ``torch.load``'s ``map_location``.
    """

    def __init__(
        self,
        load_path: str | Path,
        network: nn.Module,
        settings: Mapping[str, Any] | None = None,
        settings_path: str | Path | None = None,
        map_location: Any = "cpu",
    ) -> None:
        self.load_path = Path(load_path)
        self.network = network
        self.settings = dict(settings or {})
        self.settings_path = settings_path
        self.map_location = map_location

    def attach(self, engine: Engine) -> None:
        """Load when ``engine`` starts."""
        if not engine.has_event_handler(self, Events.STARTED):
            engine.add_event_handler(Events.STARTED, self)

    def __call__(self, engine: Engine | None = None) -> None:
        """Load the weights (see :func:`load_model_weights` for the errors)."""
        load_model_weights(self.load_path, self.network, self.settings, self.settings_path, self.map_location)
