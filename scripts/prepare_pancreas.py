"""Prepare pancreas CT for the Pancreas-CT mutual-learning bundle: the literature's preprocessing + a MONAI datalist.

    # TCIA Pancreas-CT (DICOM) + TCIA_pancreas_labels (NIfTI):
    python scripts/prepare_pancreas.py --source tcia --dataset_dir /data/Pancreas-CT \
        --label_dir /data/TCIA_pancreas_labels-02-05-2017 --output_dir /data/Pancreas_prepared
    # MSD Task07 (labels 1 pancreas and 2 tumour merged to 1):
    python scripts/prepare_pancreas.py --source msd --dataset_dir /data/Task07_Pancreas --output_dir /data/Pancreas_msd
    # the literature's Pancreas_h5 (checked, used as they are; only datalist.json is written):
    python scripts/prepare_pancreas.py --source h5 --dataset_dir /data/Pancreas_h5 --output_dir /data/Pancreas_h5_list

Each CT is read in HU (DICOM: RescaleSlope/RescaleIntercept required; slices ordered by position), its label is
checked to lie on the CT grid (size, spacing, direction, origin), then resampled to 1 mm (image trilinear, label
nearest), windowed to [-125, 275] HU and scaled to [0, 1], cropped in x/y to the label's box +- 25 voxels (widened to
>= 96), z kept whole, and z-scored. Writes imagesTr/<case>.nii.gz, labelsTr/<case>.nii.gz and datalist.json (last).
An earlier run's files are refused unless --overwrite; after an error no file of this run is left.
--overlay_dir writes one PNG per case (the CT slice through the label's centre, label outlined in red) to check by
eye that every label lies on its CT.
"""

from __future__ import annotations

import argparse
import sys

from noisymed.data import PANCREAS_SOURCES, PancreasDataError, prepare_pancreas


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", required=True, choices=PANCREAS_SOURCES)
    parser.add_argument(
        "--dataset_dir", required=True, help="Pancreas-CT (PANCREAS_XXXX/...), Task07_Pancreas, or Pancreas_h5"
    )
    parser.add_argument("--label_dir", default=None, help="TCIA_pancreas_labels folder (labelXXXX.nii.gz); tcia only")
    parser.add_argument("--output_dir", required=True)
    parser.add_argument("--cases", nargs="+", default=None, help="only these case IDs (e.g. image0001)")
    parser.add_argument("--spacing", nargs=3, type=float, default=[1.0, 1.0, 1.0])
    parser.add_argument("--window", nargs=2, type=float, default=[-125.0, 275.0])
    parser.add_argument("--margin", type=int, default=25)
    parser.add_argument("--min_size", type=int, default=96)
    parser.add_argument("--overlay_dir", default=None, help="also write <case>.png: a CT slice with its label outlined")
    parser.add_argument("--overwrite", action="store_true", help="replace files an earlier run left")
    args = parser.parse_args(argv)
    try:
        datalist = prepare_pancreas(
            args.source, args.dataset_dir, args.output_dir, label_dir=args.label_dir, cases=args.cases,
            spacing=args.spacing, window=args.window, margin=args.margin, min_size=args.min_size, overwrite=args.overwrite,
            overlay_dir=args.overlay_dir,
        )  # fmt: skip
    except (PancreasDataError, FileExistsError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for case, why in datalist["absent"].items():
        print(f"note: {case} absent: {why}")
    print(f"wrote {len(datalist['training'])} cases to {args.output_dir} (datalist.json)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
