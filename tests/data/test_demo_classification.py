from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from noisymed.data import CLASSIFICATION_DEMO_CLASSES, classification_splits, ensure_classification_demo, make_classification_image


def test_images_are_deterministic_and_the_lesion_is_brighter():
    a, b = make_classification_image(True, 3), make_classification_image(True, 3)
    assert a.dtype == np.uint8 and a.shape == (28, 28) and np.array_equal(a, b)
    # background at most 0.35 + 0.1 + noise; the disc adds 0.45, so a lesion image's brightest pixel stands out
    assert min(make_classification_image(True, s).max() for s in range(20)) > 200
    assert max(make_classification_image(False, s).max() for s in range(20)) < 180


def test_the_demo_set_is_written_once_and_reads_as_class_folders(tmp_path):
    root = ensure_classification_demo(tmp_path / "demo", num_images=20, size=16)
    assert sorted(p.name for p in root.iterdir() if p.is_dir()) == list(CLASSIFICATION_DEMO_CLASSES)
    assert len(list((root / "lesion").glob("*.png"))) == 10 and len(list((root / "normal").glob("*.png"))) == 10
    assert np.array_equal(np.asarray(Image.open(root / "lesion" / "0000.png")), make_classification_image(True, 0, 16))
    stamp = (root / "lesion" / "0000.png").stat().st_mtime_ns
    ensure_classification_demo(root, num_images=20, size=16)
    assert (root / "lesion" / "0000.png").stat().st_mtime_ns == stamp
    split = classification_splits(root, val_fraction=0.2)
    assert split["classes"] == ["lesion", "normal"]
    assert len(split["train"]) == 16 and len(split["val"]) == 4


@pytest.mark.parametrize("num_images", [6, 11])
def test_a_bad_size_is_refused(tmp_path, num_images):
    with pytest.raises(ValueError, match="num_images must be even"):
        ensure_classification_demo(tmp_path, num_images=num_images)
