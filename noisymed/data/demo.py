"""A small deterministic demo set of LA-like volumes, written in the real ``mri_norm2.h5`` layout.

Nothing is downloaded: :func:`ensure_la_demo` draws the volumes from a seed the first time it is called
and reuses them afterwards. Each case is a z-scored volume with a bright, irregular ellipsoidal
"atrium" (labeled) with two or three vein-like tubes, darker and brighter unlabeled distractor blobs,
a smooth bias field and noise, so that thresholding alone does not segment it. The folder has
the same shape as the real set (``<CASE>/mri_norm2.h5``, ``train.list``, ``test.list``), so the demo
runs the exact code path a researcher's data does.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from .la_h5 import LA_H5_NAME

__all__ = [
    "make_la_like_case",
    "ensure_h5_demo",
    "ensure_la_demo",
    "export_demo_inputs",
    "DEMO_SHAPE",
    "H5_DEMO_LAYOUTS",
]

DEMO_SHAPE = (80, 80, 48)


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, ...], scale: int) -> np.ndarray:
    from scipy.ndimage import zoom

    coarse = rng.standard_normal([max(2, s // scale) for s in shape])
    return zoom(coarse, [s / c for s, c in zip(shape, coarse.shape, strict=True)], order=1)[
        tuple(slice(0, s) for s in shape)
    ]


def make_la_like_case(seed: int, shape: tuple[int, int, int] = DEMO_SHAPE) -> tuple[np.ndarray, np.ndarray]:
    """One LA-like volume and its binary label.

    Args:
        seed: seed of this case.
        shape: volume shape (x, y, z).

    Returns:
        ``(image float32 z-scored, label uint8 {0, 1})``.
    """
    rng = np.random.default_rng(seed)
    grid = np.stack(np.meshgrid(*[np.arange(s, dtype=np.float32) for s in shape], indexing="ij"), 0)
    size = np.asarray(shape, dtype=np.float32)

    centre = size * rng.uniform(0.4, 0.6, 3)
    radii = size * rng.uniform([0.16, 0.14, 0.18], [0.24, 0.2, 0.26])
    wobble = 0.25 * _smooth_noise(rng, shape, 8)
    r = np.sqrt((((grid - centre[:, None, None, None]) / radii[:, None, None, None]) ** 2).sum(0))
    label = r + wobble < 1.0
    for _ in range(rng.integers(2, 4)):  # pulmonary-vein-like tubes leaving the atrium
        direction = rng.standard_normal(3)
        direction /= np.linalg.norm(direction)
        start = centre + direction * radii * 0.8
        t = np.clip(np.einsum("i,ixyz->xyz", direction, grid - start[:, None, None, None]), 0, size.min() * 0.3)
        nearest = start[:, None, None, None] + direction[:, None, None, None] * t
        label |= (np.sqrt(((grid - nearest) ** 2).sum(0)) < rng.uniform(2.0, 3.5)) & (t > 0)

    image = 0.3 * _smooth_noise(rng, shape, 12)
    image += 1.2 * label
    for _ in range(rng.integers(3, 6)):  # unlabeled structures of similar and lower contrast
        c = size * rng.uniform(0.1, 0.9, 3)
        rr = rng.uniform(3, 8)
        blob = np.sqrt(((grid - c[:, None, None, None]) ** 2).sum(0)) < rr
        image += rng.choice([-0.8, 0.7, 1.1]) * (blob & ~label)
    image *= 1.0 + 0.3 * _smooth_noise(rng, shape, 24)  # bias field
    image += 0.35 * rng.standard_normal(shape)
    image = (image - image.mean()) / image.std()
    return image.astype(np.float32), label.astype(np.uint8)


H5_DEMO_LAYOUTS: tuple[str, ...] = ("la", "brats", "pancreas")
"""The dataset layouts :func:`ensure_h5_demo` writes: the LA set's ``<CASE>/mri_norm2.h5`` with ``train.list`` and
``test.list``; SSL4MIS's BraTS ``data/<CASE>.h5`` with ``train.txt``, ``val.txt`` and ``test.txt`` (the test
cases split in two, the first half, rounded up, for validation); the
pancreas literature's ``<CASE>_norm.h5`` with ``train.list`` and ``test.list``."""


def _demo_files(layout: str, num_train: int, num_test: int) -> tuple[list[str], list[str], dict[str, list[str]]]:
    """Case names, their h5 paths relative to the root, and ``list file -> case names`` of a layout."""
    if layout == "la":
        names = [f"DEMO{i:03d}" for i in range(num_train + num_test)]
        paths = [f"{n}/{LA_H5_NAME}" for n in names]
        lists = {"train.list": names[:num_train], "test.list": names[num_train:]}
    elif layout == "brats":
        names = [f"DEMO{i:03d}" for i in range(num_train + num_test)]
        paths = [f"data/{n}.h5" for n in names]
        half = num_train + (num_test + 1) // 2
        lists = {"train.txt": names[:num_train], "val.txt": names[num_train:half], "test.txt": names[half:]}
    elif layout == "pancreas":
        names = [f"image{i + 1:04d}" for i in range(num_train + num_test)]
        paths = [f"{n}_norm.h5" for n in names]
        lists = {"train.list": names[:num_train], "test.list": names[num_train:]}
    else:
        raise ValueError(f"layout must be one of {list(H5_DEMO_LAYOUTS)}, got {layout!r}.")
    return names, paths, lists


def ensure_h5_demo(
    root: str | Path,
    layout: str = "la",
    num_train: int = 12,
    num_test: int = 4,
    shape: tuple[int, int, int] = DEMO_SHAPE,
    seed: int = 2024,
) -> Path:
    """Create a demo set of :func:`make_la_like_case` volumes under ``root`` in a dataset layout, unless complete.

    The set is written to a temporary folder and moved into place, so concurrent callers (one per process of
    a multi-GPU run) never see half a dataset. The list files are written last, and a set counts as complete
    when its last list and every case file exist.

    Args:
        root: destination folder.
        layout: one of :data:`H5_DEMO_LAYOUTS`.
        num_train: cases in the training list.
        num_test: cases in the test list.
        shape: volume shape.
        seed: base seed; case ``i`` uses ``seed + i``.

    Returns:
        The dataset root.

    Raises:
        ValueError: for an unknown layout or non-positive case counts.
    """
    if num_train < 1 or num_test < 0:
        raise ValueError(f"num_train must be >= 1 and num_test >= 0, got {num_train} and {num_test}.")
    _, paths, lists = _demo_files(layout, num_train, num_test)
    import h5py

    root = Path(root)
    last = list(lists)[-1]
    if (root / last).is_file() and all((root / p).is_file() for p in paths):
        return root
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{layout}_demo_", dir=root.parent))
    for i, rel in enumerate(paths):
        image, label = make_la_like_case(seed + i, shape)
        (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
        with h5py.File(tmp / rel, "w") as f:
            f.create_dataset("image", data=image, compression="gzip")
            f.create_dataset("label", data=label, compression="gzip")
    for name, cases in lists.items():
        (tmp / name).write_text("".join(f"{c}\n" for c in cases))
    try:
        os.rename(tmp, root)
    except OSError:  # another process finished first, or root exists but was incomplete
        if (root / last).is_file():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            shutil.rmtree(root, ignore_errors=True)
            os.rename(tmp, root)
    return root


def ensure_la_demo(
    root: str | Path, num_train: int = 12, num_test: int = 4, shape: tuple[int, int, int] = DEMO_SHAPE, seed: int = 2024
) -> Path:
    """Create the LA demo set under ``root`` unless it is already complete; return ``root``.

    :func:`ensure_h5_demo` in the LA layout (``<CASE>/mri_norm2.h5``, ``train.list``, ``test.list``).

    Args:
        root: destination folder.
        num_train: cases in ``train.list``.
        num_test: cases in ``test.list``.
        shape: volume shape.
        seed: base seed; case ``i`` uses ``seed + i``.

    Returns:
        The dataset root.

    Raises:
        ValueError: for non-positive case counts.
    """
    return ensure_h5_demo(root, "la", num_train=num_train, num_test=num_test, shape=shape, seed=seed)


def export_demo_inputs(root: str | Path, output_dir: str | Path, case: str | None = None) -> tuple[Path, Path]:
    """Write one demo case as a NIfTI file and as a DICOM series, the two inputs inference takes.

    Both carry the same geometry (0.625 mm voxels, a non-zero origin), so a user can check that the
    masks written for them overlay their inputs.

    Args:
        root: a demo set made by :func:`ensure_la_demo`.
        output_dir: where to write ``<CASE>.nii.gz`` and the folder ``<CASE>_dicom/``.
        case: the case to export (default: the first case of ``test.list``).

    Returns:
        ``(nifti_path, dicom_folder)``.

    Raises:
        FileNotFoundError: when the case is not in ``root``.
    """
    import h5py
    import nibabel as nib

    from .dicom_io import write_dicom_series
    from .la_h5 import LA_SPACING, read_case_list

    root, out = Path(root), Path(output_dir)
    case = case or read_case_list(root / "test.list")[0]
    path = root / case / LA_H5_NAME
    if not path.is_file():
        raise FileNotFoundError(f"{path}: demo case not found.")
    with h5py.File(path, "r") as f:
        image = f["image"][()]
    out.mkdir(parents=True, exist_ok=True)
    origin_lps = np.array([-20.0, -30.0, 15.0])
    # RAS affine of the same voxels the DICOM series (LPS, identity direction) describes
    affine = np.diag([-LA_SPACING[0], -LA_SPACING[1], LA_SPACING[2], 1.0])
    affine[:3, 3] = origin_lps * np.array([-1.0, -1.0, 1.0])
    scaled = np.round(image * 1000.0).astype(np.int16)
    nifti = out / f"{case}.nii.gz"
    nib.save(nib.Nifti1Image(scaled, affine), nifti)
    dicom = out / f"{case}_dicom"
    if not dicom.is_dir():
        write_dicom_series(
            scaled, dicom, spacing=LA_SPACING, origin=origin_lps, modality="MR", description="noisymed LA demo"
        )
    return nifti, dicom
