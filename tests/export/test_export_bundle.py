"""Export of each bundle → a fresh venv without noisymed → the zoo's checks, one training iteration, one inference.

The fresh venv is ``venv.EnvBuilder(with_pip=False)`` plus one ``.pth`` line naming this interpreter's
site-packages: torch, MONAI and the rest are importable, but the ``.pth`` files *inside* that folder are not run
(Python runs those of its own site folders only), so the editable install's import hook for noisymed never
loads; ``PYTHONPATH`` is removed from the environment. ``zoo_checks.py --forbid noisymed`` then checks that
``import noisymed`` really fails there before anything else.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import numpy as np
import pytest
import torch
from monai.bundle import run as bundle_run
from PIL import Image

import noisymed.export.zoo_checks as zoo_checks
from noisymed.data import ensure_la_demo, export_demo_inputs, make_classification_image, make_cxr_like_image, make_la_like_case
from noisymed.export import export_bundle
from tests.code_format import format_problems, python_files, skip_reason

REPO = Path(__file__).resolve().parents[2]
SCHEMA = REPO.parent / "shared" / "monai_schema" / "meta_schema_20240725.json"
BUNDLES = sorted(p.parent for p in REPO.glob("bundles/*/configs") if (p / "metadata.json").is_file())

# small settings that make one bundle train in seconds: source training, and the training run in the venv
TINY = {
    "la_mutual_learning": {"features": 4, "patch_size": [16, 16, 16], "num_workers": 0, "num_labeled": 2, "max_iterations": 1, "val_interval": 1},
    "noisy_label_classification": {"epochs": 1, "batch_size": 16, "widths": [4, 8, 8, 8]},
    "cxr_single_positive": {"image_size": 32, "batch_size": 4, "num_workers": 0, "max_epochs": 1, "epoch_length": 1},
    "brats_mri_mutual_learning": {"features": 4, "patch_size": [16, 16, 16], "num_workers": 0, "num_labeled": 2, "max_iterations": 1, "val_interval": 1, "sw_overlap": 0.25},
    "pancreas_ct_mutual_learning": {"features": 4, "patch_size": [16, 16, 16], "num_workers": 0, "num_labeled": 2, "max_iterations": 1, "val_interval": 1, "sw_overlap": 0.25},
}
INFER = {
    "la_mutual_learning": {"sw_overlap": 0.25},
    "noisy_label_classification": {},
    "cxr_single_positive": {},
    "brats_mri_mutual_learning": {"sw_overlap": 0.25},
    "pancreas_ct_mutual_learning": {"sw_overlap": 0.25},
}


@pytest.fixture(scope="module")
def clean_python(tmp_path_factory) -> Path:
    """The python of a fresh venv that has this interpreter's packages but not noisymed."""
    site = Path(sysconfig.get_paths()["purelib"])
    if (site / "noisymed" / "__init__.py").is_file():
        pytest.skip(f"noisymed is installed as a copy in {site}: a venv sharing those packages cannot lack it")
    root = tmp_path_factory.mktemp("clean_venv")
    venv.EnvBuilder(with_pip=False).create(root)
    python = root / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], capture_output=True, text=True, check=True)
    Path(purelib.stdout.strip(), "project_packages.pth").write_text(f"{site}\n")
    return python


def _run(python: Path, args: list, cwd: Path, timeout: int = 600) -> str:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    proc = subprocess.run([str(python), *map(str, args)], cwd=cwd, env=env, capture_output=True, encoding="utf-8", errors="replace", timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def _example_input(name: str, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if name == "la_mutual_learning":
        demo = ensure_la_demo(folder / "demo", num_train=2, num_test=1, shape=(32, 32, 24))
        return export_demo_inputs(demo, folder / "case")[0]
    if name == "brats_mri_mutual_learning":
        import nibabel as nib

        nib.save(nib.Nifti1Image(make_la_like_case(0, (32, 32, 24))[0], np.eye(4)), folder / "case.nii.gz")
        return folder / "case.nii.gz"
    if name == "pancreas_ct_mutual_learning":
        import nibabel as nib

        from tests.pancreas_cases import ct_like_volume

        nib.save(nib.Nifti1Image(ct_like_volume(0)[0], np.eye(4)), folder / "ct.nii.gz")
        return folder / "ct.nii.gz"
    image = make_classification_image(True, 0, 28) if name == "noisy_label_classification" else make_cxr_like_image(("Mass",), 0, 64)
    Image.fromarray(image).save(folder / "case.png")
    return folder / "case.png"


@pytest.mark.slow
@pytest.mark.parametrize("bundle", BUNDLES, ids=[b.name for b in BUNDLES])
def test_exported_bundle_passes_the_zoo_checks_without_noisymed(bundle, tmp_path, clean_python):
    if bundle.name not in TINY:
        pytest.skip(f"add tiny training settings for {bundle.name} to TINY in {Path(__file__).name}")
    source = tmp_path / bundle.name
    for part in ("configs", "docs"):
        (source / part).mkdir(parents=True)
        for f in (bundle / part).iterdir():
            if f.is_file():
                (source / part / f.name).write_bytes(f.read_bytes())
    (source / "LICENSE").write_bytes((bundle / "LICENSE").read_bytes())
    with pytest.raises(FileNotFoundError, match="models/model.pt.*no trained weights"):
        export_bundle(source, tmp_path / "dist")

    torch.set_num_threads(1)
    bundle_run(config_file=str(source / "configs" / "train.json"), logging_file=str(source / "configs" / "logging.conf"), bundle_root=str(source), **TINY[bundle.name])
    report = export_bundle(source, tmp_path / "dist", weights="fp16")
    exported = tmp_path / "dist" / bundle.name
    assert report["weights"]["dtype"] == "float16" and report["weights"]["fp16_check"]["max_rel"] <= 1e-3
    state = torch.load(exported / "models" / "model.pt", weights_only=True)
    assert {v.dtype for v in state.values() if v.is_floating_point()} == {torch.float16}
    assert (tmp_path / "dist" / f"{bundle.name}_v{report['version']}.zip").is_file()
    meta = json.loads((exported / "configs" / "metadata.json").read_text())
    assert "noisymed" not in meta["required_packages_version"] and "pytorch-ignite" in meta["required_packages_version"]
    assert "noisymed" not in json.dumps(meta["optional_packages_version"])
    if skip_reason() is None:  # the zoo's code-format checks over the vendored code (flake8, isort, black)
        problems = format_problems(python_files(exported / "scripts"), cwd=exported)
        assert not problems, "\n".join(f"== {tool}\n{out[-4000:]}" for tool, out in problems.items())

    checks = [zoo_checks.__file__, exported, "--forbid", "noisymed"] + (["--schema", SCHEMA] if SCHEMA.is_file() else [])
    out = _run(clean_python, ["-P", *checks], cwd=tmp_path)
    for step in ("not importable: noisymed", "verify_net_in_out", "ckpt_export", "check_properties(train)", "check_properties(infer)"):
        assert f"passed: {step}" in out, out
    assert ("passed: verify_metadata" in out) == SCHEMA.is_file()

    overrides = [a for k, v in TINY[bundle.name].items() for a in (f"--{k}", json.dumps(v))]
    run = ["-m", "monai.bundle", "run", "--logging_file", "configs/logging.conf"]
    _run(clean_python, [*run, "--config_file", "configs/train.json", "--bundle_root", tmp_path / "retrain", *overrides], cwd=exported)
    assert (tmp_path / "retrain" / "models" / "model.pt").is_file()
    image = _example_input(bundle.name, tmp_path / "inputs")
    infer = [a for k, v in INFER[bundle.name].items() for a in (f"--{k}", json.dumps(v))]
    _run(clean_python, [*run, "--config_file", "configs/inference.json", "--input", image, "--output_dir", tmp_path / "out", *infer], cwd=exported)
    assert any(p.is_file() for p in (tmp_path / "out").rglob("*"))
