"""Small pieces bundle configs attach to MONAI engines (progress, logged loss terms, resuming)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ignite.engine import Engine, Events
from ignite.handlers import ProgressBar
from monai.handlers import CheckpointLoader, CheckpointSaver
from torch import nn
from torch.optim import Optimizer

from noisymed.utils import as_bool

__all__ = ["ProgressBarHandler", "TrainingCheckpoint", "loss_terms", "latest_checkpoint", "sample_names"]

LOSS_KEYS = ("loss", "loss_sup", "loss_mutual", "weight_mutual")


def loss_terms(output: Any, keys: Sequence[str] = LOSS_KEYS) -> dict[str, float]:
    """The scalar loss terms of a (possibly decollated) trainer output, as floats.

    Args:
        output: ``engine.state.output``: a dict, or the list of per-sample dicts a decollating trainer makes.
        keys: the keys to keep where present.

    Returns:
        ``{key: float}`` for each key found.
    """
    first = output[0] if isinstance(output, (list, tuple)) else output
    return {k: float(first[k]) for k in keys if k in first}


def sample_names(batch: Sequence[Mapping], key: str = "image") -> list[dict[str, str]]:
    """``[{"filename_or_obj": name}, ...]`` for a decollated batch, for MONAI's savers' ``batch_transform``.

    The name is the first of: ``<key>_source`` (the path :class:`noisymed.transforms.LoadClassificationImaged`
    keeps), the item's ``path``, the image's metadata ``filename_or_obj``, the item's ``index`` (MedMNIST), ``case``.

    Raises:
        ValueError: for an item none of these name.
    """
    names = []
    for item in batch:
        meta = getattr(item.get(key), "meta", {}) or {}
        candidates = (item.get(f"{key}_source"), item.get("path"), meta.get("filename_or_obj"), item.get("index"), item.get("case"))
        for name in candidates:
            if name is not None:
                names.append({"filename_or_obj": str(name.item() if hasattr(name, "item") else name)})
                break
        else:
            raise ValueError(f"cannot name a sample with keys {sorted(item)}: add {key}_source, path, index or case.")
    return names


class ProgressBarHandler(ProgressBar):
    """ignite's tqdm progress bar showing the loss terms; attachable from a MONAI handler list.

    Args:
        keys: loss terms shown beside the bar.
        persist: keep the bar of finished epochs on screen.
    """

    def __init__(self, keys: Sequence[str] = LOSS_KEYS, persist: bool = False):
        super().__init__(persist=persist)
        self.keys = tuple(keys)

    def attach(self, engine: Engine, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        kwargs.setdefault("output_transform", lambda out: loss_terms(out, self.keys))
        kwargs.setdefault("event_name", Events.ITERATION_COMPLETED)
        super().attach(engine, *args, **kwargs)


def latest_checkpoint(ckpt_dir: str | Path, pattern: str = "checkpoint_*.pt") -> str:
    """Path of the newest training checkpoint in ``ckpt_dir``.

    Raises:
        FileNotFoundError: when there is none to resume from.
    """
    found = sorted(Path(ckpt_dir).glob(pattern), key=lambda p: p.stat().st_mtime)
    if not found:
        raise FileNotFoundError(f"{ckpt_dir}: no training checkpoint matching {pattern!r} to resume from.")
    return str(found[-1])


class TrainingCheckpoint:
    """Save (and optionally resume) the whole training state: network, optimizer and the trainer itself.

    A handler list cannot name the engine it is attached to without a circular reference, so this
    handler adds the engine to the saved objects when it is attached. Files: ``checkpoint_epoch=N.pt``
    (the newest ``n_saved``) and ``checkpoint_final.pt`` under ``save_dir``; the inference network's plain
    state dict (``model.pt``) is saved by its own ``CheckpointSaver``.

    Args:
        save_dir: checkpoint folder.
        network: the network (not its DDP wrapper).
        optimizer: the optimizer.
        resume: load the newest checkpoint in ``save_dir`` before training starts.
        save: write checkpoints (False on the non-zero ranks of a multi-GPU run).
        save_interval: epochs between checkpoints.
        n_saved: how many periodic checkpoints to keep.
        lr_scheduler: optional learning-rate scheduler, saved and resumed with the rest.

    Raises:
        FileNotFoundError: at attach time, when ``resume`` is set and there is nothing to resume from.
    """

    def __init__(
        self,
        save_dir: str | Path,
        network: nn.Module,
        optimizer: Optimizer,
        resume: bool = False,
        save: bool = True,
        save_interval: int = 1,
        n_saved: int = 1,
        lr_scheduler: Any = None,
    ):
        self.save_dir = str(save_dir)
        self.network = network
        self.optimizer = optimizer
        self.resume = as_bool(resume, "resume")
        self.save = as_bool(save, "save")
        self.save_interval = save_interval
        self.n_saved = n_saved
        self.lr_scheduler = lr_scheduler

    def attach(self, engine: Engine) -> None:
        objects = {"model": self.network, "optimizer": self.optimizer, "trainer": engine}
        if self.lr_scheduler is not None:
            objects["lr_scheduler"] = self.lr_scheduler
        if self.resume:
            CheckpointLoader(load_path=latest_checkpoint(self.save_dir), load_dict=objects).attach(engine)
        if self.save:
            CheckpointSaver(
                save_dir=self.save_dir,
                save_dict=objects,
                file_prefix="checkpoint",
                save_interval=self.save_interval,
                n_saved=self.n_saved,
                save_final=True,
                final_filename="checkpoint_final.pt",
            ).attach(engine)
