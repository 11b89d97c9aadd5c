"""Save the pretrained weights (backbone and the method's state) once, atomically, when pretraining completes."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ignite.engine import Engine, Events
from torch import nn

from noisymed.utils import as_bool, refuse_overwrite, torch_save_atomic

__all__ = ["PretrainedSaver"]


class PretrainedSaver:
    """Write ``{name: module.state_dict()}`` to ``path`` when the engine completes, through a temporary file.

    An existing ``path`` (an earlier run's pretrained weights) stops the run at construction, before anything
    is trained or written, unless ``overwrite`` is set (the project's overwrite policy,
    :func:`noisymed.utils.refuse_overwrite`).

    Args:
        path: the file to write, e.g. ``models/pretrained.pt``.
        save_dict: name -> module, e.g. ``{"model": network, "ssl_objective": objective}``; the file then loads with
            MONAI's ``CheckpointLoader`` under the same names.
        overwrite: replace an existing ``path``.
        save: whether this process writes (False on non-main ranks).

    Raises:
        FileExistsError: when ``path`` exists and ``overwrite`` is false.
        ValueError: for an empty ``save_dict``.
    """

    def __init__(
        self, path: str | Path, save_dict: Mapping[str, nn.Module], overwrite: bool = False, save: bool = True
    ) -> None:
        if not save_dict:
            raise ValueError("save_dict must name at least one module to save.")
        self.path, self.save_dict, self.save = Path(path), dict(save_dict), as_bool(save, "save")
        if self.save:
            refuse_overwrite(self.path, overwrite, "pass another --pretrained_file or --bundle_root")

    def attach(self, engine: Engine) -> None:
        """Save on ``Events.COMPLETED``."""
        engine.add_event_handler(Events.COMPLETED, self)

    def __call__(self, engine: Engine) -> None:
        if self.save:
            state = {name: getattr(m, "module", m).state_dict() for name, m in self.save_dict.items()}
            torch_save_atomic(state, self.path)
