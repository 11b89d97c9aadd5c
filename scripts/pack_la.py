"""Pack the LA h5 cases into one small file for a machine whose upload limit is 64 MiB, unpack it there, verify it.

    python scripts/pack_la.py pack --dataset_dir ../shared/data/la_h5 --out la80.pack        # about 48 MiB
    python scripts/pack_la.py verify --pack la80.pack --dataset_dir ../shared/data/la_h5      # errors per case
    python scripts/pack_la.py unpack --pack la80.pack --out /tmp/la80                         # h5 layout again

What is kept, per case of ``train.list`` (in its order):

* the crop: the label's bounding box, enlarged to at least ``--min_size`` (the training patch, 112x112x80) and
  ``--margin`` voxels per side where the volume allows. Every label voxel is inside it, so the label is kept
  exactly (verified: identical voxels, Dice 1);
* the image inside the crop, quantised to ``--levels`` + 1 steps between its minimum and its 99.9th percentile
  (the brightest 0.1 % saturate) and compressed with bz2. The largest error is half a step inside that range
  (``verify`` reports it per case, in units of the z-scored image);
* the label as packed bits (bz2).

Unpacked, each case is ``<out>/<CASE>/mri_norm2.h5`` (float32 ``image``, uint8 ``label``) of the crop's shape, with
``train.list``, so the bundle and ``bench_la.py`` read it unchanged. What changes against the originals: the
volumes are smaller (random training crops come from nearer the atrium; evaluation ignores false positives
outside the crop) and the image is quantised.
"""

from __future__ import annotations

import argparse
import bz2
import io
import json
import sys
import tarfile
from pathlib import Path

import numpy as np

FORMAT = "noisymed-la-pack-1"


def crop_box(label: np.ndarray, min_size: tuple[int, ...], margin: int) -> tuple[slice, ...]:
    """The label's bounding box plus ``margin`` per side, enlarged (centred) to at least ``min_size``, in the volume.

    Raises:
        ValueError: for an empty label (nothing to centre the crop on).
    """
    if not label.any():
        raise ValueError("the label is empty: no bounding box to crop around")
    shape = np.asarray(label.shape)
    nz = np.nonzero(label)
    box_lo = np.array([int(i.min()) for i in nz])
    box_hi = np.array([int(i.max()) + 1 for i in nz])
    size = np.minimum(np.maximum(box_hi - box_lo + 2 * margin, np.asarray(min_size)), shape)
    start = (box_lo + box_hi) // 2 - size // 2
    start = np.maximum(np.minimum(start, box_lo), box_hi - size)  # every label voxel inside (size >= the box)
    start = np.clip(start, 0, shape - size)
    return tuple(slice(int(a), int(a + s)) for a, s in zip(start, size, strict=True))


def quantise(image: np.ndarray, levels: int) -> tuple[np.ndarray, float, float]:
    """``uint8`` codes ``0..levels`` over [min, 99.9th percentile] and that range (values above it saturate)."""
    lo, hi = float(image.min()), float(np.percentile(image, 99.9))
    if hi <= lo:
        hi = lo + 1.0
    codes = np.round(np.clip((image - lo) / (hi - lo), 0.0, 1.0) * levels).astype(np.uint8)
    return codes, lo, hi


def dequantise(codes: np.ndarray, lo: float, hi: float, levels: int) -> np.ndarray:
    """The float32 image the codes stand for."""
    return (lo + codes.astype(np.float32) * np.float32((hi - lo) / levels)).astype(np.float32)


def _read_case(root: Path, case: str) -> tuple[np.ndarray, np.ndarray]:
    import h5py

    path = root / case / "mri_norm2.h5"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing (listed in train.list)")
    with h5py.File(path, "r") as f:
        return np.asarray(f["image"][()], dtype=np.float32), np.asarray(f["label"][()], dtype=np.uint8)


def pack(dataset_dir: Path, out: Path, list_name: str, min_size: tuple[int, ...], margin: int, levels: int) -> dict:
    """Write the pack (atomically) and return its manifest.

    Raises:
        ValueError: for ``levels`` outside 1..255, a label with values other than 0/1, or an empty label.
        FileNotFoundError: for a missing list or case.
    """
    from noisymed.utils import atomic_path

    if not 1 <= levels <= 255:
        raise ValueError(f"levels must be in 1..255, got {levels}")
    cases = (dataset_dir / list_name).read_text(encoding="utf-8").split()
    manifest: dict = {
        "format": FORMAT,
        "list": list_name,
        "levels": levels,
        "min_size": list(min_size),
        "margin": margin,
        "cases": [],
    }
    with atomic_path(out) as tmp, tarfile.open(tmp, "w") as tar:
        for case in cases:
            image, label = _read_case(dataset_dir, case)
            if not np.isin(label, (0, 1)).all():
                raise ValueError(
                    f"{dataset_dir / case / 'mri_norm2.h5'}: label values {np.unique(label).tolist()}, expected 0/1"
                )
            try:
                box = crop_box(label, min_size, margin)
            except ValueError as e:
                raise ValueError(f"{dataset_dir / case / 'mri_norm2.h5'}: {e}") from None
            codes, lo, hi = quantise(image[box], levels)
            blobs = {
                "image": bz2.compress(codes.tobytes(), 9),
                "label": bz2.compress(np.packbits(label[box]).tobytes(), 9),
            }
            for kind, blob in blobs.items():
                info = tarfile.TarInfo(f"{case}.{kind}.bz2")
                info.size = len(blob)
                tar.addfile(info, io.BytesIO(blob))
            manifest["cases"].append(
                {
                    "case": case,
                    "shape": list(image.shape),
                    "start": [b.start for b in box],
                    "size": list(codes.shape),
                    "lo": lo,
                    "hi": hi,
                }
            )
        data = json.dumps(manifest, indent=1).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return manifest


def read_pack(path: Path):
    """Yield ``(entry, image, label)`` per case of a pack, in list order, and the manifest first as ``(manifest,)``.

    Raises:
        ValueError: when the file is not a pack of this format or is incomplete.
    """
    try:
        tar = tarfile.open(path, "r")
    except (tarfile.TarError, OSError) as e:
        raise ValueError(f"{path}: not a readable LA pack ({e})") from None
    with tar:
        try:
            manifest = json.loads(tar.extractfile("manifest.json").read())
        except KeyError:
            raise ValueError(f"{path}: no manifest.json (not a pack, or cut short)") from None
        if manifest.get("format") != FORMAT:
            raise ValueError(f"{path}: format {manifest.get('format')!r}, expected {FORMAT!r}")
        yield (manifest,)
        for entry in manifest["cases"]:
            size = tuple(entry["size"])
            try:
                codes = np.frombuffer(bz2.decompress(tar.extractfile(f"{entry['case']}.image.bz2").read()), np.uint8)
                bits = np.frombuffer(bz2.decompress(tar.extractfile(f"{entry['case']}.label.bz2").read()), np.uint8)
            except (KeyError, OSError, EOFError) as e:
                raise ValueError(f"{path}: case {entry['case']} unreadable ({e})") from None
            n = int(np.prod(size))
            if codes.size != n:
                raise ValueError(f"{path}: case {entry['case']} has {codes.size} image voxels, expected {n}")
            image = dequantise(codes.reshape(size), entry["lo"], entry["hi"], manifest["levels"])
            label = np.unpackbits(bits)[:n].reshape(size)
            yield entry, image, label


def unpack(path: Path, out: Path) -> list[str]:
    """Write ``<out>/<CASE>/mri_norm2.h5`` and ``<out>/<list>`` (each file atomically); return the cases.

    Raises:
        FileExistsError: when ``out`` already holds a case or the list (never overwritten).
    """
    import h5py

    from noisymed.utils import atomic_path, write_text_atomic

    items = read_pack(path)
    (manifest,) = next(items)
    names = [e["case"] for e in manifest["cases"]]
    existing = [out / n / "mri_norm2.h5" for n in names if (out / n / "mri_norm2.h5").exists()]
    if existing or (out / manifest["list"]).exists():
        raise FileExistsError(
            f"{existing[0] if existing else out / manifest['list']} already exists: unpack into an empty folder"
        )
    for entry, image, label in items:
        target = out / entry["case"] / "mri_norm2.h5"
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(target) as tmp, h5py.File(tmp, "w") as f:
            f["image"] = image
            f["label"] = label
    write_text_atomic(out / manifest["list"], "\n".join(names) + "\n")
    return names


def verify(path: Path, dataset_dir: Path) -> dict:
    """Compare a pack with the originals: per case the largest image error inside the quantisation range, the
    share of saturated voxels, and whether the label is identical (every label voxel inside the crop, none lost).
    """
    items = read_pack(path)
    (manifest,) = next(items)
    rows = []
    for entry, image, label in items:
        orig_image, orig_label = _read_case(dataset_dir, entry["case"])
        box = tuple(slice(s, s + n) for s, n in zip(entry["start"], entry["size"], strict=True))
        full = np.zeros_like(orig_label)
        full[box] = label
        inter = int(np.count_nonzero(full & orig_label))
        dice = 2 * inter / max(1, int(full.sum() + orig_label.sum()))
        crop = orig_image[box]
        inside = crop <= entry["hi"]
        rows.append(
            {
                "case": entry["case"],
                "label_identical": bool(np.array_equal(full, orig_label)),
                "label_dice": dice,
                "max_abs_error": float(np.abs(image - crop)[inside].max()),
                "step": (entry["hi"] - entry["lo"]) / manifest["levels"],
                "saturated_share": float(1 - inside.mean()),
            }
        )
    return {
        "cases": len(rows),
        "labels_identical": all(r["label_identical"] for r in rows),
        "min_label_dice": min(r["label_dice"] for r in rows),
        "max_abs_error": max(r["max_abs_error"] for r in rows),
        "max_saturated_share": max(r["saturated_share"] for r in rows),
        "per_case": rows,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    a = sub.add_parser("pack")
    a.add_argument("--dataset_dir", default=str(Path(__file__).resolve().parents[2] / "shared" / "data" / "la_h5"))
    a.add_argument("--list", default="train.list")
    a.add_argument("--out", required=True)
    a.add_argument("--min_size", default="112,112,80", help="smallest crop (the training patch)")
    a.add_argument("--margin", type=int, default=0, help="voxels kept beyond the label's box, per side")
    a.add_argument("--levels", type=int, default=63, help="quantisation steps - 1 (63: 6 bits)")
    a.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    b = sub.add_parser("unpack")
    b.add_argument("--pack", required=True)
    b.add_argument("--out", required=True)
    c = sub.add_parser("verify")
    c.add_argument("--pack", required=True)
    c.add_argument("--dataset_dir", default=str(Path(__file__).resolve().parents[2] / "shared" / "data" / "la_h5"))
    c.add_argument("--report", default=None, help="write the per-case report (JSON) here")
    args = p.parse_args(argv)
    if args.command == "pack":
        from noisymed.utils import refuse_overwrite

        refuse_overwrite(args.out, args.overwrite, "pass another --out")
        min_size = tuple(int(v) for v in args.min_size.split(","))
        manifest = pack(Path(args.dataset_dir), Path(args.out), args.list, min_size, args.margin, args.levels)
        print(f"{args.out}: {len(manifest['cases'])} cases, {Path(args.out).stat().st_size / 2**20:.1f} MiB")
    elif args.command == "unpack":
        names = unpack(Path(args.pack), Path(args.out))
        print(f"{args.out}: {len(names)} cases")
    else:
        report = verify(Path(args.pack), Path(args.dataset_dir))
        if args.report:
            from noisymed.utils import write_text_atomic

            write_text_atomic(args.report, json.dumps(report, indent=1) + "\n")
        print(json.dumps({k: v for k, v in report.items() if k != "per_case"}, indent=1))
        if not report["labels_identical"]:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
