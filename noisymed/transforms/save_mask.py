"""Write each prediction to the file planned for it, atomically and under the overwrite policy.

MONAI's ``SaveImaged`` derives the output name from the input's base name (two inputs named ``case.nii.gz`` in
different folders write one mask) and writes straight to the final name (a kill leaves half a file). Here the
output path is planned before the run (see :func:`noisymed.data.segmentation_datalist`, which also refuses
collisions and earlier results), carried in the data dictionary, and written through MONAI's ``SaveImage`` to a
temporary name that is renamed into place (:func:`noisymed.utils.atomic_path`).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from monai.config import DtypeLike, KeysCollection
from monai.transforms import MapTransform, SaveImage

from noisymed.utils import as_bool, atomic_path, refuse_overwrite

__all__ = ["SaveMaskd"]


class SaveMaskd(MapTransform):
    """Save ``data[key]`` (channel first, with its metadata) to the path in ``data[path_key]``.

    The file format follows the path's extension (``.nii.gz`` by default through MONAI's ``NibabelWriter``);
    the array is written as given (no resampling: invert the preprocessing first with ``Invertd``).

    Args:
        keys: key of the prediction to save (one key).
        path_key: key of the output path in the data dictionary.
        output_dtype: data type of the written array.
        overwrite: replace a file that already exists (else refuse, naming it).
        writer: MONAI writer name or class for ``SaveImage``.
        allow_missing_keys: don't raise for a missing key.

    Raises:
        ValueError: for more than one key.
    """

    def __init__(
        self,
        keys: KeysCollection,
        path_key: str = "output",
        output_dtype: DtypeLike = np.uint8,
        overwrite: bool | str = False,
        writer: Any = "NibabelWriter",
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        if len(self.keys) != 1:
            raise ValueError(f"SaveMaskd saves one key, got {list(self.keys)}.")
        self.path_key = path_key
        self.output_dtype = output_dtype
        self.overwrite = as_bool(overwrite, "overwrite")
        self.writer = writer

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        """Write the prediction and return the data unchanged.

        Raises:
            KeyError: when the data dictionary has no output path.
            FileExistsError: when the output exists and ``overwrite`` is not set.
        """
        d = dict(data)
        for key in self.key_iterator(d):
            if self.path_key not in d:
                raise KeyError(
                    f"no output path under {self.path_key!r} (keys: {sorted(map(str, d))}); "
                    "plan the outputs with noisymed.data.segmentation_datalist."
                )
            path = Path(str(d[self.path_key]))
            refuse_overwrite(path, self.overwrite, hint="pass another --output_dir")
            ext = "".join(path.suffixes[-2:]) if path.name.endswith(".gz") else path.suffix
            saver = SaveImage(
                output_ext=ext, output_dtype=self.output_dtype, resample=False, writer=self.writer,
                separate_folder=False, print_log=False,
            )  # fmt: skip
            with atomic_path(path) as tmp:
                saver(d[key], filename=str(tmp)[: -len(ext)])
        return d
