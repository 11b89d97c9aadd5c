"""An evaluator handler that saves a slice overlay PNG (image, label, prediction) of the first cases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from ignite.engine import Engine, Events

from noisymed.utils import as_bool, as_int, refuse_overwrite
from noisymed.utils.figures import plot_overlay

__all__ = ["SliceOverlaySaver", "mask_of", "busiest_slice"]


def mask_of(value: Any) -> np.ndarray:
    """A label/prediction as one integer mask without the channel axis: the argmax of a one-hot or probability
    tensor with several channels, the channel itself when there is one."""
    array = value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)
    return array.argmax(0) if array.shape[0] > 1 else (array[0] > 0.5 if array.dtype.kind == "f" else array[0])


def busiest_slice(mask: np.ndarray | None, depth: int) -> int:
    """The index along the last axis with the most foreground voxels of ``mask`` (the middle one when empty/None)."""
    if mask is None or not np.any(mask):
        return depth // 2
    return int(np.argmax((np.asarray(mask) != 0).reshape(-1, mask.shape[-1]).sum(0)))


class SliceOverlaySaver:
    """Save ``<output_dir>/overlay_<case>.png`` for the first ``num_cases`` cases an evaluator sees.

    For a 3D case (``image`` of shape ``(C, H, W, D)``) the slice along the last axis with the most label voxels
    is drawn (the most predicted voxels when there is no label); a 2D case is drawn whole. Panels: the image
    (channel 0), the image with the label, the image with the prediction. Labels and predictions may be one-hot
    or probabilities (their argmax is drawn) or one-channel masks. Needs matplotlib (the ``plot`` extra).

    Args:
        output_dir: the folder of the PNGs.
        num_cases: how many cases get a figure.
        name_key: the key naming a case, in the output item or its batch item (else the ``image`` metadata's file
            name, with the case's position added when two cases share it; else the position).
        image_key: key of the image.
        label_key: key of the label (a case without one gets no label panel).
        pred_key: key of the prediction.
        overwrite: replace figures an earlier run wrote (False: the run stops at the first one, naming it).

    Raises:
        ValueError: for ``num_cases`` below 1.
    """

    def __init__(
        self,
        output_dir: str | Path,
        num_cases: int = 1,
        name_key: str = "case",
        image_key: str = "image",
        label_key: str = "label",
        pred_key: str = "pred",
        overwrite: bool | str = False,
    ) -> None:
        self.output_dir = Path(output_dir)
        self.num_cases = as_int(num_cases, "num_cases", minimum=1)
        self.keys = (name_key, image_key, label_key, pred_key)
        self.overwrite = as_bool(overwrite, "overwrite")
        self.saved: list[Path] = []

    def attach(self, engine: Engine) -> None:
        """Save figures as iterations complete."""
        engine.add_event_handler(Events.STARTED, lambda _: self.saved.clear())
        engine.add_event_handler(Events.ITERATION_COMPLETED, self)

    def _name(self, item: dict, source: Any, index: int) -> str:
        """The case's name: ``name_key`` of the output item or of its batch item, else the image file's name."""
        name_key, image_key = self.keys[:2]
        name = item.get(name_key)
        if name is None and isinstance(source, dict):
            name = source.get(name_key)
        if name is None:
            meta = getattr(item.get(image_key), "meta", {}) or {}
            name = Path(str(meta.get("filename_or_obj", ""))).name.split(".")[0] or None
        text = "".join(
            c if c.isalnum() or c in "-_." else "_" for c in str(name if name is not None else f"case{index}")
        )
        taken = {p.name for p in self.saved}
        return text if f"overlay_{text}.png" not in taken else f"{text}_{index}"  # e.g. every LA case is mri_norm2.h5

    def __call__(self, engine: Engine) -> None:
        output, batch = engine.state.output, getattr(engine.state, "batch", None)
        items = output if isinstance(output, (list, tuple)) else [output]
        sources = batch if isinstance(batch, (list, tuple)) and len(batch) == len(items) else [None] * len(items)
        _, image_key, label_key, pred_key = self.keys
        for item, source in zip(items, sources, strict=True):
            if len(self.saved) >= self.num_cases:
                return
            if not isinstance(item, dict) or image_key not in item or pred_key not in item:
                raise ValueError(f"SliceOverlaySaver needs decollated outputs with {image_key!r} and {pred_key!r}.")
            image = item[image_key]
            image = (image.detach().cpu().numpy() if isinstance(image, torch.Tensor) else np.asarray(image))[0]
            pred = mask_of(item[pred_key])
            label = mask_of(item[label_key]) if item.get(label_key) is not None else None
            if image.ndim == 3:
                index = busiest_slice(label if label is not None else pred, image.shape[-1])
                image, pred = image[..., index], pred[..., index]
                label = label[..., index] if label is not None else None
                where = f" slice {index}"
            else:
                where = ""
            name = self._name(item, source, len(self.saved))
            path = self.output_dir / f"overlay_{name}.png"
            refuse_overwrite([path], self.overwrite, hint="pass another output folder")
            self.saved.append(
                plot_overlay(image, path, label=label, pred=pred, title=f"{name}{where}", overwrite=self.overwrite)
            )
