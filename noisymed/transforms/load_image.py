"""Load a classification image whatever it is: an in-memory array (MedMNIST), PNG/JPEG, NIfTI, DICOM.

Every file goes through MONAI's ``LoadImage`` with an explicit reader, and images are used in their stored array
order: MedMNIST arrays as they are, PNG/JPEG as (rows, columns) (``PILReader(reverse_indexing=False)``), 2D DICOM
as (rows, columns) (``PydicomReader(swap_ij=False)``, which applies the modality LUT; ``MONOCHROME1`` is then
inverted by :class:`noisymed.transforms.InvertMonochrome1`, as MONAI does not), NIfTI through ``NibabelReader``
and DICOM series folders through :class:`noisymed.data.SimpleITKReader`. So a MedMNIST image written to PNG or
to a DICOM file comes back as the same array the model was trained on.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from monai.config import KeysCollection
from monai.data import MetaTensor, NibabelReader, PILReader, PydicomReader
from monai.transforms import LoadImage, MapTransform, Transform

from noisymed.data.sitk_reader import SimpleITKReader

from .check_image import check_image
from .monochrome import InvertMonochrome1

__all__ = ["LoadClassificationImage", "LoadClassificationImaged", "EnsureChannels", "EnsureChannelsd", "IMAGE_SUFFIXES"]

#: Suffixes read by PIL; everything else is NIfTI (``.nii``/``.nii.gz``), DICOM (``.dcm`` or a folder) or refused.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")
NIFTI_SUFFIXES = (".nii", ".nii.gz")
DICOM_SUFFIXES = (".dcm", ".dicom")


def _suffix(path: Path) -> str:
    name = path.name.lower()
    return ".nii.gz" if name.endswith(".nii.gz") else path.suffix.lower()


class LoadClassificationImage(Transform):
    """Array or path -> channel-first float32 ``MetaTensor`` of ``spatial_dims`` spatial axes.

    Every image is checked with :func:`noisymed.transforms.check_image`: a 3D volume given to a 2D model and an
    image with NaN or infinite values are refused, naming the file (or the array's ``source``).

    Args:
        spatial_dims: 2 or 3; a trailing singleton axis of a 2D image read from a 3D container is dropped.

    Raises:
        FileNotFoundError: for a path that does not exist.
        ValueError: for an unsupported suffix, an image whose dimensions do not fit ``spatial_dims`` (its shape
            named) or an image with NaN or infinite values.
    """

    def __init__(self, spatial_dims: int = 2) -> None:
        if spatial_dims not in (2, 3):
            raise ValueError(f"spatial_dims must be 2 or 3, got {spatial_dims}.")
        self.spatial_dims = spatial_dims
        self._pil = LoadImage(reader=PILReader(reverse_indexing=False), image_only=True, ensure_channel_first=True)
        self._nifti = LoadImage(reader=NibabelReader(), image_only=True, ensure_channel_first=True)
        self._series = LoadImage(reader=SimpleITKReader(), image_only=True, ensure_channel_first=True)
        dicom_reader = PydicomReader(swap_ij=False, prune_metadata=False)  # keeps PhotometricInterpretation
        self._dicom = LoadImage(reader=dicom_reader, image_only=True, ensure_channel_first=True)
        self._invert = InvertMonochrome1()

    def _read(self, path: Path) -> torch.Tensor:
        if not path.exists():
            raise FileNotFoundError(f"{path}: image not found.")
        suffix = _suffix(path)
        if path.is_dir():
            return self._series(str(path))
        if suffix in DICOM_SUFFIXES:
            return self._invert(self._dicom(str(path)))
        if suffix in IMAGE_SUFFIXES:
            return self._pil(str(path))
        if suffix in NIFTI_SUFFIXES:
            return self._nifti(str(path))
        raise ValueError(
            f"{path}: unsupported image type {suffix!r}; use PNG/JPEG {IMAGE_SUFFIXES}, NIfTI {NIFTI_SUFFIXES}, "
            f"DICOM {DICOM_SUFFIXES} or a DICOM series folder."
        )

    def __call__(self, img: Any, source: Any = None) -> torch.Tensor:
        """Load and check ``img`` (a path or an array); ``source`` names an array in error messages."""
        if isinstance(img, (str, Path)):
            source = str(img)
            out = self._read(Path(img))
        else:
            array = torch.as_tensor(np.asarray(img))
            out = MetaTensor(array[None] if array.ndim == self.spatial_dims else array)
        while out.ndim > self.spatial_dims + 1 and out.shape[-1] == 1:
            out = out[..., 0]
        hint = "give 2D images (one slice per file), or train and run a 3D model (spatial_dims 3)"
        if self.spatial_dims == 3:
            hint = "give 3D volumes, or train and run a 2D model (spatial_dims 2)"
        return check_image(out.float(), self.spatial_dims, finite=True, source=source, hint=hint)


class LoadClassificationImaged(MapTransform):
    """Dictionary version of :class:`LoadClassificationImage`.

    A path input is also kept, as a string, under ``<key>_source``, so outputs can be named after their
    file even when later transforms drop the image's metadata.
    """

    def __init__(self, keys: KeysCollection, spatial_dims: int = 2, allow_missing_keys: bool = False) -> None:
        super().__init__(keys, allow_missing_keys)
        self.loader = LoadClassificationImage(spatial_dims)

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        for key in self.key_iterator(d):
            if isinstance(d[key], (str, Path)):
                d[f"{key}_source"] = str(d[key])
            source = None if isinstance(d[key], (str, Path)) else f"{key} of item {d.get('index', '?')}"
            d[key] = self.loader(d[key], source)
        return d


class EnsureChannels(Transform):
    """Make a channel-first image have ``channels`` channels: RGB(A) -> grey by the mean, grey -> repeated.

    Args:
        channels: 1 or 3.

    Raises:
        ValueError: for another channel count, or an input it cannot convert.
    """

    def __init__(self, channels: int = 1) -> None:
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {channels}.")
        self.channels = channels

    def __call__(self, img: torch.Tensor) -> torch.Tensor:
        c = img.shape[0]
        if c == self.channels:
            return img
        if self.channels == 1 and c in (3, 4):
            return img[:3].mean(0, keepdim=True)
        if self.channels == 3 and c == 1:
            return img.repeat(3, *([1] * (img.ndim - 1)))
        raise ValueError(f"cannot turn an image with {c} channels into {self.channels}.")


class EnsureChannelsd(MapTransform):
    """Dictionary version of :class:`EnsureChannels`."""

    def __init__(self, keys: KeysCollection, channels: int = 1, allow_missing_keys: bool = False) -> None:
        super().__init__(keys, allow_missing_keys)
        self.converter = EnsureChannels(channels)

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        for key in self.key_iterator(d):
            d[key] = self.converter(d[key])
        return d
