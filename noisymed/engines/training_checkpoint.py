"""Crash-safe training checkpoints, and resuming from the newest one that loads, on the path the run would have taken.

A checkpoint holds the network, optimizer, learning-rate scheduler, trainer state, the trainer's other modules with
a state (a co-teaching peer, a mixup-attention block, a loss with learned parameters), the mixed-precision gradient
scaler (when the run has one), the evaluator's best metric and its epoch, and the random state
(:mod:`noisymed.engines.random_state`: global generators, the random transforms' generators, the training sampler).
It is written at the end of an epoch *after* every other end-of-epoch handler (validation, ``model.pt``, the
scheduler step), through :func:`noisymed.utils.torch_save_atomic`: a kill at any moment leaves the previous complete
checkpoint, and the older periodic checkpoint is removed only once the new one is complete. A run resumed from it on
CPU ends with bit-identical weights to an uninterrupted run, also when an epoch is shorter than the data loader (the
loader's pass in progress is drawn again).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from ignite.engine import Engine, Events
from torch import nn
from torch.optim import Optimizer

from noisymed.utils import as_bool, refuse_overwrite, remove_temporaries, torch_save_atomic

from .random_state import capture_random_state, restore_random_state

__all__ = ["TrainingCheckpoint", "latest_checkpoint", "load_latest_checkpoint", "REQUIRED_KEYS"]

REQUIRED_KEYS = ("model", "optimizer", "trainer")
"""What every training checkpoint holds (older ones, written by MONAI's ``CheckpointSaver``, hold only these)."""

logger = logging.getLogger(__name__)


def _reason(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0][:200] if text else ''}".rstrip(": ")


def _check_content(ckpt: Any) -> None:
    if not isinstance(ckpt, Mapping):
        raise ValueError(f"holds a {type(ckpt).__name__}, not a dict of states")
    missing = [k for k in REQUIRED_KEYS if k not in ckpt]
    if missing:
        raise ValueError(f"not a training checkpoint: lacks {missing} (has {sorted(ckpt)[:8]})")
    trainer = ckpt["trainer"]
    if not isinstance(trainer, Mapping) or not isinstance(trainer.get("iteration"), int):
        raise ValueError("its trainer state has no iteration count")


def load_latest_checkpoint(
    ckpt_dir: str | Path, pattern: str = "checkpoint_*.pt", map_location: Any = "cpu"
) -> tuple[Path, dict[str, Any]]:
    """The newest training checkpoint in ``ckpt_dir`` that loads, by the iteration recorded inside.

    Every file matching ``pattern`` is loaded (``torch.load(weights_only=True)``: no pickled code runs) and checked
    to be a training checkpoint; one that does not load (0-byte, truncated, not a checkpoint) is skipped with a
    warning naming it and why. Temporary files of interrupted writes (``.*.tmp*``) never match. Ties (the last
    periodic checkpoint and ``checkpoint_final.pt``) go to the later name.

    Args:
        ckpt_dir: the checkpoint folder.
        pattern: glob of checkpoint names.
        map_location: where tensors are loaded.

    Returns:
        The path and the loaded checkpoint.

    Raises:
        FileNotFoundError: when no file matches (nothing to resume from).
        RuntimeError: when files match but none loads; the message names each file and its reason.
    """
    files = sorted(p for p in Path(ckpt_dir).glob(pattern) if p.is_file())
    if not files:
        raise FileNotFoundError(
            f"{ckpt_dir}: no training checkpoint matching {pattern!r} to resume from; start a new training "
            "without --resume true."
        )
    best: tuple[int, Path, dict[str, Any]] | None = None
    failed: list[str] = []
    for path in files:
        try:
            ckpt = torch.load(path, map_location=map_location, weights_only=True)
            _check_content(ckpt)
        except Exception as err:  # any reason a file does not load makes it unusable, and is reported
            failed.append(f"{path} ({_reason(err)})")
            continue
        iteration = int(ckpt["trainer"]["iteration"])
        if best is None or iteration >= best[0]:
            best = (iteration, path, ckpt)
    if best is None:
        raise RuntimeError(
            f"{ckpt_dir}: none of the {len(files)} training checkpoints loads, nothing to resume from: "
            + "; ".join(failed)
            + ". Start a new training with --resume false --overwrite true."
        )
    for item in failed:
        logger.warning(f"resume: skipped {item}")
    logger.info(f"resume: {best[1]} (iteration {best[0]}) is the newest checkpoint that loads")
    return best[1], best[2]


def latest_checkpoint(ckpt_dir: str | Path, pattern: str = "checkpoint_*.pt") -> str:
    """Path of the newest training checkpoint in ``ckpt_dir`` that loads (see :func:`load_latest_checkpoint`).

    Raises:
        FileNotFoundError: when there is none to resume from.
        RuntimeError: when none of them loads.
    """
    return str(load_latest_checkpoint(ckpt_dir, pattern)[0])


def _multi_process() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


class _DataPass:
    """The training data loader as ignite iterates it, knowing where its current pass started.

    ignite keeps one iterator across epochs when an epoch is shorter than the loader (``epoch_length``); a checkpoint
    then falls inside a pass. This wrapper records the random state before each pass's iterator is made and the
    batches drawn from it, and on resume remakes that iterator from the recorded state and draws the same batches
    again (loading them, nothing trained) before the epoch's end state is set back.
    """

    def __init__(self, loader: Any, replay: tuple[Mapping[str, Any], int, Mapping[str, Any]] | None = None):
        self.loader = loader
        self.replay = replay
        self.start: dict[str, Any] | None = None
        self.drawn = 0

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self) -> Any:
        if self.replay is not None:
            start, drawn, end = self.replay
            self.replay = None
            restore_random_state(start, self.loader)
            iterator = self._counting(iter(self.loader), dict(start))
            for _ in range(drawn):
                next(iterator)
            restore_random_state(end, self.loader)
            return iterator
        start = capture_random_state(self.loader)  # before the iterator draws its base seed
        return self._counting(iter(self.loader), start)

    def _counting(self, iterator: Any, start: dict[str, Any]) -> Any:
        self.start, self.drawn = start, 0
        for batch in iterator:
            self.drawn += 1
            yield batch

    def in_progress(self) -> dict[str, Any] | None:
        """``{"random_state", "batches"}`` of a pass that has batches left, else None."""
        if self.replay is not None:  # resumed, not iterated yet: still the checkpoint's pass
            return {"random_state": self.replay[0], "batches": self.replay[1]}
        try:
            left = self.drawn < len(self.loader)
        except TypeError:  # no length: a pass counts as in progress
            left = True
        if self.start is None or not self.drawn or not left:
            return None
        return {"random_state": self.start, "batches": self.drawn}


class TrainingCheckpoint:
    """Save, and optionally resume, the whole training state; crash-safe, and bit-identical on resume (CPU).

    Files under ``save_dir``: ``checkpoint_epoch=N.pt`` every ``save_interval`` epochs (the newest ``n_saved`` kept)
    and ``checkpoint_final.pt`` when training completes (never when it fails). Each holds ``model``, ``optimizer``,
    ``lr_scheduler`` (when given), ``trainer`` (``engine.state_dict()``), ``engine_modules`` (the state dict of
    each ``nn.Module`` attribute of the trainer other than its ``network`` that has parameters or buffers: a
    co-teaching peer, a mixup-attention block, ROLE's learned labels in its loss), ``scaler`` (only when the trainer
    has an enabled ``GradScaler``: ``amp`` on CUDA; see :meth:`grad_scaler`), ``evaluator`` (``best_metric``,
    ``best_metric_epoch``, ``key_metric_name``), ``random_state`` (see :func:`capture_random_state`) and
    ``data_pass`` (when an epoch is shorter than the data loader, the random state where the loader's current pass
    began and the batches drawn from it, which a resume draws again; else None). It is written when the epoch ends,
    after every other ``EPOCH_COMPLETED`` handler (this handler registers its writer when the run starts), so
    validation, the ``model.pt`` of a new best and the scheduler step are all in it.

    Resume (``resume=True``): the newest checkpoint that loads (:func:`load_latest_checkpoint`) is chosen when the
    handler is attached, so a run with nothing to resume from stops before training; it is applied when the run
    starts (the random state must be the one the checkpoint saw). A fresh run (``resume=False``) into a folder that
    holds checkpoints or ``model_filename`` stops with the two ways on, unless ``overwrite`` is set: then the earlier
    run's checkpoints and model file are removed when training starts.

    In a multi-process (DDP) run only rank 0 writes, so a checkpoint holds rank 0's random and sampler states; no
    rank restores them (weights, optimizer, epoch and best metric are restored; the path is not bit-identical).
    What else is not bit-identical: see :mod:`noisymed.engines.random_state`.

    Args:
        save_dir: checkpoint folder.
        network: the network (not its DDP wrapper).
        optimizer: the optimizer.
        resume: load the newest loadable checkpoint in ``save_dir`` before training starts.
        save: write checkpoints (False on the non-zero ranks of a multi-GPU run).
        save_interval: epochs between checkpoints.
        n_saved: how many periodic checkpoints to keep.
        lr_scheduler: optional learning-rate scheduler, saved and resumed with the rest.
        evaluator: the validation engine (a MONAI ``Workflow``) whose best metric is saved and restored.
        overwrite: let a fresh run replace an earlier run's checkpoints and model file.
        model_filename: the inference model's file in ``save_dir``, covered by the overwrite policy.

    Raises:
        FileExistsError: when a fresh run would replace an earlier run's files (``overwrite`` false).
        FileNotFoundError: at attach time, when ``resume`` is set and there is nothing to resume from.
        RuntimeError: at attach time, when ``resume`` is set and no checkpoint loads (each file named, with why).
        ValueError: for a non-positive ``save_interval`` or ``n_saved``; when the run starts, for a checkpoint
            that does not fit this training (network, optimizer, epoch length, more epochs than ``max_epochs``).
    """

    PREFIX = "checkpoint"

    def __init__(
        self,
        save_dir: str | Path,
        network: nn.Module,
        optimizer: Optimizer,
        resume: bool | str = False,
        save: bool | str = True,
        save_interval: int = 1,
        n_saved: int = 1,
        lr_scheduler: Any = None,
        evaluator: Engine | None = None,
        overwrite: bool | str = False,
        model_filename: str = "model.pt",
    ):
        self.save_dir = Path(save_dir)
        self.network = network
        self.optimizer = optimizer
        self.resume = as_bool(resume, "resume")
        self.save = as_bool(save, "save")
        self.overwrite = as_bool(overwrite, "overwrite")
        if int(save_interval) < 1 or int(n_saved) < 1:
            raise ValueError(f"save_interval and n_saved must be >= 1, got {save_interval} and {n_saved}.")
        self.save_interval = int(save_interval)
        self.n_saved = int(n_saved)
        self.lr_scheduler = lr_scheduler
        self.evaluator = evaluator
        self.model_filename = model_filename
        self._loaded: tuple[Path, dict[str, Any]] | None = None
        self._pass: _DataPass | None = None
        self._writer_registered = False
        if not self.resume:
            refuse_overwrite(self.earlier_files(), self.overwrite, hint="pass --resume true to continue that training")

    def earlier_files(self) -> list[Path]:
        """The checkpoints and model file an earlier run left in ``save_dir``."""
        if not self.save_dir.is_dir():
            return []
        found = sorted(self.save_dir.glob(f"{self.PREFIX}_*.pt")) + [self.save_dir / self.model_filename]
        return [p for p in found if p.is_file()]

    def attach(self, engine: Engine) -> None:
        """Choose the checkpoint to resume from (``resume``) and hook loading and saving to ``engine``'s run."""
        if self.resume:
            self._loaded = load_latest_checkpoint(self.save_dir, f"{self.PREFIX}_*.pt")
        engine.add_event_handler(Events.STARTED, self._started)

    def _started(self, engine: Engine) -> None:
        if self.save:
            removed = remove_temporaries(self.save_dir, f"{self.PREFIX}_*.pt")
            if removed:
                logger.info(f"removed temporary files of interrupted writes: {', '.join(p.name for p in removed)}")
            if not self.resume and self.overwrite:
                for path in self.earlier_files():
                    path.unlink()
                    logger.warning(f"overwrite: removed {path} of an earlier run")
        replay = None
        if self._loaded is not None:
            path, ckpt = self._loaded
            self._loaded = None  # the states are copied into the objects; drop the loaded tensors
            replay = self._restore(engine, path, ckpt)
        loader = engine.state.dataloader
        if loader is not None:
            self._pass = _DataPass(loader.loader if isinstance(loader, _DataPass) else loader, replay)
            engine.state.dataloader = self._pass
        if self.save and not self._writer_registered:  # registered now: after every handler attached before the run
            engine.add_event_handler(Events.EPOCH_COMPLETED, self._epoch_completed)
            engine.add_event_handler(Events.COMPLETED, self._completed)
            self._writer_registered = True

    def _engine_modules(self, engine: Engine) -> dict[str, nn.Module]:
        """The trainer's modules with a state of their own, other than the network (see the class docstring)."""
        out = {}
        for name, obj in sorted(vars(engine).items()):
            if name == "network" or not isinstance(obj, nn.Module) or obj is self.network:
                continue
            if len(obj.state_dict()) > 0:
                out[name] = obj
        return out

    @staticmethod
    def grad_scaler(engine: Engine) -> Any:
        """The trainer's mixed-precision ``GradScaler`` when it has a state to keep, else None.

        MONAI's ``Trainer.run`` makes ``engine.scaler`` when ``amp`` is set; without CUDA that scaler is disabled
        (it scales nothing and its state is empty), which counts as none.
        """
        scaler = getattr(engine, "scaler", None)
        if scaler is None or not getattr(engine, "amp", False):
            return None
        enabled = getattr(scaler, "is_enabled", None)
        return scaler if callable(enabled) and enabled() else None

    def _restore(self, engine: Engine, path: Path, ckpt: Mapping[str, Any]) -> tuple | None:
        """Load ``ckpt`` into the training; return what the data pass must replay (see :class:`_DataPass`)."""
        data_loader = getattr(engine, "data_loader", None)
        trainer = dict(ckpt["trainer"])
        if engine.state.epoch_length is not None and trainer.get("epoch_length") != engine.state.epoch_length:
            raise ValueError(
                f"{path}: written with {trainer.get('epoch_length')} iterations per epoch, this run has "
                f"{engine.state.epoch_length}: resume with the data and batch settings of that training."
            )
        has_scheduler = "lr_scheduler" in ckpt
        if (self.lr_scheduler is not None) != has_scheduler:
            raise ValueError(
                f"{path}: {'holds' if has_scheduler else 'lacks'} a learning-rate scheduler state, "
                f"this run {'has none' if has_scheduler else 'has one'}."
            )
        modules = self._engine_modules(engine)
        saved_modules = ckpt.get("engine_modules")
        if saved_modules is None:
            if modules:
                logger.warning(
                    f"{path} holds no state of the trainer's {sorted(modules)} (older checkpoint): restarted"
                )
            saved_modules = {}
        elif set(saved_modules) != set(modules):
            raise ValueError(
                f"{path} holds the trainer modules {sorted(saved_modules)}, this training has {sorted(modules)}: "
                "resume with the method of that training."
            )
        scaler, scaler_state = self.grad_scaler(engine), ckpt.get("scaler")
        if scaler is not None and not scaler_state:
            logger.info(f"{path} holds no gradient-scaler state (written without mixed precision): its scale restarts")
        elif scaler is None and scaler_state:
            logger.info(f"{path} holds a gradient-scaler state; this run scales no gradients (no CUDA amp): not used")
        try:
            self.network.load_state_dict(ckpt["model"])
            self.optimizer.load_state_dict(ckpt["optimizer"])
            if self.lr_scheduler is not None:
                self.lr_scheduler.load_state_dict(ckpt["lr_scheduler"])
            for name, state in saved_modules.items():
                modules[name].load_state_dict(state)
            if scaler is not None and scaler_state:
                scaler.load_state_dict(scaler_state)
        except (RuntimeError, ValueError, KeyError) as err:
            raise ValueError(f"{path} does not fit this training's network/optimizer: {_reason(err)}") from err
        max_epochs = engine.state.max_epochs
        trainer.pop("max_epochs", None)
        trainer.pop("max_iters", None)
        trainer["max_epochs"] = max_epochs
        epoch = trainer["iteration"] // trainer["epoch_length"] if trainer.get("epoch_length") else 0
        if max_epochs is not None and epoch > max_epochs:
            raise ValueError(
                f"{path} is at epoch {epoch}, beyond this run's max_epochs={max_epochs}: raise it to go on"
            )
        engine.load_state_dict(trainer)
        evaluator_state = ckpt.get("evaluator")
        if self.evaluator is not None and evaluator_state:
            self.evaluator.state.best_metric = evaluator_state["best_metric"]
            self.evaluator.state.best_metric_epoch = evaluator_state["best_metric_epoch"]
        elif self.evaluator is not None:
            logger.warning(f"{path} holds no best metric: the next validation replaces {self.model_filename}")
        random_state = ckpt.get("random_state")
        replay = None
        if random_state is None:
            logger.warning(f"{path} holds no random state (an older checkpoint): the resumed run takes another path")
        elif _multi_process():
            logger.warning("multi-process run: random and sampler states are rank 0's and are not restored")
        else:
            for problem in restore_random_state(random_state, data_loader):
                logger.warning(f"resume from {path}: {problem}; the resumed run takes another path")
            data_pass = ckpt.get("data_pass")
            if data_pass:
                replay = (data_pass["random_state"], int(data_pass["batches"]), random_state)
                logger.info(f"resume: the data loader's pass was {data_pass['batches']} batches in; drawing them again")
        logger.info(f"resumed from {path} at epoch {engine.state.epoch}, iteration {engine.state.iteration}")
        return replay

    def state(self, engine: Engine) -> dict[str, Any]:
        """Everything a checkpoint holds, taken now (see the class docstring)."""
        ckpt: dict[str, Any] = {
            "model": self.network.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "trainer": dict(engine.state_dict()),
            "engine_modules": {name: module.state_dict() for name, module in self._engine_modules(engine).items()},
            "random_state": capture_random_state(getattr(engine, "data_loader", None)),
            "data_pass": self._pass.in_progress() if self._pass is not None else None,
        }
        if self.lr_scheduler is not None:
            ckpt["lr_scheduler"] = self.lr_scheduler.state_dict()
        scaler = self.grad_scaler(engine)
        if scaler is not None:
            ckpt["scaler"] = scaler.state_dict()
        if self.evaluator is not None:
            state = self.evaluator.state
            best = state.best_metric
            ckpt["evaluator"] = {
                "best_metric": float(best.item() if hasattr(best, "item") else best),
                "best_metric_epoch": int(state.best_metric_epoch),
                "key_metric_name": getattr(state, "key_metric_name", None),
            }
        return ckpt

    def _epoch_completed(self, engine: Engine) -> None:
        epoch = engine.state.epoch
        if epoch % self.save_interval:
            return
        torch_save_atomic(self.state(engine), self.save_dir / f"{self.PREFIX}_epoch={epoch}.pt")
        self._prune(epoch)  # only once the new file is complete

    def _prune(self, epoch: int) -> None:
        """Keep the ``n_saved`` newest periodic checkpoints up to ``epoch`` (a later one, left by a killed attempt
        and replaced when training gets there, is not touched)."""
        kept = []
        for path in self.save_dir.glob(f"{self.PREFIX}_epoch=*.pt"):
            found = re.fullmatch(rf"{self.PREFIX}_epoch=(\d+)\.pt", path.name)
            if found and int(found.group(1)) <= epoch:
                kept.append((int(found.group(1)), path))
        for _, path in sorted(kept)[: max(0, len(kept) - self.n_saved)]:
            path.unlink(missing_ok=True)

    def _completed(self, engine: Engine) -> None:
        torch_save_atomic(self.state(engine), self.save_dir / f"{self.PREFIX}_final.pt")
        self._prune(engine.state.epoch)  # a resumed run that had nothing left to train prunes here
