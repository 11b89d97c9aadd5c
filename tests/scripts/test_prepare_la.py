from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def test_prepare_la_cli(tiny_la, tmp_path):
    out = tmp_path / "nifti"
    proc = subprocess.run(
        [sys.executable, str(SCRIPTS / "prepare_la.py"), "--dataset_dir", str(tiny_la), "--output_dir", str(out)],
        capture_output=True, encoding="utf-8", errors="replace",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "train: 5, test: 1" in proc.stdout
    datalist = json.loads((out / "datalist.json").read_text())
    assert (out / datalist["test"][0]["label"]).is_file()


def test_prepare_la_cli_names_the_missing_folder(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(SCRIPTS / "prepare_la.py"), "--dataset_dir", str(tmp_path / "x"), "--output_dir", str(tmp_path)],
        capture_output=True, encoding="utf-8", errors="replace",
    )  # fmt: skip
    assert proc.returncode == 2 and "x: dataset folder not found" in proc.stderr



def _prepare_main():
    import importlib.util

    spec = importlib.util.spec_from_file_location("prepare_la", SCRIPTS / "prepare_la.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def test_prepare_la_rerun_rebuilds_a_cut_file_and_refuses_another_spacing(tiny_la, tmp_path, capsys):
    main = _prepare_main()
    out = tmp_path / "nifti"
    args = ["--dataset_dir", str(tiny_la), "--output_dir", str(out)]
    assert main(args) == 0
    cut = out / "imagesTr" / "CASE1.nii.gz"
    cut.write_bytes(cut.read_bytes()[:100])
    with pytest.warns(UserWarning, match=r"CASE1.nii.gz: incomplete: .*writing it again"):
        assert main(args) == 0
    assert "wrote train: 5, test: 1" in capsys.readouterr().out
    assert main(args + ["--spacing", "1", "1", "1"]) == 2
    err = capsys.readouterr().err
    assert "CASE0.nii.gz already exists" in err and "--overwrite" in err
    assert main(args + ["--spacing", "1", "0", "1"]) == 2
    assert "--spacing must be 3 finite positive numbers" in capsys.readouterr().err
