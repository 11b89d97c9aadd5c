"""Tests of SimpleITKReader and write_dicom_series; every file is generated in tmp_path."""

from __future__ import annotations

import warnings
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import SimpleITK as sitk
import torch
from monai.data import MetaTensor, NibabelReader, NibabelWriter
from monai.transforms import EnsureChannelFirstd, LoadImage, LoadImaged, SaveImage

from noisymed.data.dicom_io import write_dicom_series
from noisymed.data.sitk_reader import FailedRead, SimpleITKReader, list_dicom_series

SHAPE = (7, 6, 5)  # (x, y, z), all different so that a transposition cannot pass unnoticed
SPACING = (0.7, 0.8, 2.5)
ORIGIN = (10.0, -20.0, 30.0)
SHUFFLED = [3, 5, 1, 4, 2]  # InstanceNumber of slices 0..4: numbering does not follow position


def _rotation(z_deg: float, y_deg: float, x_deg: float) -> np.ndarray:
    """A proper rotation matrix R = Rz @ Ry @ Rx (degrees)."""
    a, b, c = np.deg2rad([z_deg, y_deg, x_deg])
    rz = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    ry = np.array([[np.cos(b), 0, np.sin(b)], [0, 1, 0], [-np.sin(b), 0, np.cos(b)]])
    rx = np.array([[1, 0, 0], [0, np.cos(c), -np.sin(c)], [0, np.sin(c), np.cos(c)]])
    return rz @ ry @ rx


DIRECTION = _rotation(30, 20, -15)  # oblique LPS direction of the DICOM series


def _lps_affine(direction: np.ndarray, spacing, origin) -> np.ndarray:
    affine = np.eye(4)
    affine[:3, :3] = direction @ np.diag(spacing)
    affine[:3, 3] = origin
    return affine


def _ras(affine: np.ndarray) -> np.ndarray:
    return np.diag([-1.0, -1.0, 1.0, 1.0]) @ affine


def _volume(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(-1000, 2000, size=SHAPE).astype(np.int16)


@pytest.fixture
def series(tmp_path: Path) -> tuple[Path, np.ndarray, str]:
    """A DICOM series with an oblique geometry whose InstanceNumbers do not follow slice position."""
    arr = _volume()
    folder = tmp_path / "series"
    write_dicom_series(
        arr,
        folder,
        spacing=SPACING,
        origin=ORIGIN,
        direction=DIRECTION,
        series_uid="2.25.111",
        instance_numbers=SHUFFLED,
    )
    return folder, arr, "2.25.111"


# ------------------------------------------------------------------ NIfTI


def test_nifti_matches_nibabel_reader(tmp_path: Path) -> None:
    """Same array and affine as MONAI's NibabelReader for a rotated, flipped, anisotropic, shifted NIfTI."""
    rot_flip = _rotation(25, -10, 40) @ np.diag([-1.0, 1.0, 1.0])  # rotation with an axis flip (det < 0)
    affine = np.eye(4)
    affine[:3, :3] = rot_flip @ np.diag([0.6, 1.3, 2.5])
    affine[:3, 3] = [12.0, -34.0, 56.0]
    arr = np.random.default_rng(1).normal(size=SHAPE).astype(np.float32)
    img = nib.Nifti1Image(arr, None)
    img.set_qform(affine, code=1)
    img.set_sform(affine, code=1)
    path = tmp_path / "image.nii.gz"
    nib.save(img, path)

    ref = LoadImage(reader=NibabelReader(), image_only=True)(path)
    out = LoadImage(reader=SimpleITKReader(), image_only=True)(path)
    assert isinstance(out, MetaTensor)
    assert out.shape == ref.shape == SHAPE
    np.testing.assert_array_equal(out.numpy(), ref.numpy())
    np.testing.assert_allclose(out.affine.numpy(), ref.affine.numpy(), atol=1e-5)
    np.testing.assert_allclose(out.affine.numpy(), affine, atol=1e-5)
    assert out.meta["space"] == "RAS"
    assert out.meta["original_channel_dim"] == "no_channel"
    np.testing.assert_array_equal(out.meta["spatial_shape"], SHAPE)
    np.testing.assert_allclose(out.meta["original_affine"], affine, atol=1e-5)
    assert out.meta["filename_or_obj"] == str(path)
    assert "Modality" not in out.meta  # DICOM tags are only recorded for DICOM inputs


def test_lps_affine_option(tmp_path: Path) -> None:
    image = sitk.GetImageFromArray(np.zeros(SHAPE[::-1], dtype=np.float32))
    image.SetSpacing(SPACING)
    image.SetOrigin(ORIGIN)
    image.SetDirection(DIRECTION.ravel().tolist())
    path = tmp_path / "image.mha"
    sitk.WriteImage(image, str(path))
    lps = LoadImage(reader=SimpleITKReader(affine_lps_to_ras=False), image_only=True)(path)
    ras = LoadImage(reader=SimpleITKReader, image_only=True)(path)  # the class, instantiated by LoadImage
    expected = _lps_affine(DIRECTION, SPACING, ORIGIN)
    np.testing.assert_allclose(lps.affine.numpy(), expected, atol=1e-6)
    np.testing.assert_allclose(ras.affine.numpy(), _ras(expected), atol=1e-6)
    assert lps.meta["space"] == "LPS" and ras.meta["space"] == "RAS"
    np.testing.assert_allclose(ras.meta["spacing"], SPACING)


def test_rgb_components_become_the_channel(tmp_path: Path) -> None:
    rgb = np.random.default_rng(2).integers(0, 255, size=(4, 3, 3)).astype(np.uint8)  # (y, x, component)
    path = tmp_path / "rgb.png"
    sitk.WriteImage(sitk.GetImageFromArray(rgb, isVector=True), str(path))
    arr, meta = SimpleITKReader().get_data(SimpleITKReader().read(path))
    assert arr.shape == (3, 4, 3) and meta["original_channel_dim"] == -1
    out = LoadImage(reader=SimpleITKReader(), image_only=True, ensure_channel_first=True)(path)
    assert out.shape == (3, 3, 4)
    np.testing.assert_array_equal(out.numpy(), rgb.transpose(2, 1, 0))


# ------------------------------------------------------------------ DICOM series


def test_written_series_tags(series: tuple[Path, np.ndarray, str]) -> None:
    import pydicom

    folder, _, uid = series
    files = sorted(folder.glob("*.dcm"))
    assert len(files) == SHAPE[2]
    by_number = {}
    for f in files:
        ds = pydicom.dcmread(f)
        assert ds.SeriesInstanceUID == uid and ds.Modality == "MR"
        assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.4"
        np.testing.assert_allclose([float(v) for v in ds.PixelSpacing], SPACING[1::-1])  # (row, column) spacing
        assert float(ds.SliceThickness) == pytest.approx(SPACING[2])
        np.testing.assert_allclose([float(v) for v in ds.ImageOrientationPatient], [*DIRECTION[:, 0], *DIRECTION[:, 1]])
        by_number[int(ds.InstanceNumber)] = (np.asarray(ds.ImagePositionPatient, dtype=float), ds.pixel_array)
    assert len({pydicom.dcmread(f).SOPInstanceUID for f in files}) == len(files)
    arr = _volume()
    for k, number in enumerate(SHUFFLED):
        position, pixels = by_number[number]
        np.testing.assert_allclose(position, np.asarray(ORIGIN) + DIRECTION @ (np.asarray(SPACING) * [0, 0, k]))
        np.testing.assert_array_equal(pixels, arr[:, :, k].T)  # DICOM pixel data are (rows = y, columns = x)


def test_series_with_shuffled_instance_numbers(series: tuple[Path, np.ndarray, str]) -> None:
    folder, arr, uid = series
    out = LoadImage(reader=SimpleITKReader(affine_lps_to_ras=False), image_only=True)(folder)
    np.testing.assert_array_equal(out.numpy(), arr)
    np.testing.assert_allclose(out.affine.numpy(), _lps_affine(DIRECTION, SPACING, ORIGIN), atol=1e-5)
    np.testing.assert_allclose(out.meta["spacing"], SPACING, atol=1e-5)

    ras = LoadImage(reader=SimpleITKReader(), image_only=True)(folder)
    np.testing.assert_allclose(ras.affine.numpy(), _ras(_lps_affine(DIRECTION, SPACING, ORIGIN)), atol=1e-5)
    assert ras.meta["Modality"] == "MR"
    assert ras.meta["SeriesInstanceUID"] == uid
    assert ras.meta["PatientID"] == "NOISYMED"
    assert ras.meta["filename_or_obj"] == str(folder)


def test_pydicom_reader_orders_by_instance_number(series: tuple[Path, np.ndarray, str]) -> None:
    """The trap SimpleITKReader avoids: MONAI's PydicomReader follows InstanceNumber, not slice position."""
    from monai.data import PydicomReader

    folder, arr, _ = series
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nvImageCodec availability notice
        out = LoadImage(reader=PydicomReader(), image_only=True)(folder)
    got = out.numpy()
    assert got.shape == arr.shape
    assert not np.array_equal(got, arr)
    # its slice k is the slice written with InstanceNumber k + 1
    for k in range(arr.shape[2]):
        np.testing.assert_array_equal(got[:, :, k], arr[:, :, SHUFFLED.index(k + 1)])
    # and the through-plane spacing it derives is wrong
    z_spacing = np.linalg.norm(out.affine.numpy()[:3, 2])
    assert abs(z_spacing - SPACING[2]) > 0.1


def test_missing_slice_warns(series: tuple[Path, np.ndarray, str]) -> None:
    folder, _, _ = series
    files = list_dicom_series(folder)["2.25.111"]
    Path(files[2]).unlink()
    with pytest.warns(UserWarning, match="non-uniform slice spacing"):
        SimpleITKReader().read(folder)


def test_uniform_series_does_not_warn(series: tuple[Path, np.ndarray, str]) -> None:
    folder, _, _ = series
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SimpleITKReader().read(folder)


def test_two_series_in_one_folder(tmp_path: Path) -> None:
    folder = tmp_path / "two"
    first, second = _volume(3), _volume(4)
    write_dicom_series(first, folder / "a", spacing=SPACING, origin=ORIGIN, series_uid="2.25.1001")
    write_dicom_series(second[:, :, :3], folder / "b", spacing=(1, 1, 3), origin=(0, 0, 0), series_uid="2.25.2002")
    for sub in ("a", "b"):  # both series side by side in one folder
        for f in (folder / sub).iterdir():
            f.rename(folder / f"{sub}_{f.name}")

    with pytest.raises(ValueError, match="2 DICOM series") as err:
        SimpleITKReader(defer_errors=False).read(folder)
    msg = str(err.value)
    assert "2.25.1001 (5 files)" in msg and "2.25.2002 (3 files)" in msg and str(folder) in msg

    picked = LoadImage(reader=SimpleITKReader(series_uid="2.25.2002"), image_only=True)(folder)
    np.testing.assert_array_equal(picked.numpy(), second[:, :, :3])
    np.testing.assert_allclose(picked.meta["spacing"], (1, 1, 3))
    assert picked.meta["SeriesInstanceUID"] == "2.25.2002"

    picked = LoadImage(reader=SimpleITKReader, image_only=True, series_uid="2.25.1001")(folder)
    np.testing.assert_array_equal(picked.numpy(), first)

    arr, _ = SimpleITKReader().get_data(SimpleITKReader().read(folder, series_uid="2.25.2002"))
    np.testing.assert_array_equal(arr, second[:, :, :3])

    with pytest.raises(ValueError, match="no DICOM series '2.25.999'") as err:
        SimpleITKReader(series_uid="2.25.999", defer_errors=False).read(folder)
    assert "2.25.1001" in str(err.value) and "2.25.2002" in str(err.value)

    # through LoadImaged the errors reach the caller unchanged (deferred to get_data, see defer_errors)
    with pytest.raises(ValueError, match="2 DICOM series"):
        LoadImaged(keys="image", reader=SimpleITKReader())({"image": folder})
    with pytest.raises(ValueError, match="no DICOM series '2.25.999'"):
        LoadImaged(keys="image", reader=SimpleITKReader(series_uid="2.25.999"))({"image": folder})


def test_loadimage_falls_back_to_pydicom_without_deferred_errors(tmp_path: Path) -> None:
    """Why defer_errors exists: LoadImage swallows read() errors and PydicomReader stacks both series."""
    folder = tmp_path / "two"
    write_dicom_series(_volume(5), folder / "a", series_uid="2.25.1001")
    write_dicom_series(_volume(6), folder / "b", series_uid="2.25.2002")
    for sub in ("a", "b"):
        for f in (folder / sub).iterdir():
            f.rename(folder / f"{sub}_{f.name}")
        (folder / sub).rmdir()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nvImageCodec availability notice
        out = LoadImage(reader=SimpleITKReader(defer_errors=False), image_only=True)(folder)
    assert out.shape == (SHAPE[0], SHAPE[1], 2 * SHAPE[2])  # silently both series in one volume
    with pytest.raises(ValueError, match="2 DICOM series"):
        LoadImage(reader=SimpleITKReader(), image_only=True)(folder)


def test_single_dicom_file(series: tuple[Path, np.ndarray, str]) -> None:
    folder, arr, uid = series
    path = folder / "IM0001.dcm"  # InstanceNumber 1 is slice 2
    out = LoadImage(reader=SimpleITKReader(affine_lps_to_ras=False), image_only=True)(path)
    assert out.shape == (SHAPE[0], SHAPE[1], 1)
    np.testing.assert_array_equal(out.numpy()[:, :, 0], arr[:, :, 2])
    expected_origin = np.asarray(ORIGIN) + DIRECTION @ (np.asarray(SPACING) * [0, 0, 2])
    np.testing.assert_allclose(out.affine.numpy()[:3, 3], expected_origin, atol=1e-5)
    np.testing.assert_allclose(out.affine.numpy()[:3, :2], (DIRECTION @ np.diag(SPACING))[:, :2], atol=1e-5)
    assert out.meta["SeriesInstanceUID"] == uid


# ------------------------------------------------------------------ errors


def test_missing_path_and_empty_folder(tmp_path: Path) -> None:
    missing = tmp_path / "nope.nii.gz"
    with pytest.raises(FileNotFoundError, match="nope.nii.gz: no such file or folder"):
        SimpleITKReader(defer_errors=False).read(missing)
    failed = SimpleITKReader().read(missing)
    assert isinstance(failed, FailedRead)
    with pytest.raises(FileNotFoundError, match="nope.nii.gz: no such file or folder"):
        SimpleITKReader().get_data(failed)
    with pytest.raises(FileNotFoundError, match="nope.nii.gz: no such file or folder"):
        LoadImage(reader=SimpleITKReader())(missing)
    with pytest.raises(FileNotFoundError, match="nope.nii.gz: no such file or folder"):
        LoadImaged(keys="image", reader=SimpleITKReader())({"image": missing})

    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match="no DICOM series") as err:
        SimpleITKReader(defer_errors=False).read(empty)
    assert str(empty) in str(err.value)
    with pytest.raises(FileNotFoundError, match="no DICOM series") as err:
        LoadImaged(keys="image", reader=SimpleITKReader())({"image": empty})
    assert str(empty) in str(err.value)


def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "junk.nii.gz"
    path.write_bytes(b"not an image")
    with pytest.raises(RuntimeError, match="SimpleITK cannot read"):
        SimpleITKReader(defer_errors=False).read(path)
    with pytest.raises(RuntimeError, match="SimpleITK cannot read"):
        LoadImage(reader=SimpleITKReader())(path)


def test_verify_suffix(tmp_path: Path) -> None:
    reader = SimpleITKReader()
    assert reader.verify_suffix("a.nii.gz") and reader.verify_suffix(["a.NII", "b.mha", tmp_path])
    assert not reader.verify_suffix("a.h5") and not reader.verify_suffix(["a.nii", "b.h5"])


# ------------------------------------------------------------------ MONAI pipeline


def test_loadimaged_ensure_channel_first(series: tuple[Path, np.ndarray, str]) -> None:
    folder, arr, _ = series
    data = LoadImaged(keys="image", reader=SimpleITKReader())({"image": str(folder)})
    data = EnsureChannelFirstd(keys="image")(data)
    img = data["image"]
    assert isinstance(img, MetaTensor)
    assert tuple(img.shape) == (1, *SHAPE)
    np.testing.assert_array_equal(img[0].numpy(), arr)
    np.testing.assert_allclose(img.affine.numpy(), _ras(_lps_affine(DIRECTION, SPACING, ORIGIN)), atol=1e-5)


def test_list_of_files_stacks_channels(tmp_path: Path) -> None:
    paths = []
    for i in range(2):
        path = tmp_path / f"c{i}.nii.gz"
        nib.save(nib.Nifti1Image(np.full(SHAPE, i, dtype=np.float32), np.diag([*SPACING, 1.0])), path)
        paths.append(path)
    out = LoadImage(reader=SimpleITKReader(), image_only=True)(paths)
    assert tuple(out.shape) == (2, *SHAPE)
    assert out.meta["original_channel_dim"] == 0
    np.testing.assert_array_equal(out[1].numpy(), 1)


def test_saved_prediction_keeps_dicom_geometry(series: tuple[Path, np.ndarray, str], tmp_path: Path) -> None:
    """A mask saved with SaveImage (NibabelWriter) from the loaded meta has the DICOM series' geometry."""
    folder, arr, _ = series
    data = EnsureChannelFirstd(keys="image")(LoadImaged(keys="image", reader=SimpleITKReader())({"image": folder}))
    img = data["image"]
    pred = MetaTensor((img > 0).to(torch.uint8), meta=img.meta)
    out_dir = tmp_path / "pred"
    SaveImage(
        output_dir=out_dir,
        output_postfix="seg",
        output_ext=".nii.gz",
        writer=NibabelWriter,
        output_dtype=np.uint8,
        separate_folder=False,
        print_log=False,
    )(pred)
    (saved,) = list(out_dir.glob("*.nii.gz"))

    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(folder)))
    reference = reader.Execute()
    mask = sitk.ReadImage(str(saved))
    np.testing.assert_allclose(mask.GetOrigin(), reference.GetOrigin(), atol=1e-4)
    np.testing.assert_allclose(mask.GetSpacing(), reference.GetSpacing(), atol=1e-4)
    np.testing.assert_allclose(mask.GetDirection(), reference.GetDirection(), atol=1e-5)
    np.testing.assert_array_equal(sitk.GetArrayFromImage(mask).transpose(2, 1, 0), (arr > 0).astype(np.uint8))


# ------------------------------------------------------------------ writer arguments


def test_write_dicom_series_rounds_floats_and_rejects_bad_input(tmp_path: Path) -> None:
    values = np.linspace(-10.4, 10.4, num=int(np.prod(SHAPE))).reshape(SHAPE)
    write_dicom_series(values, tmp_path / "f")
    out, _ = SimpleITKReader().get_data(SimpleITKReader().read(tmp_path / "f"))
    np.testing.assert_array_equal(out, np.rint(values).astype(np.int16))

    with pytest.raises(ValueError, match="int16 range"):
        write_dicom_series(np.full(SHAPE, 40000.0), tmp_path / "big")
    with pytest.raises(ValueError, match="3D"):
        write_dicom_series(np.zeros((4, 4)), tmp_path / "2d")
    with pytest.raises(ValueError, match="instance_numbers"):
        write_dicom_series(np.zeros(SHAPE), tmp_path / "n", instance_numbers=[1, 1, 2, 3, 4])
    with pytest.raises(ValueError, match="orthonormal"):
        write_dicom_series(np.zeros(SHAPE), tmp_path / "d", direction=np.diag([1.0, 2.0, 1.0]))
    with pytest.raises(ValueError, match="modality"):
        write_dicom_series(np.zeros(SHAPE), tmp_path / "m", modality="US")


# ------------------------------------------------------------------ what SimpleITK reads silently wrong


def test_truncated_nifti_is_refused_naming_the_file(tmp_path: Path) -> None:
    arr = np.random.default_rng(0).random((30, 30, 30)).astype(np.float32)
    for name in ("full.nii.gz", "full.nii"):
        nib.save(nib.Nifti1Image(arr, np.eye(4)), tmp_path / name)
        data = (tmp_path / name).read_bytes()
        cut = tmp_path / f"cut_{name}"
        cut.write_bytes(data[: len(data) // 2])
        image = sitk.ReadImage(str(cut))  # what the check exists for: SimpleITK reads it, zero-filling the rest
        assert (sitk.GetArrayViewFromImage(image) == 0).mean() > 0.4
        with pytest.raises(ValueError, match=rf"cut_{name}: the file is truncated or corrupt"):
            SimpleITKReader(defer_errors=False).read(cut)
        with pytest.raises(ValueError, match="SimpleITK would read the missing part as zeros"):
            LoadImage(reader=SimpleITKReader())(cut)
    img, _ = SimpleITKReader().get_data(SimpleITKReader().read(tmp_path / "full.nii.gz"))
    assert np.array_equal(img, arr)


def test_non_finite_voxels_are_refused_with_their_count(tmp_path: Path) -> None:
    arr = np.ones((6, 5, 4), np.float32)
    arr[0, 0, 0], arr[1, 1, 1], arr[2, 2, 2] = np.nan, np.inf, -np.inf
    nib.save(nib.Nifti1Image(arr, np.eye(4)), tmp_path / "nan.nii.gz")
    assert not np.isnan(sitk.GetArrayFromImage(sitk.ReadImage(str(tmp_path / "nan.nii.gz")))).any()  # read as 0
    with pytest.raises(ValueError, match=r"nan.nii.gz: 3 of 120 voxels are NaN or infinite"):
        SimpleITKReader(defer_errors=False).read(tmp_path / "nan.nii.gz")
    sitk.WriteImage(sitk.GetImageFromArray(arr.transpose(2, 1, 0)), str(tmp_path / "nan.mha"))  # kept as NaN here
    with pytest.raises(ValueError, match=r"nan.mha: 3 of 120 voxel values are NaN or infinite"):
        SimpleITKReader(defer_errors=False).read(tmp_path / "nan.mha")
    out, _ = SimpleITKReader(check_values=False).get_data(SimpleITKReader(check_values=False).read(tmp_path / "nan.mha"))
    assert np.isnan(out).sum() == 1  # the check can be switched off


def test_duplicated_slice_position_is_refused_naming_it(series: tuple[Path, np.ndarray, str]) -> None:
    import pydicom

    from noisymed.data.dicom_io import new_dicom_uid

    folder, _, uid = series
    files = list_dicom_series(folder)[uid]
    ds = pydicom.dcmread(files[2])
    position = float(np.dot(DIRECTION[:, 2], [float(v) for v in ds.ImagePositionPatient]))
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = new_dicom_uid()
    ds.InstanceNumber = 99
    ds.save_as(str(folder / "IM0099.dcm"))
    with pytest.raises(ValueError) as err:
        SimpleITKReader(defer_errors=False).read(folder)
    message = str(err.value)
    assert f"DICOM series {uid} has two slices at the same position, {position:.4g} mm" in message
    assert Path(files[2]).name in message and "IM0099.dcm" in message
