"""A MONAI image reader for one array of an HDF5 file (the UA-MT ``mri_norm2.h5`` layout)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from monai.data import ImageReader
from monai.utils import MetaKeys, SpaceKeys

__all__ = ["H5Reader"]


class H5Reader(ImageReader):
    """Read one dataset (``image`` or ``label``) of an ``.h5`` file as a channel-less volume.

    The semi-supervised LA/Pancreas files store no geometry: the affine is ``diag(spacing)``
    (0.625 mm for the LA challenge volumes). Use one reader per key::

        LoadImaged(keys="image", reader=H5Reader(dataset="image"))
        LoadImaged(keys="label", reader=H5Reader(dataset="label", dtype=np.uint8), allow_missing_keys=True)

    Args:
        dataset: name of the HDF5 dataset to read.
        spacing: voxel size written into the affine.
        dtype: dtype of the returned array (None keeps the stored one).

    Raises:
        ValueError: for an empty dataset name or a non-positive spacing.
    """

    def __init__(self, dataset: str = "image", spacing: Sequence[float] = (0.625, 0.625, 0.625), dtype: Any = None):
        super().__init__()
        if not dataset:
            raise ValueError("dataset must name an HDF5 dataset, e.g. 'image'.")
        if any(s <= 0 for s in spacing):
            raise ValueError(f"spacing must be positive, got {tuple(spacing)}.")
        self.dataset = dataset
        self.spacing = tuple(float(s) for s in spacing)
        self.dtype = dtype

    def verify_suffix(self, filename: Sequence[str] | str) -> bool:
        names = [filename] if isinstance(filename, (str, Path)) else filename
        return all(str(n).endswith((".h5", ".hdf5")) for n in names)

    def read(self, data: Sequence[str] | str, **kwargs) -> list[tuple[str, np.ndarray]]:
        import h5py

        names = [data] if isinstance(data, (str, Path)) else list(data)
        out = []
        for name in names:
            if not Path(name).is_file():
                raise FileNotFoundError(f"{name}: no such HDF5 file.")
            with h5py.File(name, "r") as f:
                if self.dataset not in f:
                    raise KeyError(f"{name}: has no dataset {self.dataset!r} (found {sorted(f.keys())}).")
                out.append((str(name), f[self.dataset][()]))
        return out

    def get_data(self, img: list[tuple[str, np.ndarray]]) -> tuple[np.ndarray, dict]:
        if len(img) != 1:
            raise ValueError("H5Reader reads one file per key.")
        name, arr = img[0]
        if self.dtype is not None:
            arr = arr.astype(self.dtype)
        affine = np.eye(arr.ndim + 1)
        affine[: arr.ndim, : arr.ndim] = np.diag(self.spacing[: arr.ndim])
        meta = {
            MetaKeys.AFFINE: affine,
            MetaKeys.ORIGINAL_AFFINE: affine.copy(),
            MetaKeys.SPATIAL_SHAPE: np.asarray(arr.shape),
            MetaKeys.ORIGINAL_CHANNEL_DIM: "no_channel",
            MetaKeys.SPACE: SpaceKeys.RAS,
            "filename_or_obj": name,
        }
        return arr, meta
