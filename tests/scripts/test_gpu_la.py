"""gpu_la.sh on the CPU with a few iterations: unpack a pack, train and evaluate one arm (with LA_AMP and
LA_CHANNELS_LAST on), results under $OUT."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

import pack_la  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


def test_gpu_script_tiny_on_cpu(tmp_path):
    from noisymed.data import ensure_la_demo

    data = ensure_la_demo(tmp_path / "data", num_train=5, num_test=1, shape=(32, 32, 32))
    pack = tmp_path / "la.pack"
    pack_la.pack(data, pack, "train.list", (16, 16, 16), 0, 63)
    out = tmp_path / "out"
    env = {
        **os.environ,
        "OUT": str(out),
        "PYTHON": sys.executable,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        "LA_ARMS": "mutual2", "LA_ITERATIONS": "2", "LA_VAL_INTERVAL": "1", "LA_PATCH": "[16, 16, 16]",
        "LA_FEATURES": "4", "LA_PIXDIM": "1.25", "LA_STRIDE": "[8, 8, 8]", "LA_NUM_VAL": "1", "LA_JOBS": "1",
        "LA_THREADS": "1", "LA_AMP": "true", "LA_CHANNELS_LAST": "true",
    }  # fmt: skip
    proc = subprocess.run(["bash", str(REPO / "scripts" / "gpu_la.sh"), str(pack)], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "running on the CPU" in proc.stdout
    result = json.loads((out / "bench_la_gpu.json").read_text())
    assert result["protocol"]["sw_stride"] == "[8, 8, 8]" and result["protocol"]["sw_average"] == "probs"
    overrides = result["runs"]["mutual2"]["seed1337"]["overrides"]
    assert overrides["amp"] == "true" and overrides["channels_last"] == "true"  # bfloat16 autocast on the CPU
    assert result["summary"]["complete"] and 0.0 <= result["runs"]["mutual2"]["seed1337"]["metrics"]["dice"] <= 1.0
    assert (out / "bench_la_gpu.png").is_file() and (out / "la80" / "train.list").is_file()
