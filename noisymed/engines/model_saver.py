"""Write the inference network's plain state dict (``model.pt``) atomically: at each new best metric, or at the end."""

from __future__ import annotations

import logging
from pathlib import Path

from ignite.engine import Engine, Events
from torch import nn

from noisymed.utils import as_bool, refuse_overwrite, remove_temporaries, torch_save_atomic

__all__ = ["ModelSaver", "WHEN"]

WHEN = ("best", "final")

logger = logging.getLogger(__name__)


class ModelSaver:
    """Save ``network.state_dict()`` to ``save_dir/filename`` through :func:`noisymed.utils.torch_save_atomic`.

    ``when="best"``: attach it to an evaluator (a MONAI ``Workflow`` with a key metric); the file is written at the
    end of each validation whose key metric became the evaluator's ``state.best_metric`` (MONAI updates it before
    any handler in ``val_handlers`` runs). The best metric and its epoch live in the evaluator's state, which
    :class:`noisymed.engines.TrainingCheckpoint` saves and restores: after a resume, only a better validation replaces
    the file. ``when="final"``: attach it to a trainer; the file is written when training completes.

    Unlike MONAI's ``CheckpointSaver`` it writes nothing when the run fails (no half-trained or untrained file under
    the final name), and a full disk raises ``OSError`` naming the file with the previous file intact.

    Args:
        save_dir: folder of the file.
        network: the network (not its DDP wrapper).
        filename: file name in ``save_dir``.
        when: ``"best"`` or ``"final"``.
        overwrite: ``False`` refuses, when the handler is made, a file an earlier run left (the training configs
            leave it ``True``: :class:`TrainingCheckpoint` checks the whole folder and lets a resumed run go on).

    Raises:
        ValueError: for an unknown ``when``; at attach time, for ``"best"`` on an engine without a key metric.
        FileExistsError: when the file exists and ``overwrite`` is false.
    """

    def __init__(
        self,
        save_dir: str | Path,
        network: nn.Module,
        filename: str = "model.pt",
        when: str = "best",
        overwrite: bool | str = True,
    ):
        if when not in WHEN:
            raise ValueError(f"when must be one of {WHEN}, got {when!r}.")
        self.path = Path(save_dir) / filename
        self.network = network
        self.when = when
        refuse_overwrite(self.path, as_bool(overwrite, "overwrite"))

    def attach(self, engine: Engine) -> None:
        """Write the file at each new best metric (``"best"``) or when ``engine`` completes (``"final"``)."""
        if self.when == "final":
            engine.add_event_handler(Events.COMPLETED, self.save)
            return
        if getattr(engine.state, "key_metric_name", None) is None:
            raise ValueError(f"ModelSaver(when='best') for {self.path} needs an evaluator with a key metric.")
        engine.add_event_handler(Events.EPOCH_COMPLETED, self._save_if_best)

    def _save_if_best(self, engine: Engine) -> None:
        if engine.state.best_metric_epoch == engine.state.epoch:
            self.save(engine)
            state = engine.state
            best = f"{state.key_metric_name}={float(state.best_metric):.4f}"
            logger.info(f"{self.path}: new best {best} at epoch {state.epoch}")

    def save(self, engine: Engine | None = None) -> Path:
        """Write the network's state dict now.

        Returns:
            The file written.

        Raises:
            OSError: ``errno.ENOSPC`` naming the file when the disk is full (the previous file stays).
        """
        remove_temporaries(self.path.parent, self.path.name)
        return torch_save_atomic(self.network.state_dict(), self.path)
