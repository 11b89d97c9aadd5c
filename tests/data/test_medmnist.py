from __future__ import annotations

import numpy as np
import pytest

from noisymed.data import medmnist_datalist, medmnist_info
from tests.conftest import MEDMNIST, requires_medmnist


def write_npz(path, compressed=False, **splits):
    """``splits``: ``name=(images, labels)`` written as ``<name>_images`` / ``<name>_labels``."""
    arrays = {}
    for name, (images, labels) in splits.items():
        arrays[f"{name}_images"] = images
        arrays[f"{name}_labels"] = labels
    (np.savez_compressed if compressed else np.savez)(path, **arrays)
    return path


def images(shape, seed=0):
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def test_2d_grayscale(tmp_path):
    train, val = images((5, 6, 7)), images((3, 6, 7), 1)
    path = write_npz(tmp_path / "g.npz", train=(train, np.array([[0], [2], [1], [2], [0]], np.uint8)),
                     val=(val, np.array([[1], [1], [0]])))
    info = medmnist_info(path)
    assert info == {
        "splits": ["train", "val"],
        "num_classes": 3,
        "spatial_dims": 2,
        "channels": 1,
        "shape": (1, 6, 7),
        "sizes": {"train": 5, "val": 3},
        "label_counts": {"train": [2, 1, 2], "val": [1, 2, 0]},
    }
    items = medmnist_datalist(path, "train")
    assert [d["label"] for d in items] == [0, 2, 1, 2, 0] and [d["index"] for d in items] == list(range(5))
    assert all(type(d["label"]) is int for d in items)
    assert items[3]["image"].shape == (1, 6, 7) and items[3]["image"].dtype == np.uint8
    assert np.array_equal(items[3]["image"][0], train[3])
    assert np.array_equal(medmnist_datalist(path, "val")[2]["image"][0], val[2])


def test_2d_rgb_is_channel_first(tmp_path):
    rgb = images((4, 8, 8, 3))
    path = write_npz(tmp_path / "rgb.npz", compressed=True, test=(rgb, np.arange(4)[:, None]))
    info = medmnist_info(path)
    assert (info["spatial_dims"], info["channels"], info["shape"], info["splits"]) == (2, 3, (3, 8, 8), ["test"])
    item = medmnist_datalist(path, "test")[1]
    assert item["image"].shape == (3, 8, 8) and item["label"] == 1
    assert np.array_equal(item["image"][2], rgb[1, :, :, 2])  # channel c is the last axis of the source


def test_3d(tmp_path):
    vol = images((2, 5, 6, 7))
    path = write_npz(tmp_path / "v.npz", train=(vol, np.array([[1], [0]])))
    info = medmnist_info(path)
    assert (info["spatial_dims"], info["channels"], info["shape"]) == (3, 1, (1, 5, 6, 7))
    item = medmnist_datalist(path)[0]
    assert item["image"].shape == (1, 5, 6, 7) and np.array_equal(item["image"][0], vol[0]) and item["label"] == 1
    # a 3D volume of depth 3 is 3D unless asked otherwise, and 2D RGB can be forced
    path = write_npz(tmp_path / "d3.npz", train=(images((2, 5, 6, 3)), np.array([[1], [0]])))
    assert medmnist_info(path)["spatial_dims"] == 2
    assert medmnist_info(path, spatial_dims=3)["shape"] == (1, 5, 6, 3)


def test_datalist_goes_through_monai_transforms(tmp_path):
    from monai.data import DataLoader, Dataset
    from monai.transforms import Compose, ScaleIntensityRanged, ToTensord

    path = write_npz(tmp_path / "g.npz", train=(images((4, 6, 6)), np.array([[0], [1], [1], [0]])))
    transform = Compose([ScaleIntensityRanged("image", 0, 255, 0, 1), ToTensord("image")])
    batch = next(iter(DataLoader(Dataset(medmnist_datalist(path), transform), batch_size=4)))
    assert tuple(batch["image"].shape) == (4, 1, 6, 6) and batch["label"].tolist() == [0, 1, 1, 0]
    assert float(batch["image"].max()) <= 1.0


def test_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.npz: MedMNIST .npz file not found"):
        medmnist_info(tmp_path / "nope.npz")
    path = write_npz(tmp_path / "g.npz", train=(images((2, 4, 4)), np.array([[0], [1]])))
    with pytest.raises(ValueError, match=r"has no 'test' split; present splits: \['train'\]"):
        medmnist_datalist(path, "test")
    with pytest.raises(ValueError, match="split must be one of"):
        medmnist_datalist(path, "training")
    multi = write_npz(tmp_path / "m.npz", train=(images((2, 4, 4)), np.array([[0, 1, 1], [1, 0, 0]])))
    with pytest.raises(ValueError, match="multi-label.*single-label"):
        medmnist_info(multi)
    with pytest.raises(ValueError, match="multi-label"):
        medmnist_datalist(multi)
    short = write_npz(tmp_path / "s.npz", train=(images((3, 4, 4)), np.array([[0], [1]])))
    with pytest.raises(ValueError, match="3 train images but 2 train labels"):
        medmnist_datalist(short)
    np.savez(tmp_path / "x.npz", train_images=images((2, 4, 4)))
    with pytest.raises(ValueError, match="no 'train_labels'"):
        medmnist_info(tmp_path / "x.npz")
    np.savez(tmp_path / "y.npz", foo=np.zeros(2))
    with pytest.raises(ValueError, match=r"no MedMNIST split \(arrays \['foo'\]\)"):
        medmnist_info(tmp_path / "y.npz")
    (tmp_path / "z.npz").write_text("not a zip")
    with pytest.raises(ValueError, match="not a readable .npz"):
        medmnist_info(tmp_path / "z.npz")
    bad = write_npz(tmp_path / "f.npz", train=(images((2, 4, 4)), np.array([[0.5], [1.0]])))
    with pytest.raises(ValueError, match="integer class indices"):
        medmnist_datalist(bad)


@pytest.mark.realdata
@requires_medmnist
def test_real_pneumoniamnist():
    path = MEDMNIST / "pneumoniamnist.npz"
    info = medmnist_info(path)
    assert info["splits"] == ["train", "val"] and info["sizes"] == {"train": 4708, "val": 524}
    assert (info["num_classes"], info["spatial_dims"], info["channels"], info["shape"]) == (2, 2, 1, (1, 28, 28))
    assert sum(info["label_counts"]["train"]) == 4708
    val = medmnist_datalist(path, "val")
    assert len(val) == 524 and val[0]["image"].shape == (1, 28, 28) and val[0]["image"].dtype == np.uint8
    assert {d["label"] for d in val} == {0, 1}


@pytest.mark.realdata
@requires_medmnist
def test_real_adrenalmnist3d():
    path = MEDMNIST / "adrenalmnist3d.npz"
    info = medmnist_info(path)
    assert info["sizes"] == {"train": 1188, "val": 98} and info["shape"] == (1, 28, 28, 28)
    assert (info["num_classes"], info["spatial_dims"]) == (2, 3)
    val = medmnist_datalist(path, "val")
    assert len(val) == 98 and val[-1]["image"].shape == (1, 28, 28, 28) and val[-1]["index"] == 97
    assert sum(d["label"] for d in val) == info["label_counts"]["val"][1]
