"""Train/validation datalists for single-label classification from whatever the user points at.

``dataset`` may be a MedMNIST ``.npz`` (its ``train`` and ``val`` arrays are used), a folder with one subfolder
per class, or a CSV of ``path,label``. Folders and CSVs take their validation set from ``val_dataset`` when
given, else from a seeded, class-stratified ``val_fraction`` of the training items.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .classification import csv_datalist, folder_classes, folder_datalist
from .medmnist import medmnist_datalist, medmnist_info

__all__ = ["classification_splits"]


def _refuse_repeats(train: list[dict], val: list[dict], source: Path, val_source: Path | None) -> None:
    """Refuse an image file listed twice (through another path or a link too), above all in both splits."""
    seen: dict[str, str] = {}
    for items, split, where in ((train, "training", source), (val, "validation", val_source or source)):
        for item in items:
            real = os.path.realpath(item["image"])
            if real not in seen:
                seen[real] = split
            elif seen[real] != split:
                raise ValueError(
                    f"{item['image']} is in the training set ({source}) and in the validation set ({where}): "
                    "validation would score images the model trained on; list each image in one split only."
                )
            else:
                raise ValueError(f"{item['image']} is listed twice in {where}; list each image once.")


def _refuse_class_gaps(source: Path, split: dict[str, list[dict]], label_counts: dict[str, list[int]]) -> None:
    """Refuse MedMNIST labels that skip class indices (a stray label 7 in a binary set makes 8 classes)."""
    counts = np.sum([np.asarray(c) for c in label_counts.values()], axis=0)
    gaps = np.flatnonzero(counts == 0).tolist()
    if not gaps:
        return
    stray = list(range(gaps[0] + 1, counts.size))
    stray = [c for c in stray if counts[c] > 0]
    rows = [f"{name} row {d['index']}" for name, items in split.items() for d in items if d["label"] in stray][:5]
    raise ValueError(
        f"{source}: class indices {gaps} have no image, so label(s) {stray} (e.g. {', '.join(rows) or 'in the test split'}) "
        f"would train a model of {counts.size} classes, {len(gaps)} of them without an image; fix the stray label(s), "
        "or declare the class names in index order (the bundle's class_names) if those classes really have no image."
    )


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
    classes: Sequence[str] | None = None,
) -> dict:
    """Train and validation datalists, class names and (for MedMNIST) the image geometry of a dataset.

    The class set is checked: integer labels must be ``0..K-1`` without a gap unless ``classes`` declares the
    names, and an image file may be listed once only (never in both splits).

    Args:
        dataset: a MedMNIST ``.npz``, a class-folder root or a ``path,label`` CSV.
        val_dataset: a separate validation source of the same kind (folders/CSVs only).
        val_fraction: held-out fraction of ``dataset`` when it has no validation split and none is given.
        seed: seed of that split.
        max_train: keep a seeded sample of ``max_train`` training items, in file order (quick runs, tests).
        classes: the class names in index order (None: from the data: class folders, CSV label names, or the
            integer labels ``0..K-1``).

    Returns:
        The split. ``classes`` are the class names (MedMNIST: ``"0"``, ``"1"``, ...).

    Raises:
        FileNotFoundError: when ``dataset`` does not exist.
        ValueError: for an unknown kind of source, a bad ``val_fraction``, an empty split, a class set with gaps,
            labels outside ``classes``, an image listed twice (the file named), a training split of one class,
            and the errors of the readers.
    """
    source = Path(dataset).expanduser()
    if not source.exists():
        raise FileNotFoundError(f"{source}: dataset not found.")
    if classes is not None:
        if isinstance(classes, str) or not classes or len(set(map(str, classes))) != len(classes):
            raise ValueError(f"classes must be a list of distinct class names in index order, got {classes!r}.")
        classes = [str(c) for c in classes]
    if source.suffix.lower() == ".npz":
        info = medmnist_info(source)
        if "val" not in info["splits"]:
            raise ValueError(f"{source}: has no 'val' split (splits: {info['splits']}).")
        train, val = medmnist_datalist(source, "train"), medmnist_datalist(source, "val")
        if classes is None:
            _refuse_class_gaps(source, {"train": train, "val": val}, info["label_counts"])
            classes = [str(i) for i in range(info["num_classes"])]
        elif len(classes) < info["num_classes"]:
            raise ValueError(
                f"{source}: labels go up to {info['num_classes'] - 1} but classes names only {len(classes)}: {classes}."
            )
        dims, channels, size = info["spatial_dims"], info["channels"], list(info["shape"][1:])
    else:
        val_source = Path(val_dataset).expanduser() if val_dataset is not None else None
        train, classes = _read(source, classes)
        if val_source is not None:
            val = _read(val_source, classes)[0]
        else:
            if not 0.0 < val_fraction < 1.0:
                raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}.")
            train, val = _stratified_split(train, val_fraction, seed)
        _refuse_repeats(train, val, source, val_source)
        dims = channels = size = None
    if max_train is not None and int(max_train) < len(train):
        # a seeded sample, in file order: a file sorted by class (PneumoniaMNIST's is) must not give one class only
        keep = np.sort(np.random.default_rng(seed).permutation(len(train))[: int(max_train)])
        train = [train[i] for i in keep]
    if not train or not val:
        raise ValueError(f"{source}: empty split (train {len(train)}, val {len(val)}).")
    present = {int(item["label"]) for item in train}
    if len(present) < 2:
        raise ValueError(
            f"{source}: the training split holds one class only ({sorted(present)}, {len(train)} images): "
            "a classifier cannot learn from it; check the labels (or a smaller max_train)."
        )
    return {
        "train": train,
        "val": val,
        "classes": classes,
        "spatial_dims": dims,
        "channels": channels,
        "spatial_size": size,
    }
