from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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
