from __future__ import annotations

import numpy as np
import pytest

from noisymed.data import ensure_cxr_demo, make_cxr_like_image


def test_contrast_scales_the_findings_only():
    findings = ("Cardiomegaly", "Effusion", "Mass", "Pneumothorax")
    plain = make_cxr_like_image((), seed=3, noise=0.0).astype(int)
    # contrast 0: the findings draw nothing, so the image equals the one without findings
    assert np.array_equal(make_cxr_like_image(findings, seed=3, contrast=0.0, noise=0.0).astype(int), plain)
    full_img = make_cxr_like_image(findings, seed=3, noise=0.0).astype(int)
    full = full_img - plain
    half = make_cxr_like_image(findings, seed=3, contrast=0.5, noise=0.0).astype(int) - plain
    # away from clipping and rounding, half the contrast is half the change
    changed = (np.abs(full) > 20) & (full_img > 0) & (full_img < 255) & (plain > 0) & (plain < 255)
    assert changed.sum() > 50
    assert np.allclose(half[changed], full[changed] / 2, atol=1.5)


def test_noise_level_and_validation():
    a = make_cxr_like_image((), seed=1, noise=0.0).astype(float)
    b = make_cxr_like_image((), seed=1, noise=0.1).astype(float)
    inside = (a > 40) & (a < 200)  # not clipped
    assert (b - a)[inside].std() / 255 == pytest.approx(0.1, rel=0.15)
    with pytest.raises(ValueError, match="contrast and noise"):
        make_cxr_like_image((), seed=1, contrast=-1.0)


def test_harder_demo_set_keeps_the_labels(tmp_path):
    easy = ensure_cxr_demo(tmp_path / "easy", num_images=8, size=32)
    hard = ensure_cxr_demo(tmp_path / "hard", num_images=8, size=32, contrast=0.2, noise=0.06)
    assert (easy / "labels.csv").read_text() == (hard / "labels.csv").read_text()
