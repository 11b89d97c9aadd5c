"""Refuse an input a 3D segmentation model cannot segment meaningfully, before it is resampled.

A single 2D slice (or a DICOM folder with one file) read as a one-slice volume, a 2D or 4D image, non-finite
voxels, or a header whose spacing would make resampling to the model's voxel size allocate hundreds of GB all
run through a 3D pipeline without an error today, or die on memory. :class:`CheckVolume` names the file and the
number that is wrong. Put it after ``EnsureChannelFirst`` and before ``Spacing``.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from monai.config import KeysCollection
from monai.data import MetaTensor
from monai.transforms import MapTransform, Transform

from noisymed.utils import as_int, as_spacing

__all__ = ["CheckVolume", "CheckVolumed", "DEFAULT_MAX_VOXELS"]

DEFAULT_MAX_VOXELS = 2**28
"""Largest resampled grid accepted by default: 268 M voxels, 1 GiB per float32 copy (an LA MRI at 0.625 mm is
about 40 M)."""


def _name(img: Any) -> str:
    meta = getattr(img, "meta", None) or {}
    return str(meta.get("filename_or_obj", "the input image"))


class CheckVolume(Transform):
    """Check a channel-first 3D image ``(C, x, y, z)`` and return it unchanged.

    Refused, each with the file named: a spatial rank other than 3 (a 2D image, or a 4D one whose 4th axis
    became channels: ``channels`` differs), an axis shorter than ``min_size`` voxels (a single slice), NaN or
    infinite voxels (with their count), a non-positive or non-finite voxel size, and a voxel size that would
    resample to more than ``max_voxels`` voxels at ``pixdim`` (estimated from shape and spacing before
    resampling, with the size in GB).

    Args:
        pixdim: the voxel size (mm) the pipeline resamples to; None skips the size estimate.
        channels: number of channels (volumes) the model takes.
        min_size: the smallest extent, in voxels, accepted along each spatial axis.
        max_voxels: the largest resampled grid accepted.

    Raises:
        ValueError: for an invalid argument.
    """

    def __init__(
        self,
        pixdim: Sequence[float] | None = None,
        channels: int = 1,
        min_size: int = 2,
        max_voxels: int = DEFAULT_MAX_VOXELS,
    ) -> None:
        self.pixdim = None if pixdim is None else np.asarray(as_spacing(pixdim, "pixdim"))
        self.channels = as_int(channels, "channels", minimum=1)
        self.min_size = as_int(min_size, "min_size", minimum=1)
        self.max_voxels = as_int(max_voxels, "max_resampled_voxels", minimum=1)

    def __call__(self, img: torch.Tensor) -> torch.Tensor:
        """Check ``img``.

        Args:
            img: a channel-first image, a MetaTensor with its affine (plain tensors skip the spacing checks).

        Returns:
            ``img``.

        Raises:
            ValueError: naming the file and what is wrong (see the class docstring).
        """
        name = _name(img)
        shape = tuple(int(s) for s in img.shape)
        spatial = shape[1:]
        if len(spatial) != 3:
            raise ValueError(
                f"{name}: a {len(spatial)}D image (spatial shape {spatial}); this bundle segments 3D volumes. "
                "Give it the 3D volume (a NIfTI volume or the folder of a DICOM series)."
            )
        if shape[0] != self.channels:
            raise ValueError(
                f"{name}: {shape[0]} volumes of shape {spatial} (a 4D image, shape {(*spatial, shape[0])}); "
                f"the model takes {self.channels}. Extract the volume to segment (e.g. one time point) first."
            )
        short = [i for i, s in enumerate(spatial) if s < self.min_size]
        if short:
            raise ValueError(
                f"{name}: spatial shape {spatial} has {spatial[short[0]]} voxel(s) along axis {short[0]}: a single "
                f"2D slice, not a volume (a lone DICOM file, or a series folder with one file). The 3D model needs "
                f"at least {self.min_size} along every axis: give it the whole series."
            )
        data = img.as_tensor() if isinstance(img, MetaTensor) else torch.as_tensor(img)
        if data.is_floating_point() or data.is_complex():
            bad = int(data.numel() - torch.isfinite(data).sum())
            if bad:
                raise ValueError(f"{name}: {bad} of {data.numel()} voxels are NaN or infinite; replace them first.")
        if isinstance(img, MetaTensor):
            self._check_spacing(name, spatial, img.affine)
        return img

    def _check_spacing(self, name: str, spatial: tuple[int, ...], affine: torch.Tensor) -> None:
        affine = np.asarray(torch.as_tensor(affine, dtype=torch.float64).cpu())
        spacing = np.sqrt((affine[:3, :3] ** 2).sum(axis=0))
        if not np.all(np.isfinite(spacing)) or np.any(spacing <= 0):
            shown = tuple(float(f"{s:.6g}") for s in spacing)
            raise ValueError(f"{name}: the header gives voxel size {shown} mm; it must be positive.")
        if self.pixdim is None:
            return
        out = np.maximum(np.round(np.asarray(spatial) * spacing / self.pixdim), 1).astype(np.int64)
        voxels = int(np.prod(out, dtype=np.float64)) * self.channels
        if voxels > self.max_voxels:
            gb = voxels * 4 / 1e9
            raise ValueError(
                f"{name}: {spatial} voxels of {tuple(float(f'{s:.4g}') for s in spacing)} mm (as the header says) "
                f"resampled to pixdim {tuple(self.pixdim.tolist())} would be a {tuple(out.tolist())} grid, "
                f"{voxels:,} voxels ({gb:.3g} GB per float32 copy), over the limit of {self.max_voxels:,}. "
                "Check the header's voxel size; if it is right, raise --max_resampled_voxels."
            )


class CheckVolumed(MapTransform):
    """Dictionary version of :class:`CheckVolume`.

    Args:
        keys: keys of the images to check.
        pixdim: see :class:`CheckVolume`.
        channels: see :class:`CheckVolume`.
        min_size: see :class:`CheckVolume`.
        max_voxels: see :class:`CheckVolume`.
        allow_missing_keys: don't raise for a missing key.
    """

    def __init__(
        self,
        keys: KeysCollection,
        pixdim: Sequence[float] | None = None,
        channels: int = 1,
        min_size: int = 2,
        max_voxels: int = DEFAULT_MAX_VOXELS,
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.checker = CheckVolume(pixdim=pixdim, channels=channels, min_size=min_size, max_voxels=max_voxels)

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        for key in self.key_iterator(d):
            d[key] = self.checker(d[key])
        return d
