"""Every bundle's metadata passes MONAI's ``verify_metadata`` against the schema it names (the model zoo's check)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from monai.bundle import verify_metadata

REPO = Path(__file__).resolve().parents[2]
SCHEMAS = REPO.parent / "shared" / "monai_schema"
BUNDLES = sorted(p.name for p in (REPO / "bundles").iterdir() if (p / "configs" / "metadata.json").is_file())


def test_every_bundle_is_listed():
    assert {"la_mutual_learning", "brats_mri_mutual_learning", "pancreas_ct_mutual_learning",
            "noisy_label_classification", "cxr_single_positive"} <= set(BUNDLES)  # fmt: skip


@pytest.mark.parametrize("bundle", BUNDLES)
def test_verify_metadata(bundle, tmp_path):
    meta = REPO / "bundles" / bundle / "configs" / "metadata.json"
    schema = SCHEMAS / Path(json.loads(meta.read_text(encoding="utf-8"))["schema"]).name
    if not schema.is_file():
        pytest.skip(f"MONAI schema copy not found at {schema} (ships in ../shared)")
    local = tmp_path / "schema.json"
    shutil.copy(schema, local)  # verify_metadata skips its download when the file exists
    verify_metadata(meta_file=str(meta), filepath=str(local))
