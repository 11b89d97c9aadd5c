"""The noisy-label bundle trains on its embedded demo set when no ``--dataset`` is given."""

from __future__ import annotations

import json
from pathlib import Path

from monai.bundle import run as bundle_run

CONFIGS = Path(__file__).resolve().parents[2] / "bundles" / "noisy_label_classification" / "configs"


def test_train_without_a_dataset_uses_the_demo_set(tmp_path):
    bundle_run(
        config_file=[str(CONFIGS / "train.json")], logging_file=str(CONFIGS / "logging.conf"),
        bundle_root=str(tmp_path), epochs=1, batch_size=16, widths=[4, 8, 8, 8],
    )  # fmt: skip
    assert (tmp_path / "demo_data" / "DEMO_COMPLETE.txt").is_file()
    assert len(list((tmp_path / "demo_data").glob("*/*.png"))) == 64
    assert (tmp_path / "models" / "model.pt").is_file()
    settings = json.loads((tmp_path / "models" / "model_settings.json").read_text())
    assert settings["classes"] == ["lesion", "normal"]
