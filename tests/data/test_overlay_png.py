"""write_overlay_png: the slice with most label voxels, outlined in red; bad arrays refused."""

from __future__ import annotations

import matplotlib.image
import numpy as np
import pytest

from noisymed.data import write_overlay_png


def test_outline_is_drawn_on_the_fullest_slice(tmp_path):
    image = np.full((40, 30, 4), -1000.0)
    label = np.zeros((40, 30, 4), np.uint8)
    label[10:20, 5:15, 1] = 1
    label[10:30, 5:25, 2] = 1  # the fullest slice
    image[:, :, 2] = 275.0  # white only on slice 2: the picture shows slice 2
    path = write_overlay_png(image, label, tmp_path / "case.png", title="case")
    png = matplotlib.image.imread(path)
    red = (png[..., 0] > 0.8) & (png[..., 1] < 0.3) & (png[..., 2] < 0.3)
    h, w = png.shape[:2]
    assert red.sum() > 20 and (png[h // 2, w // 2, :3] > 0.95).all()  # the centre is white: slice 2 is shown
    assert [p.name for p in tmp_path.iterdir()] == ["case.png"]  # no temporary left


def test_bad_arrays_are_refused(tmp_path):
    with pytest.raises(ValueError, match=r"one shape, got \(4, 4, 4\) and \(4, 4, 3\)"):
        write_overlay_png(np.zeros((4, 4, 4)), np.zeros((4, 4, 3)), tmp_path / "a.png")
    with pytest.raises(ValueError, match="a.png: the label is empty"):
        write_overlay_png(np.zeros((4, 4, 4)), np.zeros((4, 4, 4)), tmp_path / "a.png")
