"""Seconds per training iteration of the LA bundle's network and losses at candidate CPU scales.

    OMP_NUM_THREADS=1 python scripts/cost_la.py --threads 1 --iterations 3

One iteration is what ``MutualLearningTrainer`` does for a 2 labeled + 2 unlabeled batch: both decoders forward,
Dice on the labeled half, the mutual loss on all four, backward, an SGD step. Inputs are random (the cost does not
depend on the values). The first iteration is a warm-up and is not timed; the median of the rest is reported with
the field of view in mm (the paper: 112x112x80 voxels at 0.625 mm = 70x70x50 mm) and the volume size at that
spacing (an LA h5 volume is about 200x150x88 voxels at 0.625 mm).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

#: (spacing mm, patch, base filters): the paper's scale and the CPU candidates.
CANDIDATES = (
    (2.5, (32, 32, 16), 8),
    (2.5, (32, 32, 16), 16),
    (1.25, (48, 48, 32), 8),
    (1.25, (48, 48, 32), 16),
    (1.25, (64, 64, 48), 8),
    (1.0, (64, 64, 48), 16),
    (0.625, (112, 112, 80), 16),
)


def time_iteration(spacing: float, patch: tuple[int, int, int], features: int, iterations: int) -> float:
    """Median seconds of one 2+2 mutual-learning training iteration (after one warm-up iteration)."""
    import torch
    from monai.losses import DiceLoss

    from noisymed.losses import ReliablePseudoLabelLoss
    from noisymed.networks import TwoDecoderVNet

    torch.manual_seed(0)
    net = TwoDecoderVNet(features=features)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    dice = DiceLoss(to_onehot_y=True, softmax=True, include_background=False, batch=True)
    mutual = ReliablePseudoLabelLoss()
    x = torch.randn(4, 1, *patch)
    y = (torch.rand(2, 1, *patch) > 0.9).float()
    times = []
    for i in range(iterations + 1):
        start = time.perf_counter()
        opt.zero_grad()
        la, lb, fa, fb = net.forward_train(x)
        loss = 0.5 * (dice(la[:2], y) + dice(lb[:2], y)) + mutual(la, lb, fa, fb)
        loss.backward()
        opt.step()
        if i:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--iterations", type=int, default=3, help="timed iterations per candidate (after one warm-up)")
    p.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    p.add_argument("--max_voxels", type=int, default=10**7, help="skip candidates whose patch has more voxels")
    args = p.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    rows = []
    for spacing, patch, features in CANDIDATES:
        voxels = patch[0] * patch[1] * patch[2]
        if voxels > args.max_voxels:
            continue
        sec = time_iteration(spacing, patch, features, args.iterations)
        row = {
            "spacing_mm": spacing,
            "patch": list(patch),
            "features": features,
            "fov_mm": [round(s * spacing, 1) for s in patch],
            "volume_voxels": [round(n * 0.625 / spacing) for n in (200, 150, 88)],
            "seconds_per_iteration": sec,
            "threads": args.threads,
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
