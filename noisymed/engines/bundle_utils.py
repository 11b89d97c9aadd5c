"""Small pieces bundle configs attach to MONAI engines (progress, logged loss terms, sample names)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ignite.engine import Engine, Events
from ignite.handlers import ProgressBar

__all__ = ["ProgressBarHandler", "loss_terms", "sample_names"]

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
