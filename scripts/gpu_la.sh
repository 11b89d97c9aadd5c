#!/usr/bin/env bash
# The LA paper's full protocol on a GPU machine, one command (results under $OUT):
#
#     bash scripts/gpu_la.sh la80.pack
#
# la80.pack comes from `python scripts/pack_la.py pack --out la80.pack` (54 MiB, fits a 64 MiB upload). The script
# unpacks it (once) and runs scripts/bench_la.py with the paper's settings: 16 filters, 112x112x80 patches at
# 0.625 mm, 15 000 iterations, batch 2 + 2 (full supervision: 4 labeled), lambda ramped over 40 % of training,
# evaluation with the official strides 18/18/4 and probability averaging, model chosen on the 12 validation cases
# (the last 12 of train.list), arms sup8, mutual8 and full, one seed. A killed run continues from its newest
# checkpoint when the script is started again with the same $OUT.
#
# Every setting can be overridden for a short check (e.g. on a CPU):
#   LA_ARMS LA_SEEDS LA_ITERATIONS LA_VAL_INTERVAL LA_PATCH LA_FEATURES LA_PIXDIM LA_STRIDE LA_NUM_VAL LA_JOBS
#   LA_THREADS, PYTHON (the interpreter); extra arguments after the pack go to bench_la.py.
# What the GPU offers, off by default (not measured on a GPU yet; each is part of a run's recorded settings):
#   LA_AMP=true            mixed precision (float16 autocast + GradScaler) in training and evaluation
#   LA_CHANNELS_LAST=true  network and inputs in channels_last_3d memory format
set -euo pipefail
cd "$(dirname "$0")/.."
pack="${1:?usage: bash scripts/gpu_la.sh PACK [bench_la.py options]}"
shift
OUT="${OUT:-$PWD/gpu_la_out}"
PYTHON="${PYTHON:-python}"
mkdir -p "$OUT"
pack="$(cd "$(dirname "$pack")" && pwd)/$(basename "$pack")"

echo "== environment"
"$PYTHON" - <<'PY'
import importlib
missing = [m for m in ("torch", "monai", "ignite", "h5py", "scipy", "numpy") if importlib.util.find_spec(m) is None]
if missing:
    raise SystemExit(f"missing packages: {', '.join(missing)}; install them (wheels) before running this script")
import torch, monai
print(f"torch {torch.__version__}, MONAI {monai.__version__}, CUDA available: {torch.cuda.is_available()}"
      + (f" ({torch.cuda.get_device_name(0)})" if torch.cuda.is_available() else " - running on the CPU"))
PY

data="$OUT/la80"
if [ ! -f "$data/train.list" ]; then
    echo "== unpacking $pack into $data"
    "$PYTHON" scripts/pack_la.py unpack --pack "$pack" --out "$data"
fi

echo "== training and evaluating (scripts/bench_la.py)"
"$PYTHON" scripts/bench_la.py --dataset_dir "$data" \
    --arms "${LA_ARMS:-sup8,mutual8,full}" --seeds "${LA_SEEDS:-1337}" \
    --iterations "${LA_ITERATIONS:-15000}" --val_interval "${LA_VAL_INTERVAL:-500}" \
    --pixdim "${LA_PIXDIM:-0.625}" --patch_size "${LA_PATCH:-[112, 112, 80]}" --features "${LA_FEATURES:-16}" \
    --rampup_fraction 0.4 --sw_stride "${LA_STRIDE:-[18, 18, 4]}" --sw_average probs \
    --num_val "${LA_NUM_VAL:-12}" --jobs "${LA_JOBS:-3}" --threads "${LA_THREADS:-4}" \
    --amp "${LA_AMP:-false}" --channels_last "${LA_CHANNELS_LAST:-false}" \
    --work_dir "$OUT/runs" --out "$OUT/bench_la_gpu.json" "$@"
echo "== results: $OUT/bench_la_gpu.json and $OUT/bench_la_gpu.png"
