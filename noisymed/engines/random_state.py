"""Everything random a training epoch draws from, captured and restored, so that a resumed run repeats the same path.

An epoch of a MONAI trainer draws from: torch's global generator (the ``DataLoader`` iterator's base seed, a shuffling
``RandomSampler`` without its own generator, dropout, mixup), NumPy's and Python's global generators, each MONAI random
transform's own ``R`` (a ``numpy.random.RandomState``) when the data loader has no workers, and a sampler or
generator that keeps its own state (:class:`noisymed.data.TwoStreamBatchSampler`, ``DataLoader(generator=...)``).

With ``num_workers > 0`` (not persistent), the workers' transforms are re-seeded at each epoch from a base seed that
the iterator draws from torch's global generator, so restoring that generator restores them too. What this cannot
restore: persistent workers (``persistent_workers=True``: their transforms' states live in other processes), the
per-rank states of a multi-process run (a checkpoint holds rank 0's), and GPU kernels that are not deterministic.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import torch
from monai.transforms import Randomizable, Transform

__all__ = ["capture_random_state", "restore_random_state", "random_transforms"]


def _numpy_state(rs: np.random.RandomState) -> dict[str, Any]:
    name, keys, pos, has_gauss, cached = rs.get_state()
    if name != "MT19937":
        raise ValueError(f"cannot save a NumPy random state of kind {name!r} (only MT19937).")
    keys = torch.from_numpy(keys.astype(np.int64))
    return {"keys": keys, "pos": int(pos), "has_gauss": int(has_gauss), "cached_gaussian": float(cached)}


def _set_numpy_state(rs: np.random.RandomState, state: Mapping[str, Any]) -> None:
    keys = state["keys"]
    keys = np.asarray(keys.numpy() if isinstance(keys, torch.Tensor) else keys, dtype=np.uint32)
    rs.set_state(("MT19937", keys, int(state["pos"]), int(state["has_gauss"]), float(state["cached_gaussian"])))


def _children(obj: Any) -> Iterator[Any]:
    if isinstance(obj, (list, tuple)):
        yield from obj
    elif isinstance(obj, dict):
        yield from obj.values()
    elif isinstance(obj, (Transform, Randomizable)):  # MONAI transforms and their wrappers (Compose, OneOf ...)
        yield from vars(obj).values()


def random_transforms(dataset: Any) -> list[Randomizable]:
    """The MONAI random transforms a dataset applies, in a fixed order (first met, depth first).

    Looks at ``dataset.transform`` (MONAI and torchvision-style datasets), through ``dataset.dataset`` (``Subset``)
    and ``dataset.datasets`` (``ConcatDataset``); never at cached data.

    Args:
        dataset: a data loader's dataset.

    Returns:
        Each :class:`monai.transforms.Randomizable` found once (``Compose`` itself included).
    """
    roots: list[Any] = []
    stack = [dataset]
    while stack:
        ds = stack.pop()
        if hasattr(ds, "transform"):
            roots.append(ds.transform)
        elif hasattr(ds, "datasets"):
            stack.extend(reversed(list(ds.datasets)))
        elif hasattr(ds, "dataset"):
            stack.append(ds.dataset)
    found: list[Randomizable] = []
    seen: set[int] = set()

    def visit(obj: Any) -> None:
        if id(obj) in seen:
            return
        seen.add(id(obj))
        if isinstance(obj, Randomizable):
            found.append(obj)
        for child in _children(obj):
            visit(child)

    for root in roots:
        visit(root)
    return found


def _generators(data_loader: Any) -> dict[str, Any]:
    """The data loader's samplers/generators that keep a state of their own, by a stable name."""
    out: dict[str, Any] = {}
    if data_loader is None:
        return out
    if isinstance(getattr(data_loader, "generator", None), torch.Generator):
        out["generator"] = data_loader.generator
    for name in ("sampler", "batch_sampler"):
        obj = getattr(data_loader, name, None)
        if obj is None:
            continue
        if callable(getattr(obj, "state_dict", None)) and callable(getattr(obj, "load_state_dict", None)):
            out[name] = obj
        elif isinstance(getattr(obj, "generator", None), torch.Generator):
            out[f"{name}.generator"] = obj.generator
    return out


def capture_random_state(data_loader: Any = None) -> dict[str, Any]:
    """The random state of this process and of ``data_loader``'s sampling and transforms.

    Args:
        data_loader: the training ``DataLoader`` (optional).

    Returns:
        ``{"torch", "numpy", "python", "cuda", "transforms", "loader"}`` in tensors and plain types (a checkpoint
        holding it loads with ``torch.load(weights_only=True)``).
    """
    version, internal, gauss_next = random.getstate()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": _numpy_state(np.random.mtrand._rand),
        "python": {"version": int(version), "internal": list(internal), "gauss_next": gauss_next},
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() and torch.cuda.is_initialized() else [],
        "transforms": [],
        "loader": {},
    }
    if data_loader is not None:
        state["transforms"] = [_numpy_state(t.R) for t in random_transforms(getattr(data_loader, "dataset", None))]
        for name, obj in _generators(data_loader).items():
            state["loader"][name] = obj.get_state() if isinstance(obj, torch.Generator) else obj.state_dict()
    return state


def restore_random_state(state: Mapping[str, Any], data_loader: Any = None) -> list[str]:
    """Set this process's generators, and ``data_loader``'s, to what :func:`capture_random_state` captured.

    Args:
        state: what :func:`capture_random_state` returned.
        data_loader: the training ``DataLoader`` of the resumed run (optional).

    Returns:
        What could not be restored, in words (empty when everything was): a different number of random transforms
        or CUDA devices, or a sampler/generator the state does not hold. The caller reports it.

    Raises:
        ValueError: when a sampler refuses its saved state (see its ``load_state_dict``).
    """
    torch.set_rng_state(state["torch"])
    _set_numpy_state(np.random.mtrand._rand, state["numpy"])
    python = state["python"]
    random.setstate((int(python["version"]), tuple(int(i) for i in python["internal"]), python["gauss_next"]))
    problems: list[str] = []
    cuda = list(state.get("cuda", []))
    if cuda:
        if torch.cuda.is_available() and torch.cuda.device_count() == len(cuda):
            torch.cuda.set_rng_state_all(cuda)
        else:
            problems.append(f"CUDA random states of {len(cuda)} devices not restored (this process sees another count)")
    if data_loader is None:
        return problems
    transforms = random_transforms(getattr(data_loader, "dataset", None))
    saved = list(state.get("transforms", []))
    if len(saved) == len(transforms):
        for t, s in zip(transforms, saved, strict=True):  # transforms sharing one generator get the same state twice
            _set_numpy_state(t.R, s)
    else:
        problems.append(
            f"random transforms' states not restored: the checkpoint holds {len(saved)}, the data loader has "
            f"{len(transforms)} (the augmentation changed)"
        )
    loader_state = state.get("loader", {})
    for name, obj in _generators(data_loader).items():
        if name not in loader_state:
            problems.append(f"data loader {name} state not in the checkpoint")
        elif isinstance(obj, torch.Generator):
            obj.set_state(loader_state[name])
        else:
            obj.load_state_dict(loader_state[name])
    return problems
