from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("matplotlib", reason="figures need the plot extra (matplotlib)")

from noisymed.utils import plot_bars, plot_curves, plot_overlay  # noqa: E402


def _png(path):
    with Image.open(path) as img:
        assert img.format == "PNG"
        return np.asarray(img.convert("RGB"))


def test_curves_and_bars_are_pngs_of_the_asked_size(tmp_path):
    curves = {"noise 0%": {"CE": [(1, 0.5), (2, 0.7)], "GCE": [(1, 0.6), (2, 0.8)]}, "noise 40%": {"CE": [(1, 0.4), (2, 0.5)]}}
    path = plot_curves(curves, tmp_path / "curves.png", ylabel="accuracy")
    # two panels: 4.2 * 2 + 1.6 = 10 inches by 3.8 at 100 dpi
    assert _png(path).shape == (380, 1000, 3)
    bars = plot_bars({"0%": {"CE": 0.9, "GCE": 0.92}, "40%": {"CE": 0.7}}, tmp_path / "bars.png", errors={"0%": {"CE": 0.01}})
    assert _png(bars).shape[:2] == (380, 500)
    plot_bars({"0%": {"CE": 0.5}}, bars)  # benchmark figures follow their JSON: replaced
    assert not list(tmp_path.glob("*.tmp*"))
    with pytest.raises(ValueError, match="at least one panel"):
        plot_curves({"empty": {}}, tmp_path / "x.png")
    with pytest.raises(ValueError, match="at least one group"):
        plot_bars({}, tmp_path / "x.png")


def test_overlay_colours_the_label_and_the_prediction_only_where_they_are(tmp_path):
    image = np.zeros((40, 40), np.float32)
    label = np.zeros((40, 40), np.uint8)
    label[5:35, 5:35] = 1
    path = plot_overlay(image, tmp_path / "o.png", label=label, pred=np.zeros_like(label), title="case")
    rgb = _png(path).astype(int)
    assert rgb.shape == (340, 960, 3)
    panel = lambda i: rgb[40:320, 320 * i + 20 : 320 * (i + 1) - 20]  # noqa: E731
    colour = lambda a: int((np.abs(a[..., 0] - a[..., 2]) > 60).sum())  # noqa: E731
    # the label panel (autumn: red-yellow) has coloured pixels; image and the empty prediction panels are grey
    assert colour(panel(1)) > 1000 and colour(panel(0)) == 0 and colour(panel(2)) == 0
    with pytest.raises(FileExistsError, match="o.png already exists"):
        plot_overlay(image, path)
    with pytest.raises(ValueError, match="2D arrays of one shape"):
        plot_overlay(image, tmp_path / "p.png", label=label[:10])
