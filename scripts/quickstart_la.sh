#!/usr/bin/env bash
# The LA bundle's main job on its embedded demo set (generated on first use; nothing is downloaded):
# train mutual learning through `python -m monai.bundle run`, then segment one NIfTI volume and one
# DICOM series with the trained model. Masks are written to bundles/la_mutual_learning/output/.
set -euo pipefail
cd "$(dirname "$0")/../bundles/la_mutual_learning"
demo="['configs/train.json','configs/demo.json']"
infer="['configs/inference.json','configs/demo.json']"

echo "== 1/3 training on the demo set (configs/train.json + configs/demo.json)"
python -m monai.bundle run --config_file "$demo" --logging_file configs/logging.conf

echo "== 2/3 segmenting a NIfTI volume and a DICOM series"
mapfile -t inputs < <(python ../../scripts/make_la_demo_inputs.py --demo_dir demo_data --output_dir demo_data/inputs)
for input in "${inputs[@]}"; do
    python -m monai.bundle run --config_file "$infer" --logging_file configs/logging.conf --input "$input" --overwrite true
done

echo "== 3/3 done"
ls -l output/
