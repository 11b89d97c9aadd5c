from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from noisymed.data import classification_splits


def _npz(path, n_train=10, n_val=4, shape=(8, 8)):
    rng = np.random.default_rng(0)
    np.savez(
        path,
        train_images=rng.integers(0, 255, (n_train, *shape), dtype=np.uint8),
        train_labels=np.arange(n_train)[:, None] % 3,
        val_images=rng.integers(0, 255, (n_val, *shape), dtype=np.uint8),
        val_labels=np.arange(n_val)[:, None] % 3,
    )
    return path


def _folders(root, counts):
    for name, n in counts.items():
        (root / name).mkdir(parents=True)
        for i in range(n):
            Image.fromarray(np.full((4, 4), i, np.uint8)).save(root / name / f"{i}.png")
    return root


def test_medmnist_npz_uses_its_train_and_val_arrays(tmp_path):
    split = classification_splits(_npz(tmp_path / "toy.npz"), max_train=7)
    assert len(split["train"]) == 7 and len(split["val"]) == 4
    assert split["classes"] == ["0", "1", "2"] and split["spatial_dims"] == 2
    assert split["channels"] == 1 and split["spatial_size"] == [8, 8]
    assert [d["label"] for d in split["val"]] == [0, 1, 2, 0]
    three_d = classification_splits(_npz(tmp_path / "toy3d.npz", shape=(6, 6, 6)))
    assert three_d["spatial_dims"] == 3 and three_d["spatial_size"] == [6, 6, 6]


def test_folder_split_is_stratified_and_seeded(tmp_path):
    root = _folders(tmp_path / "data", {"a_normal": 10, "b_sick": 20})
    split = classification_splits(root, val_fraction=0.2, seed=3)
    val_labels = [d["label"] for d in split["val"]]
    assert split["classes"] == ["a_normal", "b_sick"] and split["spatial_dims"] is None
    assert val_labels.count(0) == 2 and val_labels.count(1) == 4 and len(split["train"]) == 24
    again = classification_splits(root, val_fraction=0.2, seed=3)
    assert [d["image"] for d in again["val"]] == [d["image"] for d in split["val"]]
    other = classification_splits(root, val_fraction=0.2, seed=4)
    assert [d["image"] for d in other["val"]] != [d["image"] for d in split["val"]]
    assert not {d["image"] for d in split["train"]} & {d["image"] for d in split["val"]}


def test_separate_validation_folder_is_indexed_by_the_training_classes(tmp_path):
    train = _folders(tmp_path / "train", {"a": 2, "b": 2, "c": 2})
    val = _folders(tmp_path / "val", {"b": 1, "c": 1})  # no class "a": indices must not shift
    split = classification_splits(train, val_dataset=val)
    assert sorted(d["label"] for d in split["val"]) == [1, 2]


def test_csv_with_integer_labels_names_classes_by_index(tmp_path):
    for i in range(12):
        Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / f"{i}.png")
    rows = ["path,label"] + [f"{i}.png,{i % 11}" for i in range(12)]
    (tmp_path / "labels.csv").write_text("\n".join(rows) + "\n")
    split = classification_splits(tmp_path / "labels.csv", val_fraction=0.5)
    assert split["classes"] == [str(i) for i in range(11)]  # "10" after "9", not after "1"


def test_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="dataset not found"):
        classification_splits(tmp_path / "nothing.npz")
    (tmp_path / "x.txt").write_text("")
    with pytest.raises(ValueError, match="expected a MedMNIST .npz"):
        classification_splits(tmp_path / "x.txt")
    root = _folders(tmp_path / "d", {"a": 2, "b": 2})
    with pytest.raises(ValueError, match="val_fraction must be in"):
        classification_splits(root, val_fraction=1.0)
    np.savez(tmp_path / "noval.npz", train_images=np.zeros((2, 4, 4), np.uint8), train_labels=np.array([[0], [1]]))
    with pytest.raises(ValueError, match="has no 'val' split"):
        classification_splits(tmp_path / "noval.npz")


def _csv(path, rows):
    path.write_text("path,label\n" + "".join(f"{p},{y}\n" for p, y in rows))
    return path


def test_an_image_in_both_splits_is_refused(tmp_path):
    _folders(tmp_path / "img", {"a": 4})
    train = _csv(tmp_path / "train.csv", [(f"img/a/{i}.png", i % 2) for i in range(3)])
    val = _csv(tmp_path / "val.csv", [("img/a/3.png", 0), ("img/a/2.png", 0)])
    with pytest.raises(ValueError, match=r"img/a/2.png is in the training set \(.*train.csv\) and in the validation set "
                       r"\(.*val.csv\): validation would score images the model trained on"):
        classification_splits(train, val_dataset=val)
    _csv(val, [("img/a/3.png", 0)])
    assert len(classification_splits(train, val_dataset=val)["val"]) == 1


def test_folders_linking_one_file_twice_are_refused(tmp_path):
    root = _folders(tmp_path / "d", {"a": 3, "b": 3})
    (root / "b" / "copy.png").symlink_to(root / "a" / "0.png")
    with pytest.raises(ValueError, match="listed twice|in the training set .* and in the validation set"):
        classification_splits(root, val_fraction=0.5)


def test_declared_classes_allow_gaps_and_name_the_classes(tmp_path):
    _folders(tmp_path / "img", {"a": 4})
    train = _csv(tmp_path / "train.csv", [(f"img/a/{i}.png", 2 * (i % 2)) for i in range(4)])
    with pytest.raises(ValueError, match=r"class indices \[0, 2\] skip \[1\]"):
        classification_splits(train, val_fraction=0.5)
    split = classification_splits(train, val_fraction=0.5, classes=["no", "maybe", "yes"])
    assert split["classes"] == ["no", "maybe", "yes"] and sorted(d["label"] for d in split["train"]) == [0, 2]
    with pytest.raises(ValueError, match="distinct class names"):
        classification_splits(train, classes=["a", "a"])


def test_medmnist_stray_label_is_refused_with_its_row(tmp_path):
    path = tmp_path / "m.npz"
    labels = np.array([0, 1, 0, 1, 7, 0])[:, None]
    np.savez(path, train_images=np.zeros((6, 4, 4), np.uint8), train_labels=labels,
             val_images=np.zeros((2, 4, 4), np.uint8), val_labels=np.array([[0], [1]]))
    with pytest.raises(ValueError, match=r"m.npz: class indices \[2, 3, 4, 5, 6\] have no image, so label\(s\) \[7\] "
                       r"\(e.g. train row 4\) would train a model of 8 classes, 5 of them without an image"):
        classification_splits(path)
    split = classification_splits(path, classes=[str(i) for i in range(8)])
    assert len(split["classes"]) == 8
    with pytest.raises(ValueError, match="labels go up to 7 but classes names only 2"):
        classification_splits(path, classes=["normal", "pneumonia"])


def test_max_train_is_a_seeded_sample_and_a_one_class_training_split_is_refused(tmp_path):
    path = tmp_path / "sorted.npz"  # rows sorted by class, as PneumoniaMNIST's file is
    rng = np.random.default_rng(0)
    np.savez(
        path,
        train_images=rng.integers(0, 255, (20, 4, 4), dtype=np.uint8),
        train_labels=np.repeat([0, 1], 10)[:, None],
        val_images=rng.integers(0, 255, (4, 4, 4), dtype=np.uint8),
        val_labels=np.array([0, 1, 0, 1])[:, None],
    )
    split = classification_splits(path, seed=3, max_train=6)
    expected = np.sort(np.random.default_rng(3).permutation(20)[:6])  # the first 6 rows would all be class 0
    assert [d["index"] for d in split["train"]] == expected.tolist()
    assert {d["label"] for d in split["train"]} == {0, 1}
    again = classification_splits(path, seed=3, max_train=6)["train"]  # seeded
    assert [d["index"] for d in again] == expected.tolist()
    assert len(classification_splits(path, max_train=50)["train"]) == 20  # more than there is: all, in order

    np.savez(path, train_images=np.zeros((5, 4, 4), np.uint8), train_labels=np.zeros((5, 1), int),
             val_images=np.zeros((2, 4, 4), np.uint8), val_labels=np.array([[0], [1]]))  # fmt: skip
    with pytest.raises(ValueError, match=r"sorted\.npz: the training split holds one class only \(\[0\], 5 images\)"):
        classification_splits(path, classes=["a", "b"])
