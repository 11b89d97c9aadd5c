"""Batches that always mix a fixed number of labeled and unlabeled samples."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import torch
import torch.distributed as dist
from torch.utils.data import Sampler

__all__ = ["TwoStreamBatchSampler"]


class TwoStreamBatchSampler(Sampler[list[int]]):
    """Each batch: ``primary_batch_size`` primary (labeled) then ``secondary_batch_size`` secondary indices.

    Both streams are drawn without replacement from reshuffled passes over their indices (a pass
    ends, a new shuffled pass starts), as the semi-supervised LA literature's sampler does. One
    ``__iter__`` yields ``num_batches`` batches, so it fits ignite's epoch loop; the streams go on where
    they stopped in the next epoch. :meth:`state_dict` / :meth:`load_state_dict` save and restore where the
    streams stand (a resumed training draws the batches the uninterrupted one would have). Under
    ``torch.distributed`` each rank draws from its own shard (``indices[rank::world_size]``), which plays the
    role of ``DistributedSampler``.

    Args:
        primary_indices: dataset indices of the labeled samples.
        secondary_indices: dataset indices of the unlabeled samples (may be empty: supervised only).
        primary_batch_size: labeled samples per batch.
        secondary_batch_size: unlabeled samples per batch (ignored when there are none).
        num_batches: batches per ``__iter__`` (default: one pass over the primary shard).
        seed: seed of the shuffles (the rank is added).
        num_replicas: world size (default: from ``torch.distributed`` when initialised, else 1).
        rank: this process's rank (default: from ``torch.distributed``, else 0).

    Raises:
        ValueError: for an empty primary stream, non-positive sizes, a stream shard smaller than its
            batch size, or overlapping streams.
    """

    def __init__(
        self,
        primary_indices: Sequence[int],
        secondary_indices: Sequence[int],
        primary_batch_size: int = 2,
        secondary_batch_size: int = 2,
        num_batches: int | None = None,
        seed: int = 0,
        num_replicas: int | None = None,
        rank: int | None = None,
    ):
        if num_replicas is None:
            num_replicas = dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1
        if rank is None:
            rank = dist.get_rank() if dist.is_available() and dist.is_initialized() else 0
        if primary_batch_size < 1 or secondary_batch_size < 0:
            raise ValueError(
                f"primary_batch_size must be >= 1 and secondary_batch_size >= 0, "
                f"got {primary_batch_size} and {secondary_batch_size}."
            )
        overlap = set(primary_indices) & set(secondary_indices)
        if overlap:
            raise ValueError(f"primary and secondary indices overlap: {sorted(overlap)[:10]}.")
        self.primary = list(primary_indices)[rank::num_replicas]
        self.secondary = list(secondary_indices)[rank::num_replicas]
        self.primary_batch_size = primary_batch_size
        self.secondary_batch_size = secondary_batch_size if self.secondary else 0
        if len(self.primary) < primary_batch_size:
            raise ValueError(
                f"rank {rank} has {len(self.primary)} primary (labeled) samples, fewer than "
                f"primary_batch_size={primary_batch_size}."
            )
        if self.secondary and len(self.secondary) < self.secondary_batch_size:
            raise ValueError(
                f"rank {rank} has {len(self.secondary)} secondary (unlabeled) samples, fewer than "
                f"secondary_batch_size={secondary_batch_size}."
            )
        self.num_batches = num_batches if num_batches is not None else len(self.primary) // primary_batch_size
        if self.num_batches < 1:
            raise ValueError(f"num_batches must be >= 1, got {self.num_batches}.")
        self.generator = torch.Generator().manual_seed(seed + rank)
        self._queues: dict[str, list[int]] = {"primary": [], "secondary": []}

    def _draw(self, stream: str, n: int) -> list[int]:
        pool = self.primary if stream == "primary" else self.secondary
        queue = self._queues[stream]
        out: list[int] = []
        while len(out) < n:
            if not queue:
                queue.extend(pool[i] for i in torch.randperm(len(pool), generator=self.generator).tolist())
            out.append(queue.pop(0))
        return out

    def __iter__(self) -> Iterator[list[int]]:
        for _ in range(self.num_batches):
            batch = self._draw("primary", self.primary_batch_size)
            if self.secondary_batch_size:
                batch += self._draw("secondary", self.secondary_batch_size)
            yield batch

    def __len__(self) -> int:
        return self.num_batches

    def state_dict(self) -> dict[str, Any]:
        """Where the streams stand: the shuffle generator's state, the rest of each pass and the index pools.

        Taken between two ``__iter__`` passes (at an epoch's end), it lets a new sampler go on with the same batches.

        Returns:
            ``{"generator": ByteTensor, "queues": {"primary": [...], "secondary": [...]}, "primary": [...],
            "secondary": [...]}`` (plain types and a tensor: loadable with ``torch.load(weights_only=True)``).
        """
        return {
            "generator": self.generator.get_state(),
            "queues": {name: list(queue) for name, queue in self._queues.items()},
            "primary": list(self.primary),
            "secondary": list(self.secondary),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Go on where the sampler that wrote ``state`` (see :meth:`state_dict`) stopped.

        Args:
            state: what :meth:`state_dict` returned.

        Raises:
            ValueError: when ``state`` lacks a key, was written for other primary/secondary indices (another
                labeled set, dataset or rank), or queues an index outside its pool.
        """
        missing = {"generator", "queues", "primary", "secondary"} - set(state)
        if missing:
            raise ValueError(f"sampler state lacks {sorted(missing)}: not written by TwoStreamBatchSampler.state_dict.")
        for name in ("primary", "secondary"):
            saved = [int(i) for i in state[name]]
            if saved != list(getattr(self, name)):
                raise ValueError(
                    f"sampler state was written for other {name} indices ({len(saved)} indices, first "
                    f"{saved[:5]}) than this sampler's ({len(getattr(self, name))}, first {getattr(self, name)[:5]}): "
                    "the labeled/unlabeled split, the dataset or the rank changed."
                )
            queue = [int(i) for i in state["queues"][name]]
            stray = set(queue) - set(saved)
            if stray:
                raise ValueError(f"sampler state queues {name} indices {sorted(stray)[:5]} that are not in its pool.")
        self.generator.set_state(state["generator"])
        self._queues = {name: [int(i) for i in state["queues"][name]] for name in ("primary", "secondary")}
