"""MedMNIST ``.npz`` files as MONAI datalists, for single-label classification.

A MedMNIST file holds ``<split>_images`` and ``<split>_labels`` for some of ``train``/``val``/``test``:
images are ``uint8`` ``(N, H, W)`` (2D grayscale), ``(N, H, W, 3)`` (2D RGB) or ``(N, H, W, D)`` (3D), labels
``(N, 1)`` integers (multi-label sets such as ChestMNIST have ``(N, K)`` 0/1 labels and are refused here).
The file is read with ``numpy.load`` (no ``medmnist`` package, no download). Datalist images are
channel-first arrays, ``(C, H, W)`` or ``(C, H, W, D)``, ready for MONAI array transforms.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

__all__ = ["MEDMNIST_SPLITS", "medmnist_info", "medmnist_datalist"]

MEDMNIST_SPLITS = ("train", "val", "test")


def _npz_headers(path: Path) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """``{key: (shape, dtype)}`` of the arrays in an ``.npz``, read from the headers only."""
    out = {}
    try:
        with zipfile.ZipFile(path) as z:
            for name in z.namelist():
                if not name.endswith(".npy"):
                    continue
                with z.open(name) as f:
                    version = np.lib.format.read_magic(f)
                    if version == (1, 0):
                        shape, _, dtype = np.lib.format.read_array_header_1_0(f)
                    else:
                        shape, _, dtype = np.lib.format.read_array_header_2_0(f)
                out[name[: -len(".npy")]] = (tuple(shape), dtype)
    except (zipfile.BadZipFile, ValueError, OSError) as e:
        raise ValueError(f"{path}: not a readable .npz file ({e}).") from e
    return out


def _image_layout(path: Path, key: str, shape: tuple[int, ...], spatial_dims: int | None) -> tuple[int, int]:
    """``(spatial_dims, channels)`` of an image array of shape ``(N, ...)``."""
    if len(shape) == 3:
        layout = (2, 1)
    elif len(shape) == 4:
        channels_last = shape[-1] in (1, 3) and shape[-1] < min(shape[1:3])
        if spatial_dims == 2 or (spatial_dims is None and channels_last):
            layout = (2, shape[-1])
        else:
            layout = (3, 1)
    else:
        raise ValueError(f"{path}: {key!r} has shape {shape}; expected (N, H, W), (N, H, W, 3) or (N, H, W, D).")
    if spatial_dims is not None and layout[0] != spatial_dims:
        raise ValueError(f"{path}: {key!r} of shape {shape} cannot hold {spatial_dims}D images.")
    return layout


def _check_path(path: str | Path) -> Path:
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"{path}: MedMNIST .npz file not found.")
    return path


def _present_splits(path: Path, headers: dict) -> list[str]:
    splits = []
    for split in MEDMNIST_SPLITS:
        has_images, has_labels = f"{split}_images" in headers, f"{split}_labels" in headers
        if has_images != has_labels:
            missing = f"{split}_labels" if has_images else f"{split}_images"
            raise ValueError(f"{path}: has {split} arrays but no {missing!r}.")
        if has_images:
            splits.append(split)
    if not splits:
        raise ValueError(
            f"{path}: holds no MedMNIST split (arrays {sorted(headers)}); expected <split>_images and <split>_labels "
            f"for some of {MEDMNIST_SPLITS}."
        )
    return splits


def _check_split(path: Path, headers: dict, split: str) -> None:
    images, labels = headers[f"{split}_images"][0], headers[f"{split}_labels"][0]
    if len(labels) == 2 and labels[1] > 1:
        raise ValueError(
            f"{path}: '{split}_labels' has shape {labels}, a multi-label set ({labels[1]} labels per image); this "
            "reader is for single-label classification tasks, labels of shape (N, 1)."
        )
    if len(labels) not in (1, 2):
        raise ValueError(f"{path}: '{split}_labels' has shape {labels}; expected (N, 1).")
    if images[0] != labels[0]:
        raise ValueError(f"{path}: {images[0]} {split} images but {labels[0]} {split} labels.")


def _read_labels(path: Path, data, split: str) -> np.ndarray:
    labels = np.asarray(data[f"{split}_labels"]).reshape(-1)
    if labels.dtype.kind not in "iu":
        if labels.dtype.kind != "f" or not np.all(labels == np.round(labels)):
            raise ValueError(f"{path}: '{split}_labels' must hold integer class indices, got dtype {labels.dtype}.")
    labels = labels.astype(np.int64)
    if labels.size and labels.min() < 0:
        raise ValueError(f"{path}: '{split}_labels' holds a negative label {labels.min()}.")
    return labels


def medmnist_info(path: str | Path, spatial_dims: int | None = None) -> dict:
    """What a MedMNIST file holds, without reading its images.

    Args:
        path: the ``.npz`` file.
        spatial_dims: 2 or 3 to settle an ambiguous 4D image array (None: ``(N, H, W, 1|3)`` with a last axis
            smaller than ``H`` and ``W`` is 2D channels-last, any other 4D array is 3D).

    Returns:
        ``{"splits": present splits in train/val/test order, "num_classes": max label + 1 over the splits,
        "spatial_dims": 2 or 3, "channels": C, "shape": channel-first image shape (C, H, W[, D]),
        "sizes": {split: N}, "label_counts": {split: [count of each class]}}``.

    Raises:
        FileNotFoundError: the file is missing.
        ValueError: not an ``.npz``, no split, a split without labels or images, multi-label labels,
            images and labels of different lengths, splits of different image shapes, non-integer labels.
    """
    path = _check_path(path)
    headers = _npz_headers(path)
    splits = _present_splits(path, headers)
    layouts, shapes, sizes, labels = set(), set(), {}, {}
    with np.load(path) as data:
        for split in splits:
            _check_split(path, headers, split)
            shape = headers[f"{split}_images"][0]
            dims, channels = _image_layout(path, f"{split}_images", shape, spatial_dims)
            layouts.add((dims, channels))
            shapes.add((channels, *shape[1:3]) if dims == 2 else (1, *shape[1:]))
            sizes[split] = int(shape[0])
            labels[split] = _read_labels(path, data, split)
    if len(shapes) > 1:
        raise ValueError(f"{path}: the splits hold images of different shapes {sorted(shapes)}.")
    num_classes = max(int(y.max()) + 1 if y.size else 0 for y in labels.values())
    (dims, channels), shape = layouts.pop(), shapes.pop()
    return {
        "splits": splits,
        "num_classes": num_classes,
        "spatial_dims": dims,
        "channels": channels,
        "shape": tuple(int(s) for s in shape),
        "sizes": sizes,
        "label_counts": {s: np.bincount(y, minlength=num_classes).tolist() for s, y in labels.items()},
    }


def medmnist_datalist(path: str | Path, split: str = "train", spatial_dims: int | None = None) -> list[dict]:
    """One split of a MedMNIST file as a datalist of in-memory images.

    Args:
        path: the ``.npz`` file.
        split: ``"train"``, ``"val"`` or ``"test"``.
        spatial_dims: see :func:`medmnist_info`.

    Returns:
        ``[{"image": uint8 array (C, H, W) or (C, H, W, D), "label": int, "index": i}, ...]`` in file order; the
        images are views of one channel-first array of the split.

    Raises:
        FileNotFoundError: the file is missing.
        ValueError: an unknown or absent split (the message lists the present ones), and the errors of
            :func:`medmnist_info` for that split.
    """
    if split not in MEDMNIST_SPLITS:
        raise ValueError(f"split must be one of {MEDMNIST_SPLITS}, got {split!r}.")
    path = _check_path(path)
    headers = _npz_headers(path)
    splits = _present_splits(path, headers)
    if split not in splits:
        raise ValueError(f"{path}: has no {split!r} split; present splits: {splits}.")
    _check_split(path, headers, split)
    key = f"{split}_images"
    dims, _ = _image_layout(path, key, headers[key][0], spatial_dims)
    with np.load(path) as data:
        labels = _read_labels(path, data, split)
        images = np.asarray(data[key])
    if images.ndim == 3:
        images = images[:, None]
    elif dims == 2:
        images = np.ascontiguousarray(images.transpose(0, 3, 1, 2))
    else:
        images = images[:, None]
    return [{"image": images[i], "label": int(labels[i]), "index": i} for i in range(len(labels))]
