"""BraTS brain-tumour MRI in its two real layouts, turned into MONAI datalists for whole-tumour segmentation.

The challenge layout (as BraTS distributes its training cases)::

    <root>/<ID>/<ID>_flair.nii.gz   _t1.nii.gz   _t1ce.nii.gz   _t2.nii.gz   _seg.nii.gz
    (or <root>/HGG/<ID>/..., <root>/LGG/<ID>/... as the 2018 and 2019 training releases ship them)

with ``_seg`` labels 0 (background), 1 (necrosis / non-enhancing core), 2 (oedema), 4 (enhancing tumour); the
whole tumour is ``seg > 0``. The SSL4MIS layout (the preprocessed BraTS-2019 set of the semi-supervised
literature, FLAIR only, already brain-cropped and z-scored)::

    <root>/data/<ID>.h5             # datasets "image" (float) and "label" (whole tumour, {0, 1})
    <root>/train.txt  val.txt  test.txt

Items are ``{"image": path or [path per modality], "label": path, "case": ID}``; with several modalities the
image entry lists one file per modality, which MONAI's ``LoadImaged`` stacks as channels. :func:`brats_splits`
checks every case before training starts, so a bad case stops the run with its file and what is wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from monai.data import ImageReader

from .case_lists import resolve_case_ids
from .inputs import plan_mask_paths
from .semi_supervised_split import partition_cases

__all__ = [
    "BRATS_MODALITIES",
    "BRATS_SEG_VALUES",
    "BRATS_SPACING",
    "BraTSDataError",
    "brats_modalities",
    "brats_case_ids",
    "brats_layout",
    "check_brats_case",
    "brats_cases",
    "brats_splits",
    "brats_input_datalist",
    "brats_reader",
]

#: The four MRI sequences of the challenge layout, in BraTS's file-name spelling.
BRATS_MODALITIES: tuple[str, ...] = ("flair", "t1", "t1ce", "t2")
#: Subfolders by tumour grade in the BraTS 2018/2019 training releases; case folders are also looked for there.
BRATS_GRADE_FOLDERS: tuple[str, ...] = ("HGG", "LGG")
#: Voxel size (mm) of the challenge volumes and of the SSL4MIS h5 files (which store none).
BRATS_SPACING: tuple[float, float, float] = (1.0, 1.0, 1.0)
#: The labels a BraTS ``_seg`` file may hold (a binary whole-tumour mask holds 0 and 1 only).
BRATS_SEG_VALUES: tuple[int, ...] = (0, 1, 2, 4)


class BraTSDataError(ValueError):
    """A BraTS folder, list or case that cannot be used; the message names the file."""


def brats_modalities(modalities: str | Sequence[str]) -> tuple[str, ...]:
    """The modality tuple for a name or a list of names (``"flair"``, ``["flair", "t1"]``).

    Raises:
        BraTSDataError: for an unknown name, a repeated name, or none.
    """
    names = (modalities,) if isinstance(modalities, str) else tuple(modalities)
    if not names:
        raise BraTSDataError(f"modalities must name at least one of {list(BRATS_MODALITIES)}.")
    unknown = [m for m in names if m not in BRATS_MODALITIES]
    if unknown:
        raise BraTSDataError(f"unknown modalities {unknown}: choose from {list(BRATS_MODALITIES)}.")
    if len(set(names)) != len(names):
        raise BraTSDataError(f"modalities {list(names)} name one modality more than once.")
    return names


def brats_layout(dataset_dir: str | Path) -> str:
    """``"h5"`` when ``dataset_dir/data`` holds ``*.h5`` files (SSL4MIS), else ``"challenge"``.

    Raises:
        BraTSDataError: when the folder does not exist.
    """
    if dataset_dir is None:
        raise BraTSDataError(
            "no dataset given: set --dataset_dir to a BraTS folder (challenge layout or SSL4MIS h5 layout)."
        )
    root = Path(dataset_dir).expanduser()
    if not root.is_dir():
        raise BraTSDataError(f"{root}: dataset folder not found.")
    return "h5" if (root / "data").is_dir() and any((root / "data").glob("*.h5")) else "challenge"


def brats_reader(dataset_dir: str | Path, key: str = "image") -> ImageReader:
    """The MONAI image reader for ``key`` (``"image"`` or ``"label"``) of a dataset in either layout.

    The h5 layout gets :class:`~noisymed.data.H5Reader` for that dataset (1 mm voxels; labels as uint8), the
    challenge layout :class:`~noisymed.data.SimpleITKReader` (a list of files is stacked as channels).

    Raises:
        BraTSDataError: for a missing dataset folder or a ``key`` other than image/label.
    """
    from .h5_reader import H5Reader
    from .sitk_reader import SimpleITKReader

    if key not in ("image", "label"):
        raise BraTSDataError(f"key must be 'image' or 'label', got {key!r}.")
    if brats_layout(dataset_dir) == "h5":
        return H5Reader(key, spacing=BRATS_SPACING, dtype=np.uint8 if key == "label" else None)
    return SimpleITKReader()


def brats_case_ids(dataset_dir: str | Path, cases: str | Sequence[str] | None) -> list[str]:
    """Case IDs from a list file, a list of IDs, or (None) every case found in ``dataset_dir``, sorted.

    Args:
        dataset_dir: the dataset root.
        cases: a list file (``train.txt``: absolute, relative to ``dataset_dir``, or else relative to the working
            folder), case IDs, or None (case folders directly in ``dataset_dir`` or in its HGG/LGG subfolders).

    Raises:
        BraTSDataError: for a missing or empty list file, a case listed twice, or (None) no case found.
    """
    root = Path(dataset_dir).expanduser()
    if cases is None:
        if brats_layout(root) == "h5":
            found = sorted(p.stem for p in (root / "data").glob("*.h5"))
        else:
            parents = [root] + [root / g for g in BRATS_GRADE_FOLDERS if (root / g).is_dir()]
            found = sorted(
                p.name for d in parents for p in d.iterdir() if p.is_dir() and any(p.glob(f"{p.name}_*.nii*"))
            )
        if not found:
            raise BraTSDataError(f"{root}: no BraTS case found (neither <ID>/<ID>_flair.nii.gz nor data/<ID>.h5).")
        return found
    return resolve_case_ids(root, cases, BraTSDataError)[0]


def _case_folder(root: Path, case: str) -> Path:
    """``root/<case>``, or ``root/HGG/<case>`` / ``root/LGG/<case>`` as BraTS 2018-2019 ship them (the first that exists)."""
    for parent in (root, *(root / g for g in BRATS_GRADE_FOLDERS)):
        if (parent / case).is_dir():
            return parent / case
    return root / case


def _check_header_3d(paths: Sequence[Path]) -> None:
    """Refuse a NIfTI input whose header declares anything but a 3D volume (other formats are left to the reader)."""
    import nibabel as nib

    for path in paths:
        if str(path).endswith((".nii", ".nii.gz")):
            try:
                shape = nib.load(str(path)).shape
            except Exception as e:  # nibabel raises several types for a damaged header
                raise BraTSDataError(f"{path}: not a readable NIfTI file ({type(e).__name__}: {e}).") from e
            if len(shape) != 3:
                raise BraTSDataError(f"{path}: a BraTS image must be a 3D volume, got shape {tuple(shape)}.")


def _load_nifti(path: Path) -> np.ndarray:
    """The voxels of a NIfTI file, read fully with nibabel (which, unlike SimpleITK, raises on a truncated file)."""
    import nibabel as nib

    try:
        return np.asarray(nib.load(str(path)).dataobj)
    except Exception as e:  # nibabel raises several types for a damaged file
        raise BraTSDataError(f"{path}: not a readable NIfTI file ({type(e).__name__}: {e}).") from e


def _check_image(path: Path, arr: np.ndarray, shape: tuple[int, ...] | None) -> None:
    if arr.ndim != 3:
        raise BraTSDataError(f"{path}: a BraTS image must be a 3D volume, got shape {arr.shape}.")
    if shape is not None and arr.shape != shape:
        raise BraTSDataError(f"{path}: shape {arr.shape} differs from the case's other files {shape}.")
    if not np.isfinite(arr).all():
        raise BraTSDataError(f"{path}: has {int((~np.isfinite(arr)).sum())} NaN or infinite values.")
    if not np.any(arr != 0):
        raise BraTSDataError(f"{path}: the brain mask (non-zero voxels) is empty; the image is all zero.")


def _check_label(path: Path, arr: np.ndarray, shape: tuple[int, ...], allowed: Sequence[int]) -> None:
    if arr.shape != shape:
        raise BraTSDataError(f"{path}: label shape {arr.shape} differs from the image shape {shape}.")
    values = np.unique(arr)
    bad = values[~np.isin(values, allowed)]
    if bad.size:
        raise BraTSDataError(f"{path}: label values must be in {list(allowed)}, found {bad[:10].tolist()}.")


def check_brats_case(item: dict, check_label: bool = True) -> tuple[int, ...]:
    """Open and check the files of one datalist item and return the image's spatial shape.

    Checks: every file is there and readable, each image is a finite, not all-zero 3D volume, all files of
    the case have one shape, and the label holds only BraTS labels (0, 1, 2, 4; 0 and 1 in the h5 layout).

    Args:
        item: ``{"image": path or [paths], "label": path (optional), "case": ID}``.
        check_label: check the ``label`` entry too (when the item has one).

    Raises:
        BraTSDataError: naming the file and what is wrong.
    """
    images = item["image"] if isinstance(item["image"], (list, tuple)) else [item["image"]]
    shape: tuple[int, ...] | None = None
    for name in images:
        path = Path(name)
        if not path.is_file():
            raise BraTSDataError(f"{path}: file not found (case {item.get('case')}).")
        if path.suffix == ".h5":
            import h5py

            with h5py.File(path, "r") as f:
                if "image" not in f:
                    raise BraTSDataError(f"{path}: has no 'image' dataset (found {sorted(f.keys())}).")
                arr = f["image"][()]
                label = f["label"][()] if check_label and "label" in item and "label" in f else None
                if check_label and "label" in item and "label" not in f:
                    raise BraTSDataError(f"{path}: has no 'label' dataset (found {sorted(f.keys())}).")
            _check_image(path, arr, None)
            if label is not None:
                _check_label(path, label, arr.shape, (0, 1))
            return tuple(arr.shape)
        arr = _load_nifti(path)
        _check_image(path, arr, shape)
        shape = tuple(arr.shape)
    if check_label and "label" in item:
        path = Path(item["label"])
        if not path.is_file():
            raise BraTSDataError(f"{path}: label file not found (case {item.get('case')}).")
        _check_label(path, _load_nifti(path), shape, BRATS_SEG_VALUES)  # type: ignore[arg-type]
    return shape  # type: ignore[return-value]


def brats_cases(
    dataset_dir: str | Path,
    cases: str | Sequence[str] | None,
    modalities: str | Sequence[str] = ("flair",),
    with_label: bool = True,
    check: bool = True,
) -> list[dict]:
    """Datalist items ``{"image": ..., ["label": ...,] "case": ID}`` for the named cases, in either layout.

    Args:
        dataset_dir: the dataset root (challenge layout or SSL4MIS h5 layout, found by :func:`brats_layout`).
        cases: a list file, case IDs, or None for every case found (see :func:`brats_case_ids`).
        modalities: the sequences to stack as channels, in this order (the h5 layout holds FLAIR only).
        with_label: add the ``label`` entry.
        check: open and check every case (see :func:`check_brats_case`); otherwise only check the files exist.

    Raises:
        BraTSDataError: for a missing folder, list, case or modality file, or a bad case.
    """
    root = Path(dataset_dir).expanduser()
    layout = brats_layout(root)
    names = brats_modalities(modalities)
    if layout == "h5" and names != ("flair",):
        raise BraTSDataError(
            f"{root}: the SSL4MIS h5 layout holds FLAIR only; modalities {list(names)} cannot be read from it."
        )
    out = []
    for case in brats_case_ids(root, cases):
        if layout == "h5":
            path = root / "data" / f"{case}.h5"
            if not path.is_file():
                raise BraTSDataError(f"{path}: case {case} is listed but its file is absent.")
            item = {"image": str(path), "case": case}
            if with_label:
                item["label"] = str(path)
        else:
            folder = _case_folder(root, case)
            if not folder.is_dir():
                raise BraTSDataError(f"{folder}: case {case} is listed but its folder is absent.")
            files = [folder / f"{case}_{m}.nii.gz" for m in names]
            missing = [f.name for f in files if not f.is_file()]
            if missing:
                raise BraTSDataError(
                    f"{folder}: case {case} lacks the modality file(s) {missing} named by modalities={list(names)}."
                )
            item = {"image": [str(f) for f in files] if len(files) > 1 else str(files[0]), "case": case}
            if with_label:
                item["label"] = str(folder / f"{case}_seg.nii.gz")
                if not Path(item["label"]).is_file():
                    raise BraTSDataError(f"{item['label']}: label file of case {case} not found.")
        if check:
            check_brats_case(item, check_label=with_label)
        out.append(item)
    return out


def brats_splits(
    dataset_dir: str | Path,
    num_labeled: int = 25,
    train_list: str | Sequence[str] | None = "train.txt",
    val_list: str | Sequence[str] | None = "val.txt",
    num_val: int = 0,
    max_unlabeled: int | None = None,
    modalities: str | Sequence[str] = ("flair",),
    check: bool = True,
) -> dict[str, list[dict]]:
    """MONAI datalists for the semi-supervised BraTS protocol (SSL4MIS: 250 train / 25 val / 60 test).

    The first ``num_labeled`` cases of ``train_list`` are labeled, the rest unlabeled (their labels are never
    read). Validation cases come from ``val_list`` or, with ``num_val``, from the end of ``train_list``.

    Args:
        dataset_dir: the dataset root, in the challenge or the SSL4MIS h5 layout.
        num_labeled: how many of the first training cases are labeled (the literature: 25 or 50).
        train_list: list file, case IDs, or None for every case in ``dataset_dir``.
        val_list: list file or case IDs of the validation cases, or None for none.
        num_val: take the last ``num_val`` training cases for validation instead of ``val_list``.
        max_unlabeled: keep at most this many unlabeled cases (None: all).
        modalities: the sequences stacked as channels (the literature: FLAIR only).
        check: open and check every case before training.

    Returns:
        ``{"labeled": [...], "unlabeled": [...], "val": [...]}``.

    Raises:
        BraTSDataError: for a missing folder, list, case or modality, a bad case, overlapping or too few cases.
    """
    brats_layout(dataset_dir)  # names a missing folder before anything else
    root = Path(dataset_dir).expanduser()
    cases = brats_case_ids(root, train_list)
    val_ids = brats_case_ids(root, val_list) if val_list is not None and not num_val else None
    labeled, unlabeled, val_cases = partition_cases(
        cases, num_labeled, num_val, val_ids, max_unlabeled, error=BraTSDataError, where=str(root)
    )
    return {
        "labeled": brats_cases(root, labeled, modalities, True, check),
        "unlabeled": brats_cases(root, unlabeled, modalities, False, check),
        "val": brats_cases(root, val_cases, modalities, True, check),
    }


def brats_input_datalist(
    inputs: str | Path | Sequence[str | Path],
    modalities: str | Sequence[str] = ("flair",),
    output_dir: str | Path | None = None,
    postfix: str = "seg",
    overwrite: bool | str = False,
) -> list[dict]:
    """Inference datalist: each input is an image file or DICOM series folder (one modality), or a challenge case
    folder ``<ID>/`` (a folder holding ``<ID>_*.nii.gz`` files; any folder when several modalities are asked for).

    A case folder gives ``{"image": [<ID>_<m>.nii.gz for m in modalities], "case": ID}``; a file is taken as the
    one modality of a single-modality model. With ``output_dir`` each item also gets ``"output"``, its mask's
    path named after the input (the case folder for a case), planned and checked by
    :func:`~noisymed.data.plan_mask_paths` before anything is written.

    Args:
        inputs: a path or a list of paths.
        modalities: the model's input channels, in order.
        output_dir: the folder of the masks; None plans none.
        postfix: added to each input's name for its mask.
        overwrite: replace masks an earlier run wrote.

    Raises:
        BraTSDataError: for no input, a missing input, a file given to a multi-modality model, a case folder
            lacking a modality, or a NIfTI input that is not 3D.
        ValueError: when two inputs would write one mask.
        FileExistsError: for a mask that exists when ``overwrite`` is false.
    """
    if inputs is None or (not isinstance(inputs, (str, Path)) and len(inputs) == 0):
        raise BraTSDataError("no input given: set --input to a NIfTI file or a BraTS case folder, or a list of them.")
    names = brats_modalities(modalities)
    out, sources = [], []
    for p in [inputs] if isinstance(inputs, (str, Path)) else list(inputs):
        path = Path(p).expanduser()
        if not path.exists():
            raise BraTSDataError(f"{path}: input not found.")
        sources.append(path)
        if path.is_dir() and (len(names) > 1 or any(path.glob(f"{path.name}_*.nii*"))):
            files = [path / f"{path.name}_{m}.nii.gz" for m in names]
            missing = [f.name for f in files if not f.is_file()]
            if missing:
                raise BraTSDataError(
                    f"{path}: lacks the modality file(s) {missing} the model needs (modalities={list(names)})."
                )
            _check_header_3d(files)
            out.append({"image": [str(f) for f in files] if len(files) > 1 else str(files[0]), "case": path.name})
        else:  # an image file, or a DICOM series folder, as the one modality
            if len(names) > 1:
                raise BraTSDataError(
                    f"{path}: a single file cannot feed a model of {len(names)} modalities {list(names)}; give the case folder."
                )
            if path.is_file():
                _check_header_3d([path])
            out.append({"image": str(path), "case": path.name.split(".")[0]})
    if output_dir is not None:
        for item, target in zip(
            out, plan_mask_paths(sources, output_dir, postfix=postfix, overwrite=overwrite), strict=True
        ):
            item["output"] = str(target)
    return out
