"""The float16 check through the bundle's own evaluation: a noisy-label model trained one epoch on generated data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from monai.bundle import run as bundle_run

from noisymed.export import compare_fp16_evaluation, compare_prediction_files, read_metrics_csv
from noisymed.export.fp16_check import main
from tests.bundles.test_noisy_label_classification import _toy_npz

BUNDLE = Path(__file__).resolve().parents[2] / "bundles" / "noisy_label_classification"
# wide enough that the weights, not the file's per-tensor overhead, make up the size of model.pt
TRAIN = {"backbone": "resnet10", "widths": [16, 32, 64, 128], "epochs": 1, "batch_size": 16, "num_workers": 0}


def _listing(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}


def test_fp16_check_runs_the_bundle_evaluation_twice_and_compares(tmp_path):
    toy = _toy_npz(tmp_path / "toy.npz")
    run = tmp_path / "run"
    torch.set_num_threads(1)
    bundle_run(
        config_file=str(BUNDLE / "configs" / "train.json"), logging_file=str(BUNDLE / "configs" / "logging.conf"),
        bundle_root=str(run), dataset=str(toy), **TRAIN,
    )  # fmt: skip
    before = _listing(run)
    out = tmp_path / "check" / "result.json"
    code = main([str(BUNDLE), "--bundle_root", str(run), "--override", f"dataset={json.dumps(str(toy))}",
                 "--work_dir", str(tmp_path / "work"), "--out", str(out)])  # fmt: skip
    assert code == 0
    result = json.loads(out.read_text(encoding="utf-8"))
    assert _listing(run) == before  # the trained run is only read

    assert {"val_acc", "val_auc"} <= set(result["fp32"]) and set(result["fp16"]) == set(result["fp32"])
    assert result["difference"]["val_acc"] == result["fp16"]["val_acc"] - result["fp32"]["val_acc"]
    assert result["file_mb"]["fp32"] == pytest.approx((run / "models" / "model.pt").stat().st_size / 1e6)
    assert 0.45 <= result["file_mb"]["fp16"] / result["file_mb"]["fp32"] <= 0.56
    predictions = result["predictions"]
    assert predictions["kind"] == "probabilities" and predictions["samples"] == 16
    assert 0.0 <= predictions["argmax_agreement"] <= 1.0 and 0.0 <= predictions["max_abs_difference"] < 0.05

    work = tmp_path / "work"
    half = torch.load(work / "fp16" / "models" / "model.pt", weights_only=True)
    assert {v.dtype for v in half.values() if v.is_floating_point()} == {torch.float16}
    assert (work / "fp16" / "models" / "model_settings.json").is_file()
    assert (work / "fp32" / "models" / "model.pt").read_bytes() == (run / "models" / "model.pt").read_bytes()
    with pytest.raises(FileExistsError, match="fp32 already exists"):
        compare_fp16_evaluation(BUNDLE, run, overrides={"dataset": str(toy)}, work_dir=work)


def test_missing_model_and_reserved_overrides_are_refused(tmp_path, capsys):
    with pytest.raises(FileNotFoundError, match=r"empty/models/model\.pt: no trained weights"):
        compare_fp16_evaluation(BUNDLE, tmp_path / "empty")
    assert main([str(BUNDLE), "--bundle_root", str(tmp_path / "empty")]) == 1
    assert "empty/models/model.pt: no trained weights" in capsys.readouterr().err
    (tmp_path / "run" / "models").mkdir(parents=True)
    torch.save({"w": torch.zeros(2)}, tmp_path / "run" / "models" / "model.pt")
    with pytest.raises(ValueError, match="eval_dir"):
        compare_fp16_evaluation(BUNDLE, tmp_path / "run", overrides={"eval_dir": "x"})


def test_metrics_and_prediction_files_are_read_in_both_formats(tmp_path):
    (tmp_path / "comma.csv").write_text("val_acc,0.75\nval_auc,0.8\n")
    (tmp_path / "tab.csv").write_text("map\t0.125\nnote\tn/a\n")
    assert read_metrics_csv(tmp_path / "comma.csv") == {"val_acc": 0.75, "val_auc": 0.8}
    assert read_metrics_csv(tmp_path / "tab.csv") == {"map": 0.125}

    header = "id,score:a,score:b,label:a,label:b\n"
    (tmp_path / "p32.csv").write_text(header + "x.png,0.6,0.3,1,0\ny.png,0.2,0.45,0,1\n")
    (tmp_path / "p16.csv").write_text(header + "y.png,0.2,0.55,0,1\nx.png,0.6,0.3,1,0\n")  # other order
    cmp = compare_prediction_files(tmp_path / "p32.csv", tmp_path / "p16.csv")
    assert cmp["kind"] == "multilabel" and cmp["samples"] == 2 and cmp["argmax_agreement"] == 1.0
    assert cmp["max_abs_difference"] == pytest.approx(0.1) and cmp["decision_agreement_at_0.5"] == 0.75
