"""Write one case of the LA demo set as a NIfTI file and a DICOM series (inputs for inference.json).

    python scripts/make_la_demo_inputs.py --demo_dir bundles/la_mutual_learning/demo_data \
        --output_dir bundles/la_mutual_learning/demo_data/inputs

Prints the two paths. Creates the demo set first if it is not there.
"""

from __future__ import annotations

import argparse
import sys

from noisymed.data import ensure_la_demo, export_demo_inputs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--demo_dir", required=True)
    parser.add_argument("--output_dir", required=True)
    parser.add_argument("--case", default=None, help="case name (default: first of test.list)")
    args = parser.parse_args(argv)
    nifti, dicom = export_demo_inputs(ensure_la_demo(args.demo_dir), args.output_dir, args.case)
    print(nifti)
    print(dicom)
    return 0


if __name__ == "__main__":
    sys.exit(main())
