"""A small deterministic chest X-ray-like demo set in the local NIH subset's layout (PNGs + ``labels.csv``).

Nothing is downloaded. Each image is a smooth "thorax" with two dark lungs; findings add a visible
pattern: Cardiomegaly a wide bright heart, Effusion a bright band at a lung base, Mass a bright round
spot, Pneumothorax a dark rim at a lung apex. Half the images are "No Finding"; each patient has two
images. The folder reads with :func:`noisymed.data.nih_subset_datalist`, the same code path as real data.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from noisymed.utils import write_text_atomic

from .nih_cxr14 import NIH_CLASSES

__all__ = ["CXR_DEMO_FINDINGS", "make_cxr_like_image", "ensure_cxr_demo"]

CXR_DEMO_FINDINGS = ("Cardiomegaly", "Effusion", "Mass", "Pneumothorax")


def make_cxr_like_image(
    findings: tuple[str, ...], seed: int, size: int = 64, contrast: float = 1.0, noise: float = 0.03
) -> np.ndarray:
    """One uint8 ``(size, size)`` image with the patterns of ``findings`` (a subset of :data:`CXR_DEMO_FINDINGS`).

    Args:
        findings: the findings to draw.
        seed: the image's seed (pattern positions, noise).
        size: image side in pixels.
        contrast: factor on the findings' intensities (1: plainly visible; lower is harder to learn).
        noise: standard deviation of the added Gaussian noise (intensities are in [0, 1]).

    Raises:
        ValueError: for a finding without a demo pattern, a size below 32, or a negative contrast or noise.
    """
    bad = [f for f in findings if f not in CXR_DEMO_FINDINGS]
    if bad:
        raise ValueError(f"no demo pattern for {bad}; available: {CXR_DEMO_FINDINGS}.")
    if size < 32:
        raise ValueError(f"size must be >= 32, got {size}.")
    if contrast < 0 or noise < 0:
        raise ValueError(f"contrast and noise must be >= 0, got {contrast}, {noise}.")
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size
    img = 0.55 + 0.1 * rng.standard_normal() * (y - 0.5)
    for cx in (0.3, 0.7):  # lungs
        img -= 0.3 * (((x - cx) / 0.17) ** 2 + ((y - 0.5) / 0.32) ** 2 < 1)
    img += 0.25 * (((x - 0.52) / 0.1) ** 2 + ((y - 0.62) / 0.14) ** 2 < 1)  # heart
    if "Cardiomegaly" in findings:  # the heart widened from 0.1 to 0.2 of the width
        wide = (((x - 0.52) / 0.2) ** 2 + ((y - 0.62) / 0.14) ** 2 < 1) & ~(
            ((x - 0.52) / 0.1) ** 2 + ((y - 0.62) / 0.14) ** 2 < 1
        )
        img += contrast * 0.25 * wide
    if "Effusion" in findings:
        side = rng.choice([0.3, 0.7])
        img += contrast * 0.3 * ((np.abs(x - side) < 0.16) & (y > 0.68) & (y < 0.82))
    if "Mass" in findings:
        cx, cy = rng.uniform(0.22, 0.78), rng.uniform(0.3, 0.6)
        img += contrast * 0.45 * (((x - cx) ** 2 + (y - cy) ** 2) < 0.07**2)
    if "Pneumothorax" in findings:
        side = rng.choice([0.3, 0.7])
        img -= contrast * 0.25 * ((np.abs(x - side) < 0.15) & (y > 0.16) & (y < 0.3))
    img += noise * rng.standard_normal(img.shape)
    return (np.clip(img, 0, 1) * 255).astype(np.uint8)


def ensure_cxr_demo(
    root: str | Path, num_images: int = 48, size: int = 64, seed: int = 0, contrast: float = 1.0, noise: float = 0.03
) -> Path:
    """Write (once) the demo set: ``<root>/images/*.png`` and ``<root>/labels.csv`` in the NIH subset's format.

    Args:
        root: output folder; reused when its ``labels.csv`` exists.
        num_images: number of images (even; half "No Finding").
        size: image side in pixels.
        seed: the demo's seed.
        contrast: factor on the findings' intensities (see :func:`make_cxr_like_image`).
        noise: image noise level (see :func:`make_cxr_like_image`).

    Returns:
        ``root``.

    Raises:
        ValueError: for an odd or too small ``num_images``.
    """
    if num_images < 8 or num_images % 2:
        raise ValueError(f"num_images must be even and >= 8, got {num_images}.")
    from PIL import Image

    root = Path(root)
    if (root / "labels.csv").is_file():
        return root
    (root / "images").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(num_images):
        if i % 2:
            k = int(rng.integers(1, 4))
            findings = tuple(sorted(rng.choice(CXR_DEMO_FINDINGS, size=k, replace=False).tolist()))
        else:
            findings = ()
        name = f"{i // 2:08d}_{i % 2:03d}"
        Image.fromarray(make_cxr_like_image(findings, seed * 100003 + i, size, contrast, noise)).save(
            root / "images" / f"{name}.png"
        )
        rows.append(
            {
                "path": f"images/{name}.png",
                "split": "train",
                "image_index": name,
                "patient_id": f"{i // 2:08d}",
                "abnormal": int(bool(findings)),
                "finding_labels": "|".join(f for f in NIH_CLASSES if f in findings) or "No Finding",
                **{c: int(c in findings) for c in NIH_CLASSES},
            }
        )
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(root / "labels.csv", text.getvalue())  # several ranks may make the demo at once
    return root
