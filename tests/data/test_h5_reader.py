from __future__ import annotations

import numpy as np
import pytest
from monai.transforms import EnsureChannelFirstd, LoadImaged

from noisymed.data import H5Reader
from tests.conftest import write_la_case


def test_load_image_and_label_with_spacing(tmp_path):
    image = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    path = write_la_case(tmp_path, "A", image=image, label=(image > 10).astype(np.uint8))
    d = LoadImaged("image", reader=H5Reader("image"), image_only=True)({"image": str(path), "label": str(path)})
    d = LoadImaged("label", reader=H5Reader("label", dtype=np.uint8), image_only=True)(d)
    d = EnsureChannelFirstd(["image", "label"])(d)
    assert d["image"].shape == (1, 2, 3, 4) and d["label"].shape == (1, 2, 3, 4)
    assert np.array_equal(d["image"][0].numpy(), image)
    assert np.allclose(np.diag(d["image"].affine.numpy()), [0.625, 0.625, 0.625, 1])
    assert d["image"].meta["filename_or_obj"] == str(path)


def test_missing_dataset_and_file(tmp_path):
    path = write_la_case(tmp_path, "A", label=False)
    with pytest.raises(KeyError, match="has no dataset 'label'"):
        H5Reader("label").read(str(path))
    with pytest.raises(FileNotFoundError):
        H5Reader("image").read(str(tmp_path / "none.h5"))
    with pytest.raises(ValueError):
        H5Reader("image", spacing=(0, 1, 1))
