"""Every bundle's train and inference configs define MONAI's workflow properties (``monai.bundle.properties``).

The loop runs over ``bundles/*/configs``, so a new bundle is covered without a line here. ``check_properties``
resolves every required property (it builds the datasets and engines), so the bundle root is redirected to a
temporary folder: demo data and checkpoints are written there, never into the repository.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from monai.bundle import ConfigWorkflow

REPO = Path(__file__).resolve().parents[2]
BUNDLES = sorted(p.parent for p in REPO.glob("bundles/*/configs") if (p / "metadata.json").is_file())


def _workflow(bundle: Path, config: str, workflow_type: str, root: Path, **overrides) -> ConfigWorkflow:
    root.mkdir(parents=True, exist_ok=True)
    workflow = ConfigWorkflow(
        config_file=str(bundle / "configs" / config), meta_file=str(bundle / "configs" / "metadata.json"),
        workflow_type=workflow_type, bundle_root=str(root), **overrides,
    )  # fmt: skip
    workflow.initialize()
    return workflow


def test_every_bundle_is_found():
    assert {"la_mutual_learning", "noisy_label_classification", "cxr_single_positive"} <= {b.name for b in BUNDLES}


@pytest.mark.parametrize("bundle", BUNDLES, ids=[b.name for b in BUNDLES])
def test_train_properties(bundle, tmp_path):
    workflow = _workflow(bundle, "train.json", "train", tmp_path / "root")
    assert workflow.check_properties() == []
    assert workflow.bundle_root == str(tmp_path / "root")
    assert workflow.train_inferer is not None and workflow.max_epochs >= 1
    assert len(workflow.train_dataset) > 0


@pytest.mark.parametrize("bundle", BUNDLES, ids=[b.name for b in BUNDLES])
def test_infer_properties(bundle, tmp_path):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    if bundle.name == "pancreas_ct_mutual_learning":  # its datalist reads the HU tags first: an empty folder is refused
        from tests.pancreas_cases import ct_like_volume, write_ct_series

        write_ct_series(inputs, ct_like_volume(0)[0])
    workflow = _workflow(bundle, "inference.json", "infer", tmp_path / "root", dataset_dir=str(inputs))
    assert workflow.check_properties() == []
    assert workflow.dataset_dir == str(inputs)
    assert workflow.inferer is not None and workflow.network_def is not None
