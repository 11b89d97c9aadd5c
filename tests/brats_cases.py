"""Generated BraTS-like cases (challenge layout and SSL4MIS h5 layout) with known geometry, for the tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: The affine of every generated case: BraTS's (-1, -1, 1) axis flips at 1 mm, with an origin of its own.
AFFINE = np.array([[-1.0, 0, 0, 30.0], [0, -1.0, 0, 45.0], [0, 0, 1.0, -12.0], [0, 0, 0, 1]])
SHAPE = (40, 44, 36)
#: Per modality: (brain intensity, tumour intensity).
CONTRAST = {"flair": (300.0, 700.0), "t1": (500.0, 300.0), "t1ce": (450.0, 900.0), "t2": (350.0, 800.0)}


def brats_like_volumes(seed: int, shape: tuple[int, int, int] = SHAPE) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """One case: an ellipsoid brain (zero outside, as skull-stripped MRI) with a spherical tumour in it.

    Returns:
        ``({modality: float32 volume}, seg)`` with seg 1 (core), 2 (oedema shell), 4 (enhancing ring), 0 elsewhere.
    """
    rng = np.random.default_rng(seed)
    grid = np.stack(np.meshgrid(*[np.arange(n, dtype=np.float32) for n in shape], indexing="ij"))
    centre = np.array(shape, np.float32)[:, None, None, None] / 2
    brain = (((grid - centre) / (np.array(shape, np.float32)[:, None, None, None] * 0.4)) ** 2).sum(0) <= 1
    t_centre = centre + rng.uniform(-4, 4, (3, 1, 1, 1)).astype(np.float32)
    radius = float(rng.uniform(4, 7))
    dist = np.sqrt(((grid - t_centre) ** 2).sum(0))
    seg = np.zeros(shape, np.uint8)
    seg[dist <= radius + 2] = 2
    seg[dist <= radius] = 4
    seg[dist <= radius - 2] = 1
    seg[~brain] = 0
    images = {}
    for m, (b, t) in CONTRAST.items():
        img = np.where(seg > 0, t, b) + rng.normal(0, 20, shape)
        images[m] = np.where(brain, np.maximum(img, 1.0), 0).astype(np.float32)
    return images, seg


def write_brats_case(root: Path, case: str, seed: int = 0, modalities=tuple(CONTRAST), seg=None, images=None) -> Path:
    """Write ``<root>/<case>/<case>_<m>.nii.gz`` for each modality and ``_seg.nii.gz``; return the case folder.

    ``seg``/``images`` replace the generated arrays (``seg=False`` writes no label).
    """
    import nibabel as nib

    gen_images, gen_seg = brats_like_volumes(seed)
    images = {**gen_images, **(images or {})}
    folder = root / case
    folder.mkdir(parents=True, exist_ok=True)
    for m in modalities:
        nib.save(nib.Nifti1Image(np.asarray(images[m]), AFFINE), folder / f"{case}_{m}.nii.gz")
    if seg is not False:
        nib.save(nib.Nifti1Image(np.asarray(gen_seg if seg is None else seg), AFFINE), folder / f"{case}_seg.nii.gz")
    return folder


def write_brats_h5_case(root: Path, case: str, seed: int = 0) -> Path:
    """Write ``<root>/data/<case>.h5`` as SSL4MIS stores BraTS-2019 (FLAIR z-scored in the brain, whole-tumour label)."""
    import h5py

    images, seg = brats_like_volumes(seed)
    flair = images["flair"]
    brain = flair != 0
    norm = np.zeros_like(flair)
    norm[brain] = (flair[brain] - flair[brain].mean()) / flair[brain].std()
    (root / "data").mkdir(parents=True, exist_ok=True)
    path = root / "data" / f"{case}.h5"
    with h5py.File(path, "w") as f:
        f["image"] = norm
        f["label"] = (seg > 0).astype(np.uint8)
    return path
