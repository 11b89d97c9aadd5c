"""Train/validation datalists for single-label classification from whatever the user points at.

``dataset`` may be a MedMNIST ``.npz`` (its ``train`` and ``val`` arrays are used), a folder with one subfolder
per class, or a CSV of ``path,label``. Folders and CSVs take their validation set from ``val_dataset`` when
given, else from a seeded, class-stratified ``val_fraction`` of the training items.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .classification import csv_datalist, folder_classes, folder_datalist
from .medmnist import medmnist_datalist, medmnist_info

__all__ = ["classification_splits"]


def _read(source: Path, classes: list[str] | None = None) -> tuple[list[dict], list[str]]:
    """Items and class names of a folder or CSV; with ``classes`` (the training set's), labels index into them."""
    if source.is_dir():
        return folder_datalist(source, classes=classes), classes or folder_classes(source)
    if source.suffix.lower() == ".csv":
        items = csv_datalist(source, classes=classes)
        if classes is not None:
            return items, classes
        names = {int(d["label"]): str(d.get("class_name", d["label"])) for d in items}
        return items, [names.get(i, str(i)) for i in range(max(names) + 1)]
    raise ValueError(f"{source}: expected a MedMNIST .npz, a folder of class folders or a .csv of path,label.")


def _stratified_split(items: list[dict], fraction: float, seed: int) -> tuple[list[dict], list[dict]]:
    rng = np.random.default_rng(seed)
    labels = np.array([int(d["label"]) for d in items])
    val_idx: list[int] = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        n_val = int(round(fraction * idx.size))
        val_idx.extend(rng.permutation(idx)[:n_val].tolist())
    chosen = set(val_idx)
    return [d for i, d in enumerate(items) if i not in chosen], [items[i] for i in sorted(val_idx)]


def classification_splits(
    dataset: str | Path,
    val_dataset: str | Path | None = None,
    val_fraction: float = 0.1,
    seed: int = 0,
    max_train: int | None = None,
) -> dict:
    """Train and validation datalists, class names and (for MedMNIST) the image geometry of a dataset.

    Args:
        dataset: a MedMNIST ``.npz``, a class-folder root or a ``path,label`` CSV.
        val_dataset: a separate validation source of the same kind (folders/CSVs only).
        val_fraction: held-out fraction of ``dataset`` when it has no validation split and none is given.
        seed: seed of that split.
        max_train: keep only the first ``max_train`` training items (quick runs, tests).

    Returns:
        The split. ``classes`` are the class names (MedMNIST: ``"0"``, ``"1"``, ...).

    Raises:
        FileNotFoundError: when ``dataset`` does not exist.
        ValueError: for an unknown kind of source, a bad ``val_fraction`` or an empty split.
    """
    source = Path(dataset).expanduser()
    if not source.exists():
        raise FileNotFoundError(f"{source}: dataset not found.")
    if source.suffix.lower() == ".npz":
        info = medmnist_info(source)
        if "val" not in info["splits"]:
            raise ValueError(f"{source}: has no 'val' split (splits: {info['splits']}).")
        train, val = medmnist_datalist(source, "train"), medmnist_datalist(source, "val")
        classes, dims = [str(i) for i in range(info["num_classes"])], info["spatial_dims"]
        channels, size = info["channels"], list(info["shape"][1:])
    else:
        train, classes = _read(source)
        if val_dataset is not None:
            val = _read(Path(val_dataset).expanduser(), classes)[0]
        else:
            if not 0.0 < val_fraction < 1.0:
                raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}.")
            train, val = _stratified_split(train, val_fraction, seed)
        dims = channels = size = None
    if max_train is not None:
        train = train[: int(max_train)]
    if not train or not val:
        raise ValueError(f"{source}: empty split (train {len(train)}, val {len(val)}).")
    return {"train": train, "val": val, "classes": classes, "spatial_dims": dims, "channels": channels, "spatial_size": size}
