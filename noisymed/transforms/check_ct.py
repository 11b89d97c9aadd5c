"""Refuse a CT that is not in Hounsfield units, as it is loaded for inference.

A CT model windows intensities in HU (e.g. [-125, 275]); a DICOM series without RescaleSlope/RescaleIntercept is
read by SimpleITK as raw stored values, and a NIfTI may already be normalised. Either gives a wrong mask without an
error. :class:`CheckCT` checks each image where it is loaded (so building the datalist reads no file, which MONAI's
bundle property checks rely on: they resolve the inference dataset on an empty ``dataset_dir``), and names the file.
Put it after ``EnsureChannelFirst`` (and :class:`~noisymed.transforms.CheckVolume`), before any intensity transform.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import Any

import torch
from monai.config import KeysCollection
from monai.transforms import MapTransform, Transform

from noisymed.data.pancreas_ct import check_ct_series, check_hu_range

__all__ = ["CheckCT", "CheckCTd"]


class CheckCT(Transform):
    """Check a loaded CT and return it unchanged.

    When the image was read from a folder (``meta["filename_or_obj"]``), the folder must hold one CT DICOM series
    whose every file carries the HU rescale tags (:func:`~noisymed.data.check_ct_series`); for any image its
    lowest value must be air in HU (:func:`~noisymed.data.check_hu_range`).

    Raises:
        noisymed.data.PancreasDataError: naming the file and what is wrong.
    """

    def __call__(self, img: torch.Tensor) -> torch.Tensor:
        meta = getattr(img, "meta", None) or {}
        source = meta.get("filename_or_obj")
        name = str(source) if source is not None else "the input CT"
        if source is not None and Path(str(source)).is_dir():
            check_ct_series(source)
        check_hu_range(float(torch.as_tensor(img).min()), name)
        return img


class CheckCTd(MapTransform):
    """Dictionary version of :class:`CheckCT`.

    Args:
        keys: keys of the CT images to check.
        allow_missing_keys: don't raise for a missing key.
    """

    def __init__(self, keys: KeysCollection, allow_missing_keys: bool = False) -> None:
        super().__init__(keys, allow_missing_keys)
        self.checker = CheckCT()

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        for key in self.key_iterator(d):
            d[key] = self.checker(d[key])
        return d
