"""Generated abdominal CT that looks like the TCIA Pancreas-CT release, with a pancreas-like target, for the tests.

Each case is a DICOM CT series stored as scanners store it (unsigned values, RescaleIntercept -1024, RescaleSlope 1),
at 0.7 x 0.7 x 1.5 mm in LPS with a standard axial orientation, and a label NIfTI on the same grid.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

SHAPE = (64, 60, 24)  # (x, y, z) voxels
SPACING = (0.7, 0.7, 1.5)  # mm
ORIGIN = (-22.05, -35.7, -140.0)  # LPS position of voxel (0, 0, 0), mm
DIRECTION = np.eye(3)  # axial slices, x to the patient's left, y posterior, z superior (LPS)
INTERCEPT = -1024.0


def ct_like_volume(seed: int = 0, shape: tuple[int, int, int] = SHAPE) -> tuple[np.ndarray, np.ndarray]:
    """An abdomen in HU: air outside an elliptic body, a fat rim, soft tissue, a vertebra, and a curved
    pancreas-like band (contrast enhanced, ~110 HU) across the middle that is the label.

    Returns:
        ``(hu, label)``: int16 HU ``(x, y, z)`` and uint8 {0, 1}.
    """
    rng = np.random.default_rng(seed)
    x, y, z = np.meshgrid(*[np.arange(n, dtype=np.float32) for n in shape], indexing="ij")
    cx, cy = shape[0] / 2, shape[1] / 2
    r = ((x - cx) / (0.46 * shape[0])) ** 2 + ((y - cy) / (0.40 * shape[1])) ** 2
    hu = np.full(shape, -1000.0, np.float32)
    hu[r <= 1.0] = -100.0  # subcutaneous fat
    hu[r <= 0.8] = 40.0  # soft tissue
    hu[((x - cx) ** 2 + (y - 0.78 * shape[1]) ** 2) <= 16] = 600.0  # vertebral body, posterior
    bend = cy + rng.uniform(-3, 3) + 4 * np.sin((x - cx) / shape[0] * np.pi)  # the band bends like the pancreas
    z0 = shape[2] / 2 + rng.uniform(-2, 2)
    label = (np.abs(y - bend) <= 3.0) & (np.abs(x - cx) <= 0.28 * shape[0]) & (np.abs(z - z0) <= 0.3 * shape[2])
    hu[label] = 110.0
    hu += rng.normal(0, 12, shape)
    return np.clip(np.round(hu), -1024, 3071).astype(np.int16), label.astype(np.uint8)  # a scanner's range


def write_ct_series(folder: Path, hu: np.ndarray, rescale: bool = True, patient_id: str = "PANCREAS_0001", **geometry) -> Path:
    """Write ``hu`` as a CT series in ``folder``: stored = HU + 1024 (unsigned) with RescaleIntercept -1024, or
    (``rescale=False``) the stored values with both rescale tags removed."""
    import pydicom

    from noisymed.data import write_dicom_series

    geo = {"spacing": SPACING, "origin": ORIGIN, "direction": DIRECTION, **geometry}
    paths = write_dicom_series(hu, folder, modality="CT", patient_id=patient_id, **geo)
    for path in paths:
        ds = pydicom.dcmread(path)
        stored = ds.pixel_array.astype(np.int32) - int(INTERCEPT)
        ds.PixelRepresentation = 0
        ds.PixelData = stored.astype(np.uint16).tobytes()
        if rescale:
            ds.RescaleIntercept = str(int(INTERCEPT))
            ds.RescaleSlope = "1"
        else:
            del ds.RescaleIntercept
            del ds.RescaleSlope
        ds.save_as(path)
    return folder


def write_label_nifti(path: Path, label: np.ndarray, **geometry) -> Path:
    """Write ``label`` ``(x, y, z)`` as NIfTI on the series' grid (SimpleITK writes LPS geometry into the header)."""
    import SimpleITK as sitk

    geo = {"spacing": SPACING, "origin": ORIGIN, "direction": DIRECTION, **geometry}
    img = sitk.GetImageFromArray(np.ascontiguousarray(label.transpose(2, 1, 0)))
    img.SetSpacing([float(s) for s in geo["spacing"]])
    img.SetOrigin([float(o) for o in geo["origin"]])
    img.SetDirection(np.asarray(geo["direction"], float).ravel().tolist())
    path.parent.mkdir(parents=True, exist_ok=True)
    sitk.WriteImage(img, str(path))
    return path


def write_tcia_case(root: Path, labels: Path, number: int, seed: int | None = None, label=None, **geometry) -> Path:
    """``root/PANCREAS_<n>/<study>/<series>/*.dcm`` and ``labels/label<n>.nii.gz``, as TCIA ships them."""
    hu, gen_label = ct_like_volume(number if seed is None else seed)
    name = f"{number:04d}"
    series = root / f"PANCREAS_{name}" / f"11-24-2015-PANCREAS{name}-Pancreas-1" / "Pancreas-1"
    write_ct_series(series, hu, patient_id=f"PANCREAS_{name}")
    write_label_nifti(labels / f"label{name}.nii.gz", gen_label if label is None else label, **geometry)
    return series


def write_msd_case(root: Path, number: int, tumour: bool = True) -> tuple[Path, np.ndarray]:
    """``root/imagesTr/pancreas_<n>.nii.gz`` (HU) and ``labelsTr/...`` with 1 pancreas, 2 tumour (a part of it)."""
    import SimpleITK as sitk

    hu, label = ct_like_volume(100 + number)
    if tumour:
        xs = np.nonzero(label)[0]
        label[(label > 0) & (np.arange(label.shape[0])[:, None, None] < xs.min() + 4)] = 2
    name = f"pancreas_{number:03d}.nii.gz"
    write_label_nifti(root / "labelsTr" / name, label)
    img = sitk.GetImageFromArray(np.ascontiguousarray(hu.transpose(2, 1, 0)))
    img.SetSpacing(SPACING)
    img.SetOrigin(ORIGIN)
    img.SetDirection(DIRECTION.ravel().tolist())
    (root / "imagesTr").mkdir(parents=True, exist_ok=True)
    sitk.WriteImage(img, str(root / "imagesTr" / name))
    return root / "imagesTr" / name, label


def write_h5_case(root: Path, case: str, seed: int = 0, shape=(40, 36, 28)) -> Path:
    """``root/<case>_norm.h5`` as the literature stores it: z-scored image and {0, 1} label, (x, y, z)."""
    import h5py

    rng = np.random.default_rng(seed)
    label = np.zeros(shape, np.uint8)
    label[12:26, 10:22, 8:20] = 1
    image = rng.normal(0, 1, shape).astype(np.float32) + label
    root.mkdir(parents=True, exist_ok=True)
    path = root / f"{case}_norm.h5"
    with h5py.File(path, "w") as f:
        f["image"] = image
        f["label"] = label.astype(np.float32)
    return path
