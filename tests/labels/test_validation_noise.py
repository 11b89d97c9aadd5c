from __future__ import annotations

import json

import pytest

from noisymed.labels import noisy_validation_labels

VAL = [{"image": f"{i}.png", "label": i % 2} for i in range(10)]


def test_disabled_returns_the_datalist_and_writes_nothing(tmp_path):
    assert noisy_validation_labels(VAL, "false", tmp_path / "val.json", rate=0.4, num_classes=2) is VAL
    assert not (tmp_path / "val.json").exists()


def test_enabled_flips_exactly_the_rate_per_class_and_keeps_the_clean_label(tmp_path):
    out = noisy_validation_labels(VAL, True, tmp_path / "val.json", noise_type="symmetric", rate=0.4, num_classes=2, seed=0)
    assert [o["clean_label"] for o in out] == [v["label"] for v in VAL]
    flipped = [o for o in out if o["label"] != o["clean_label"]]
    # exact mode: round(0.4 * 5) = 2 flips in each of the two classes
    assert len(flipped) == 4 and sum(o["clean_label"] == 0 for o in flipped) == 2
    assert json.loads((tmp_path / "val.json").read_text())["rate"] == 0.4
    assert "clean_label" not in VAL[0]  # the input is not changed


def test_bad_flag_is_named(tmp_path):
    with pytest.raises((TypeError, ValueError), match="val_noise"):
        noisy_validation_labels(VAL, "maybe", tmp_path / "val.json", rate=0.4, num_classes=2)
