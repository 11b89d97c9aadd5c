"""``python -m noisymed.export_bundle bundles/<name> --out dist/``: a trained bundle as a model-zoo bundle + zip.

See :func:`noisymed.export.export_bundle` for what is written. The command prints the export report (JSON) and
exits with 1, the cause as the last line, when the bundle cannot be exported (no trained weights, a missing
``docs/data_license.txt``, an earlier export without ``--overwrite true``...).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from noisymed.export import export_bundle
from noisymed.utils import as_bool

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line, export, print the report.

    Args:
        argv: the arguments (None: ``sys.argv[1:]``).

    Returns:
        The exit status: 0 on success, 1 when the export is refused.
    """
    parser = argparse.ArgumentParser(prog="python -m noisymed.export_bundle", description=__doc__.splitlines()[0])
    parser.add_argument("bundle", help="the trained bundle folder (holding configs/ and models/model.pt)")
    parser.add_argument("--out", default="dist", help="output folder (default: dist)")
    parser.add_argument("--weights", default="auto", choices=("auto", "fp16", "fp32"), help="storage of model.pt")
    parser.add_argument("--fp16_tolerance", type=float, default=1e-3, help="largest relative output change of fp16")
    parser.add_argument("--overwrite", default="false", help="replace an earlier export (true/false)")
    args = parser.parse_args(argv)
    try:
        report = export_bundle(
            args.bundle, args.out, weights=args.weights, fp16_tolerance=args.fp16_tolerance,
            overwrite=as_bool(args.overwrite, "--overwrite"),
        )  # fmt: skip
    except (FileNotFoundError, FileExistsError, ValueError, ModuleNotFoundError) as err:
        print(f"export refused: {err}", file=sys.stderr)
        return 1
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
