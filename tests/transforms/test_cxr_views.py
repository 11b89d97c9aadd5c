from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.transforms import Compose
from PIL import Image

from noisymed.data import write_dicom_image
from noisymed.transforms import cxr_preprocessing, strong_view, weak_augmentation


def test_png_and_dicom_load_alike_and_monochrome1_is_inverted(tmp_path):
    rng = np.random.default_rng(0)
    pixels = (rng.random((40, 36)) * 255).astype(np.uint8)
    pixels[:5, :] = 255  # bright top rows
    Image.fromarray(pixels).save(tmp_path / "a.png")
    write_dicom_image(pixels.astype(np.uint16) * 16, tmp_path / "b.dcm", modality="DX")
    write_dicom_image((255 - pixels.astype(np.uint16)) * 16, tmp_path / "c.dcm", photometric="MONOCHROME1", modality="DX")
    load = Compose(cxr_preprocessing(32))
    a, b, c = (load({"image": str(tmp_path / n)})["image"] for n in ("a.png", "b.dcm", "c.dcm"))
    assert a.shape == b.shape == c.shape == (1, 32, 32) and a.dtype == torch.float32
    assert float(a.min()) == 0.0 and float(a.max()) == 1.0
    assert torch.allclose(a, b, atol=1e-4) and torch.allclose(a, c, atol=1e-4)
    with pytest.raises(ValueError, match="image_size must be"):
        cxr_preprocessing(16)


def test_views():
    x = {"image": torch.rand(1, 32, 32)}
    t = Compose(strong_view("image", "image_strong", 32, elastic=True) + weak_augmentation("image", 32))
    t.set_random_state(0)
    out = t(x)
    assert out["image"].shape == out["image_strong"].shape == (1, 32, 32)
    assert not torch.allclose(torch.as_tensor(out["image"]), torch.as_tensor(out["image_strong"]))
    names = [type(tr).__name__ for tr in strong_view(elastic=True)]
    assert names[0] == "CopyItemsd" and "Rand2DElasticd" in names and "SomeOf" in names
    assert "Rand2DElasticd" not in [type(tr).__name__ for tr in strong_view(elastic=False)]
    # `--elastic false` on MONAI's command line arrives as the string "false"
    assert "Rand2DElasticd" not in [type(tr).__name__ for tr in strong_view(elastic="false")]
    with pytest.raises(ValueError, match="num_ops must be in"):
        strong_view(num_ops=9)
