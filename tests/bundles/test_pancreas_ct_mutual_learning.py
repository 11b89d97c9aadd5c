"""The Pancreas-CT bundle, run tiny on generated CT: metadata, network I/O, TorchScript export, the protocol's settings,
DICOM series + label NIfTI -> prepare -> train -> resume -> evaluate (decoder A and mean) -> infer on DICOM and NIfTI
with the mask in the source geometry, and bad inputs named."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import SimpleITK as sitk
import torch
from monai.bundle import ConfigParser, verify_net_in_out
from monai.bundle import run as bundle_run

from noisymed.data import prepare_pancreas
from noisymed.networks import TwoDecoderVNet
from tests.conftest import check_model_zoo_layout, check_torchscript_export, exception_messages, parse_error
from tests.pancreas_cases import SHAPE, ct_like_volume, write_ct_series, write_tcia_case

BUNDLE = Path(__file__).resolve().parents[2] / "bundles" / "pancreas_ct_mutual_learning"
CONFIGS = BUNDLE / "configs"
TINY = {"features": 4, "patch_size": [16, 16, 16], "num_workers": 0, "sw_overlap": 0.25}


def test_model_zoo_layout_and_shipped_split():
    meta = check_model_zoo_layout(BUNDLE)
    assert meta["network_data_format"]["inputs"]["image"]["modality"] == "CT"
    assert meta["network_data_format"]["outputs"]["pred"]["channel_def"] == {"0": "background", "1": "pancreas"}
    train = (BUNDLE / "splits" / "train.list").read_text().split()
    test = (BUNDLE / "splits" / "test.list").read_text().split()
    assert len(train) == 62 and len(test) == 20 and sorted(train + test) == [f"image{i:04d}" for i in range(1, 83)]
    assert train[:6] == ["image0057", "image0018", "image0062", "image0031", "image0020", "image0017"]  # MC-Net's order


def test_protocol_settings():
    """Patch 96³, batch 2 + 2, random crop only (no flip, no rotation), sliding window stride 16, 6 labeled."""
    from monai.inferers.utils import _get_scan_interval

    parser = ConfigParser()
    parser.read_config(str(CONFIGS / "train.json"))
    assert parser["patch_size"] == [96, 96, 96] and parser["num_labeled"] == 6
    assert (parser["labeled_batch_size"], parser["unlabeled_batch_size"]) == (2, 2)
    random = [t["_target_"] for t in parser["train#augmentation"] if t["_target_"].split(".")[-1].startswith("Rand")]
    assert random == ["RandSpatialCropd"]
    for name in ("train.json", "inference.json"):
        p = ConfigParser()
        p.read_config(str(CONFIGS / name))
        assert _get_scan_interval((200, 200, 200), (96, 96, 96), 3, (p["sw_overlap"],) * 3) == (16, 16, 16), name


def test_verify_net_in_out():
    verify_net_in_out(
        net_id="network_def", meta_file=str(CONFIGS / "metadata.json"), config_file=str(CONFIGS / "inference.json"),
        n=1, device="cpu", features=4,
    )  # fmt: skip


def test_ckpt_export_torchscript_equals_eager(tmp_path):
    torch.manual_seed(0)
    net = TwoDecoderVNet(in_channels=1, features=4, decoder="mean")
    check_torchscript_export(CONFIGS, net, torch.randn(1, 1, 16, 16, 16), tmp_path, features=4, decoder="mean")


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """Five TCIA-like patients (DICOM + label NIfTI) prepared; train.list 0001-0004 and the absent 0025, test.list 0005."""
    root = tmp_path_factory.mktemp("pancreas")
    for n in range(1, 6):
        write_tcia_case(root / "Pancreas-CT", root / "labels", n)
    out = root / "prepared"
    prepare_pancreas("tcia", root / "Pancreas-CT", out, label_dir=root / "labels", margin=4, min_size=16)
    (out / "train.list").write_text("image0001\nimage0002\nimage0025\nimage0003\nimage0004\n")
    (out / "test.list").write_text("image0005\n")
    return root


def _train(root: Path, data: Path, **overrides):
    args = {**TINY, "bundle_root": str(root), "dataset_dir": str(data), "train_list": "train.list", "num_labeled": 2,
            "max_iterations": 4, "val_interval": 2, "rampup_interval": 1, **overrides}  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # image0025 is skipped with a warning (tested in tests/data)
        bundle_run(config_file=[str(CONFIGS / "train.json")], logging_file=str(CONFIGS / "logging.conf"), **args)


def _ras_affine(image: sitk.Image) -> np.ndarray:
    affine = np.eye(4)
    affine[:3, :3] = np.asarray(image.GetDirection()).reshape(3, 3) @ np.diag(image.GetSpacing())
    affine[:3, 3] = image.GetOrigin()
    return np.diag([-1.0, -1.0, 1.0, 1.0]) @ affine


def test_dicom_to_mask_in_source_geometry(tmp_path, prepared):
    data = prepared / "prepared"
    _train(tmp_path, data)
    models = tmp_path / "models"
    net = TwoDecoderVNet(in_channels=1, features=4)
    net.load_state_dict(torch.load(models / "model.pt", map_location="cpu", weights_only=True))
    assert torch.load(models / "checkpoint_final.pt", weights_only=False)["trainer"]["iteration"] == 4
    _train(tmp_path, data, resume=True, max_iterations=6)  # resumes at iteration 4, runs to 6
    assert torch.load(models / "checkpoint_final.pt", weights_only=False)["trainer"]["iteration"] == 6

    bundle_run(
        config_file=[str(CONFIGS / "train.json"), str(CONFIGS / "evaluate.json")],
        logging_file=str(CONFIGS / "logging.conf"),
        **{**TINY, "bundle_root": str(tmp_path), "dataset_dir": str(data), "eval_list": "test.list"},
    )
    for decoder in ("decoder_a", "decoder_mean"):  # both outputs reported
        summary = dict(line.split(",")[:2] for line in (tmp_path / "eval" / decoder / "metrics.csv").read_text().split())
        assert set(summary) == {"dice", "jaccard", "hd95_voxel", "asd_voxel", "hd95_mm", "asd_mm"}, decoder
        assert [r.split(",")[0] for r in (tmp_path / "eval" / decoder / "dice_raw.csv").read_text().splitlines()[1:]] == ["image0005"]

    # inference on the DICOM series of a patient, and on the same CT as NIfTI
    series = next((prepared / "Pancreas-CT" / "PANCREAS_0005").rglob("*.dcm")).parent
    ct = sitk.ReadImage(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(series)))
    sitk.WriteImage(ct, str(tmp_path / "ct0005.nii.gz"))
    for name, source in (("Pancreas-1", series), ("ct0005", tmp_path / "ct0005.nii.gz")):
        bundle_run(
            config_file=str(CONFIGS / "inference.json"), logging_file=str(CONFIGS / "logging.conf"),
            **{**TINY, "bundle_root": str(tmp_path), "input": str(source)},
        )  # fmt: skip
        mask = nib.load(tmp_path / "output" / f"{name}_seg.nii.gz")
        assert mask.shape == SHAPE and np.allclose(mask.affine, _ras_affine(ct), atol=1e-4), name
        values = np.asarray(mask.dataobj)
        assert set(np.unique(values)) <= {0, 1}
        hu = sitk.GetArrayFromImage(ct).transpose(2, 1, 0)
        assert not values[hu < -125].any()  # air outside the body: cropped away at inference, padded back as 0


def test_reruns_are_refused_unless_resumed_or_overwritten(tmp_path, prepared):
    """A second training into models/ stops before writing; --resume true continues. An inference or evaluation
    rerun stops on the earlier outputs; --overwrite true replaces them. A model of another width is refused by name."""
    data = prepared / "prepared"
    _train(tmp_path, data, max_iterations=2, val_interval=2)
    models = tmp_path / "models"
    before = {p.name: p.stat().st_mtime_ns for p in models.iterdir()}
    with pytest.raises(Exception) as err:
        _train(tmp_path, data, max_iterations=2, val_interval=2)
    assert "pass --resume true" in exception_messages(err.value)
    assert {p.name: p.stat().st_mtime_ns for p in models.iterdir()} == before  # nothing written
    _train(tmp_path, data, resume=True, max_iterations=4, val_interval=2)
    assert torch.load(models / "checkpoint_final.pt", weights_only=False)["trainer"]["iteration"] == 4
    settings = json.loads((models / "model_settings.json").read_text())
    assert settings["pixdim"] == [1.0, 1.0, 1.0] and settings["window"] == [-125.0, 275.0] and settings["features"] == 4

    series = next((prepared / "Pancreas-CT" / "PANCREAS_0005").rglob("*.dcm")).parent
    sitk.WriteImage(sitk.ReadImage(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(series))), str(tmp_path / "ct.nii.gz"))
    infer = {"bundle_root": str(tmp_path), "input": str(tmp_path / "ct.nii.gz"), "sw_overlap": 0.25}  # settings adopted
    run_infer = {"config_file": str(CONFIGS / "inference.json"), "logging_file": str(CONFIGS / "logging.conf")}
    bundle_run(**run_infer, **infer)
    mask = tmp_path / "output" / "ct_seg.nii.gz"
    mask.write_bytes(b"an earlier run's mask")
    with pytest.raises(Exception) as err:
        bundle_run(**run_infer, **infer)
    assert str(mask) in exception_messages(err.value) and mask.read_bytes() == b"an earlier run's mask"
    bundle_run(**run_infer, overwrite=True, **infer)
    assert nib.load(mask).shape == SHAPE

    with pytest.raises(Exception) as err:
        bundle_run(**run_infer, **{**infer, "features": 8, "overwrite": True})
    assert "features: trained with 4, this run has 8" in exception_messages(err.value)

    evaluate = {**TINY, "bundle_root": str(tmp_path), "dataset_dir": str(data), "eval_list": "test.list"}
    configs = [str(CONFIGS / "train.json"), str(CONFIGS / "evaluate.json")]
    bundle_run(config_file=configs, logging_file=str(CONFIGS / "logging.conf"), **evaluate)
    with pytest.raises(Exception) as err:
        bundle_run(config_file=configs, logging_file=str(CONFIGS / "logging.conf"), **evaluate)
    assert str(tmp_path / "eval" / "decoder_a" / "metrics.csv") in exception_messages(err.value)
    bundle_run(config_file=configs, logging_file=str(CONFIGS / "logging.conf"), overwrite=True, **evaluate)


def test_bad_inputs_stop_with_a_named_error(tmp_path, prepared):
    parser = ConfigParser()
    parser.read_config(str(CONFIGS / "train.json"))
    parser.update({"bundle_root": str(tmp_path), "dataset_dir": str(tmp_path / "nowhere")})  # none: the demo set
    assert f"{tmp_path / 'nowhere'}: dataset folder not found" in parse_error(parser, "split")
    parser.update({"dataset_dir": str(prepared / "prepared"), "train_list": ["image0001", "image0009"]})
    expected = prepared / "prepared" / "imagesTr" / "image0009.nii.gz"
    assert f"{expected}: case image0009 is listed in the case list but absent" in parse_error(parser, "split")
    parser.update({"train_list": "train.list", "num_labeled": 9})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert "fewer than num_labeled=9" in parse_error(parser, "split")

    hu, _ = ct_like_volume(0)
    write_ct_series(tmp_path / "raw", hu, rescale=False)
    nib.save(nib.Nifti1Image(np.zeros((16, 16), np.int16), np.eye(4)), tmp_path / "slice.nii.gz")
    inf = ConfigParser()
    inf.read_config(str(CONFIGS / "inference.json"))
    inf.update({"bundle_root": str(tmp_path), "input": str(tmp_path / "nowhere")})
    assert f"{tmp_path / 'nowhere'}: input not found" in parse_error(inf, "datalist")
    # the CT itself is checked where the preprocessing loads it (the datalist reads no file)
    inf.update({"input": str(tmp_path / "raw")})
    with pytest.raises(Exception) as err:
        inf.get_parsed_content("preprocessing")(inf.get_parsed_content("datalist")[0])
    assert "lacks the HU rescale tag(s) ['RescaleSlope', 'RescaleIntercept']" in exception_messages(err.value)
    inf.update({"input": str(tmp_path / "slice.nii.gz")})
    with pytest.raises(Exception) as err:
        inf.get_parsed_content("preprocessing")(inf.get_parsed_content("datalist")[0])
    assert f"{tmp_path / 'slice.nii.gz'}" in exception_messages(err.value) and "2D" in exception_messages(err.value)


def test_pancreas_h5_folder_is_read_as_it_is(tmp_path):
    """The literature's files are already preprocessed: the bundle loads them unchanged, at 1 mm."""
    import h5py

    from tests.pancreas_cases import write_h5_case

    for i in (1, 2, 3):
        write_h5_case(tmp_path, f"image{i:04d}", seed=i)
    parser = ConfigParser()
    parser.read_config(str(CONFIGS / "train.json"))
    parser.update({"dataset_dir": str(tmp_path), "train_list": ["image0001", "image0002"], "val_list": ["image0003"], "num_labeled": 1})
    split = parser.get_parsed_content("split")
    assert [i["case"] for i in split["labeled"]] == ["image0001"] and [i["case"] for i in split["val"]] == ["image0003"]
    out = parser.get_parsed_content("validate#preprocessing")(split["val"][0])
    with h5py.File(tmp_path / "image0003_norm.h5") as f:
        image, label = f["image"][()], f["label"][()]
    assert np.array_equal(out["image"][0].numpy(), image) and np.array_equal(out["label"][0].numpy(), label)
    assert np.allclose(out["image"].pixdim, 1.0)
