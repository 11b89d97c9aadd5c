"""Convert the LA set from the UA-MT h5 layout to NIfTI (0.625 mm) plus a MONAI datalist.

    python scripts/prepare_la.py --dataset_dir /data/LA --output_dir /data/LA_nifti \
        --list_files train.list test.list

Writes ``imagesTr/<CASE>.nii.gz``, ``labelsTr/<CASE>.nii.gz`` and ``datalist.json`` (one section per list
file, paths relative to the output folder). Every case is checked before anything is written.

Every file is written to a temporary name and renamed into place. A rerun (after a kill, say) keeps the outputs
identical to what it would write, writes again the missing, truncated or unreadable ones (with a warning naming
each), and stops before writing anything when a complete output differs (another spacing, other data) unless
``--overwrite`` is given.
"""

from __future__ import annotations

import argparse
import sys

from noisymed.data import LADataError, la_h5_to_nifti


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset_dir", required=True, help="root of <CASE>/mri_norm2.h5 and the list files")
    parser.add_argument("--output_dir", required=True, help="where to write NIfTI files and datalist.json")
    parser.add_argument("--list_files", nargs="+", default=["train.list", "test.list"])
    parser.add_argument("--spacing", nargs=3, type=float, default=[0.625, 0.625, 0.625])
    parser.add_argument(
        "--overwrite", action="store_true", help="replace complete outputs that differ from what this run writes"
    )
    args = parser.parse_args(argv)
    try:
        datalist = la_h5_to_nifti(
            args.dataset_dir, args.output_dir, tuple(args.list_files), tuple(args.spacing), args.overwrite
        )
    except (LADataError, FileExistsError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    counts = ", ".join(f"{k}: {len(v)}" for k, v in datalist.items())
    print(f"wrote {counts} cases to {args.output_dir} (datalist.json)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
