"""The LA bundle, run tiny: metadata, network I/O, TorchScript export, train/resume/evaluate/infer, multi-GPU."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from monai.bundle import ConfigParser, verify_net_in_out
from monai.bundle import run as bundle_run

from noisymed.data import ensure_la_demo, export_demo_inputs, write_dicom_series
from noisymed.networks import TwoDecoderVNet
from tests.conftest import check_model_zoo_layout, check_torchscript_export, exception_messages, parse_error, run_multi_gpu_bundle

BUNDLE = Path(__file__).resolve().parents[2] / "bundles" / "la_mutual_learning"
CONFIGS = BUNDLE / "configs"
TINY = {"features": 4, "patch_size": [16, 16, 16], "num_workers": 0, "sw_overlap": 0.25}


def test_model_zoo_layout():
    check_model_zoo_layout(BUNDLE)


def test_verify_net_in_out():
    verify_net_in_out(
        net_id="network_def",
        meta_file=str(CONFIGS / "metadata.json"),
        config_file=str(CONFIGS / "inference.json"),
        n=1,
        device="cpu",
        features=4,
    )


def test_ckpt_export_torchscript_equals_eager(tmp_path):
    torch.manual_seed(0)
    net = TwoDecoderVNet(features=4, decoder="mean")
    check_torchscript_export(CONFIGS, net, torch.randn(1, 1, 32, 32, 16), tmp_path, features=4, decoder="mean")


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory):
    return ensure_la_demo(tmp_path_factory.mktemp("la") / "demo", num_train=4, num_test=2, shape=(32, 32, 32))


def _train(root: Path, data: Path, **overrides):
    args = {
        **TINY,
        "bundle_root": str(root),
        "dataset_dir": str(data),
        "num_labeled": 2,
        "val_list": "test.list",
        "max_iterations": 4,
        "val_interval": 2,
        "rampup_interval": 1,
        **overrides,
    }
    bundle_run(config_file=[str(CONFIGS / "train.json")], logging_file=str(CONFIGS / "logging.conf"), **args)


def test_train_resume_evaluate_and_infer_nifti_and_dicom(tmp_path, demo_root):
    import nibabel as nib
    import SimpleITK as sitk

    _train(tmp_path, demo_root)
    models = tmp_path / "models"
    state = torch.load(models / "model.pt", map_location="cpu", weights_only=True)
    net = TwoDecoderVNet(features=4)
    net.load_state_dict(state)  # model.pt is the plain state dict of the inference network
    full = torch.load(models / "checkpoint_final.pt", map_location="cpu", weights_only=False)
    assert {"model", "optimizer", "trainer"} <= set(full) and full["trainer"]["iteration"] == 4
    assert any((tmp_path / "runs").iterdir())  # TensorBoard events

    _train(tmp_path, demo_root, resume=True, max_iterations=6)  # resumes at iteration 4, runs to 6
    assert torch.load(models / "checkpoint_final.pt", weights_only=False)["trainer"]["iteration"] == 6

    bundle_run(
        config_file=[str(CONFIGS / "train.json"), str(CONFIGS / "evaluate.json")],
        logging_file=str(CONFIGS / "logging.conf"),
        **{**TINY, "bundle_root": str(tmp_path), "dataset_dir": str(demo_root), "eval_list": "test.list"},
    )
    summary = dict(line.split(",") for line in (tmp_path / "eval" / "metrics.csv").read_text().split())
    assert set(summary) == {
        "dice", "jaccard", "hd95_voxel", "asd_voxel", "hd95_mm", "asd_mm", "hd95_strict", "asd_strict", "empty_pred"
    }  # fmt: skip
    assert float(summary["empty_pred"]) in (0.0, 0.5, 1.0)  # mean over the two test cases
    if float(summary["empty_pred"]) == 0.0:  # no failed case: the strict distances are the literature's
        assert float(summary["hd95_strict"]) == pytest.approx(float(summary["hd95_voxel"]), rel=1e-5)
    per_case = (tmp_path / "eval" / "dice_raw.csv").read_text().splitlines()
    assert per_case[0].startswith("filename") and [r.split(",")[0] for r in per_case[1:]] == ["DEMO004", "DEMO005"]
    assert 0.0 <= float(summary["dice"]) <= 1.0
    assert (tmp_path / "eval" / "overlay_DEMO004.png").is_file()  # the slice overlay of the first case (save_overlay)

    nifti, dicom = export_demo_inputs(demo_root, tmp_path / "inputs")
    out = tmp_path / "output"
    for source in (nifti, dicom):
        bundle_run(
            config_file=str(CONFIGS / "inference.json"),
            logging_file=str(CONFIGS / "logging.conf"),
            **{**TINY, "bundle_root": str(tmp_path), "input": str(source)},
        )
    mask = nib.load(out / f"{nifti.name[:-7]}_seg.nii.gz")
    src = nib.load(nifti)
    assert mask.shape == src.shape and np.allclose(mask.affine, src.affine, atol=1e-5)
    assert set(np.unique(np.asarray(mask.dataobj))) <= {0, 1}
    dcm_mask = sitk.ReadImage(str(out / f"{dicom.name}_seg.nii.gz"))
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(dicom)))
    series = reader.Execute()
    assert dcm_mask.GetSize() == series.GetSize()
    assert np.allclose(dcm_mask.GetOrigin(), series.GetOrigin(), atol=1e-4)
    assert np.allclose(dcm_mask.GetSpacing(), series.GetSpacing(), atol=1e-5)
    assert np.allclose(dcm_mask.GetDirection(), series.GetDirection(), atol=1e-5)
    # the same volume through both paths gives the same mask (x, y, z order in both)
    nifti_mask = np.asarray(mask.dataobj)
    assert np.array_equal(sitk.GetArrayFromImage(dcm_mask).transpose(2, 1, 0), nifti_mask)



def test_amp_and_channels_last_from_the_command_line(tmp_path, demo_root):
    """``python -m monai.bundle run ... --amp true --channels_last true`` trains (bfloat16 autocast on the CPU,
    channels-last network and batches), validates, and the model then segments with both options on."""
    import os
    import subprocess
    import sys

    repo = str(BUNDLE.parents[1])
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(filter(None, [repo, os.environ.get("PYTHONPATH")]))}
    cmd = [
        sys.executable, "-m", "monai.bundle", "run", "--config_file", str(CONFIGS / "train.json"),
        "--logging_file", str(CONFIGS / "logging.conf"), "--bundle_root", str(tmp_path), "--dataset_dir", str(demo_root),
        "--num_labeled", "2", "--val_list", "test.list", "--max_iterations", "2", "--val_interval", "1",
        "--rampup_interval", "1", "--features", "4", "--patch_size", "[16, 16, 16]", "--num_workers", "0",
        "--sw_overlap", "0.25", "--amp", "true", "--channels_last", "true",
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, encoding="utf-8", errors="replace", timeout=600, env=env, cwd=BUNDLE)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "val_mean_dice" in proc.stdout + proc.stderr
    ckpt = torch.load(tmp_path / "models" / "checkpoint_final.pt", map_location="cpu", weights_only=True)
    assert ckpt["trainer"]["iteration"] == 2 and "scaler" not in ckpt  # no CUDA: MONAI's scaler is disabled
    assert all(torch.isfinite(v).all() for v in ckpt["model"].values() if v.is_floating_point())
    net = TwoDecoderVNet(features=4)
    net.load_state_dict(torch.load(tmp_path / "models" / "model.pt", map_location="cpu", weights_only=True))

    parser = ConfigParser()
    parser.read_config(str(CONFIGS / "train.json"))
    parser.update({**TINY, "bundle_root": str(tmp_path), "dataset_dir": str(demo_root), "num_labeled": 2,
                   "val_list": "test.list", "resume": True, "amp": "true", "channels_last": "true"})  # fmt: skip
    trainer, network = parser.get_parsed_content("train#trainer"), parser.get_parsed_content("network")
    assert trainer.amp is True and trainer.channels_last is True and parser.get_parsed_content("validate#evaluator").amp is True
    conv = next(m for m in network.modules() if isinstance(m, torch.nn.Conv3d) and m.in_channels > 1)
    assert conv.weight.is_contiguous(memory_format=torch.channels_last_3d)

    nifti, _ = export_demo_inputs(demo_root, tmp_path / "inputs")
    bundle_run(
        config_file=str(CONFIGS / "inference.json"),
        logging_file=str(CONFIGS / "logging.conf"),
        **{**TINY, "bundle_root": str(tmp_path), "input": str(nifti), "amp": "true", "channels_last": "true"},
    )
    assert (tmp_path / "output" / f"{nifti.name[:-7]}_seg.nii.gz").is_file()


def test_bad_inputs_stop_with_a_named_error(tmp_path, demo_root):
    parser = ConfigParser()
    parser.read_config(str(CONFIGS / "train.json"))
    parser.update({"bundle_root": str(tmp_path), "dataset_dir": str(tmp_path / "missing")})
    assert f"{tmp_path / 'missing'}: dataset folder not found" in parse_error(parser, "split")
    parser.update({"dataset_dir": str(demo_root), "num_labeled": 40})
    assert "fewer than num_labeled=40" in parse_error(parser, "split")

    mixed = tmp_path / "mixed"
    vol = np.zeros((8, 8, 3), np.int16)
    write_dicom_series(vol, mixed, series_uid="1.2.3.1")
    write_dicom_series(vol, mixed / "second", series_uid="1.2.3.2")
    for f in (mixed / "second").iterdir():
        f.rename(mixed / f"b_{f.name}")
    inf = ConfigParser()
    inf.read_config(str(CONFIGS / "inference.json"))
    inf.update({**TINY, "bundle_root": str(tmp_path), "input": str(mixed)})
    with pytest.raises(Exception) as err:
        inf.get_parsed_content("dataset")[0]
    message = exception_messages(err.value)
    assert "1.2.3.1" in message and "1.2.3.2" in message and str(mixed) in message
    inf.update({"input": str(tmp_path / "nothing.nii.gz")})
    assert "nothing.nii.gz: input not found" in parse_error(inf, "datalist")


def test_multi_gpu_config_under_torchrun_gloo(tmp_path, demo_root):
    proc = run_multi_gpu_bundle(
        CONFIGS,
        "--bundle_root", str(tmp_path), "--dataset_dir", str(demo_root), "--num_labeled", "2",
        "--features", "4", "--patch_size", "[16,16,16]", "--num_workers", "0",
        "--labeled_batch_size", "1", "--unlabeled_batch_size", "1",
        "--max_iterations", "2", "--val_interval", "1", "--val_list", "test.list",
    )  # fmt: skip
    ckpt = torch.load(tmp_path / "models" / "checkpoint_final.pt", weights_only=False)
    assert ckpt["trainer"]["iteration"] == 2
    assert not any(k.startswith("module.") for k in ckpt["model"])  # the plain network is saved, not DDP
    # validation ran on both ranks (one test case each) and rank 0 kept the best model
    assert "val_mean_dice" in proc.stdout + proc.stderr and (tmp_path / "models" / "model.pt").is_file()
