"""A PNG of a CT slice with its label outlined, to check by eye that a label lies on its image."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ["write_overlay_png"]


def write_overlay_png(
    image: np.ndarray, label: np.ndarray, path: str | Path, window: Sequence[float] = (-125.0, 275.0), title: str = ""
) -> Path:
    """Write the axial slice through the label's centre: the image in a grey window, the label's outline in red.

    Arrays are ``(x, y, z)`` as :class:`~noisymed.data.SimpleITKReader` returns them; the slice is shown with
    x across and y down, which for a DICOM series in the usual axial orientation (LPS, identity direction) is the
    radiological view: the patient's right on the left, anterior at the top.

    Args:
        image: 3D image (e.g. CT in HU).
        label: 3D label of the same shape; the slice holding most label voxels is shown.
        path: the PNG to write (atomically).
        window: ``(low, high)`` grey-level range.
        title: a title, e.g. the case and files.

    Returns:
        ``path``.

    Raises:
        ValueError: for arrays that are not 3D or differ in shape, or an empty label.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..utils import write_bytes_atomic

    image, label = np.asarray(image), np.asarray(label)
    if image.ndim != 3 or image.shape != label.shape:
        raise ValueError(f"image and label must be 3D of one shape, got {image.shape} and {label.shape}.")
    counts = (label > 0).sum(axis=(0, 1))
    if not counts.any():
        raise ValueError(f"{path}: the label is empty, nothing to outline.")
    z = int(np.argmax(counts))
    fig, ax = plt.subplots(figsize=(5, 5), dpi=100)
    ax.imshow(image[:, :, z].T, cmap="gray", vmin=window[0], vmax=window[1], interpolation="nearest")
    ax.contour((label[:, :, z] > 0).T.astype(float), levels=[0.5], colors="red", linewidths=1.0)
    ax.set_title(f"{title} (slice z={z})".strip(), fontsize=8)
    ax.axis("off")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    plt.close(fig)
    return write_bytes_atomic(path, buffer.getvalue())
