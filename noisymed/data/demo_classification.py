"""A small deterministic two-class demo set in the class-folder layout (``<root>/<class>/*.png``).

Nothing is downloaded. Each image is smooth noise; the ``lesion`` class adds a bright disc at a random place,
the ``normal`` class has none. It is the noisy-label bundle's default when no ``--dataset`` is given, read by
:func:`noisymed.data.classification_splits` through the same code path as real class folders.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from noisymed.utils import write_bytes_atomic, write_text_atomic

__all__ = ["CLASSIFICATION_DEMO_CLASSES", "make_classification_image", "ensure_classification_demo"]

#: The demo's class names, in index order.
CLASSIFICATION_DEMO_CLASSES = ("lesion", "normal")

_MARKER = "DEMO_COMPLETE.txt"


def make_classification_image(lesion: bool, seed: int, size: int = 28) -> np.ndarray:
    """One demo image, uint8 of shape ``(size, size)``.

    Args:
        lesion: draw the bright disc (class ``lesion``) or not (class ``normal``).
        seed: seed of this image.
        size: image side in pixels (>= 8).

    Returns:
        The image.

    Raises:
        ValueError: for ``size`` below 8.
    """
    if size < 8:
        raise ValueError(f"size must be >= 8, got {size}.")
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size] / (size - 1)
    img = 0.35 + 0.1 * np.sin(2 * np.pi * (x * rng.uniform(0.5, 1.5) + y * rng.uniform(0.5, 1.5)))
    img = img + 0.05 * rng.standard_normal(img.shape)
    if lesion:
        cx, cy, r = rng.uniform(0.25, 0.75), rng.uniform(0.25, 0.75), rng.uniform(0.12, 0.2)
        img = img + 0.45 * (((x - cx) ** 2 + (y - cy) ** 2) < r**2)
    return (np.clip(img, 0, 1) * 255).astype(np.uint8)


def ensure_classification_demo(root: str | Path, num_images: int = 64, size: int = 28, seed: int = 0) -> Path:
    """Write (once) the demo set: ``<root>/lesion/*.png`` and ``<root>/normal/*.png``, half each.

    Every image is written atomically, and ``<root>/DEMO_COMPLETE.txt`` last; a folder holding that file is
    reused as it is, so a run killed midway is completed by the next one.

    Args:
        root: output folder.
        num_images: number of images (even, >= 8).
        size: image side in pixels.
        seed: the demo's seed.

    Returns:
        ``root``.

    Raises:
        ValueError: for an odd or too small ``num_images``.
    """
    if num_images < 8 or num_images % 2:
        raise ValueError(f"num_images must be even and >= 8, got {num_images}.")
    from PIL import Image

    root = Path(root)
    if (root / _MARKER).is_file():
        return root
    for i in range(num_images):
        name = CLASSIFICATION_DEMO_CLASSES[i % 2]
        buffer = io.BytesIO()
        Image.fromarray(make_classification_image(name == "lesion", seed * 100003 + i, size)).save(buffer, format="PNG")
        (root / name).mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(root / name / f"{i // 2:04d}.png", buffer.getvalue())
    write_text_atomic(root / _MARKER, f"noisymed classification demo: {num_images} images, {size} px, seed {seed}\n")
    return root
