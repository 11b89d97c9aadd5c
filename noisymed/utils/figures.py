"""PNG figures for benchmarks and docs: learning curves, result bars, image overlays. Needs the ``plot`` extra.

matplotlib is imported only when a figure is drawn (``pip install noisymed[plot]``), through its object API
(``Figure`` + the Agg canvas), so no global backend is switched and no display is needed. Every PNG is written
through :func:`noisymed.utils.atomic_path`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .atomic_write import atomic_path
from .overwrite import refuse_overwrite

__all__ = ["new_figure", "save_figure", "plot_curves", "plot_bars", "plot_overlay"]


def new_figure(width: float = 6.4, height: float = 4.0) -> Any:
    """A matplotlib ``Figure`` on the Agg canvas (no display, no global state).

    Raises:
        ImportError: when matplotlib is not installed, naming the extra that brings it.
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as err:
        raise ImportError("figures need matplotlib: pip install 'noisymed[plot]' (or pip install matplotlib).") from err
    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig: Any, path: str | Path, overwrite: bool = True) -> Path:
    """Write ``fig`` as a PNG at ``path`` atomically (a temporary name, then renamed).

    Args:
        fig: a matplotlib figure.
        path: the PNG file.
        overwrite: replace an existing file (False: refuse it, per the project's overwrite policy).

    Returns:
        ``path``.
    """
    path = Path(path)
    refuse_overwrite([path], overwrite, hint="pass another output folder")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    return path


def _colours(count: int) -> list:
    """``count`` distinct colours (matplotlib's tab10, then tab20 for more)."""
    from matplotlib import colormaps

    cmap = colormaps["tab10" if count <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(count)]


def plot_curves(
    panels: Mapping[str, Mapping[str, Sequence[tuple[float, float]]]],
    path: str | Path,
    xlabel: str = "epoch",
    ylabel: str = "value",
    title: str | None = None,
) -> Path:
    """Learning curves: one panel per key of ``panels``, one line per arm.

    Args:
        panels: ``{panel title: {arm label: [(x, y), ...]}}``.
        path: the PNG file (replaced when it exists: benchmark figures follow their JSON).
        xlabel: x axis label.
        ylabel: y axis label.
        title: the figure's title.

    Returns:
        ``path``.

    Raises:
        ValueError: when there is no panel or a panel has no line.
    """
    if not panels or any(not lines for lines in panels.values()):
        raise ValueError(f"plot_curves needs at least one panel with at least one line, got {list(panels)}.")
    labels = list(dict.fromkeys(label for lines in panels.values() for label in lines))
    colours = _colours(len(labels))
    fig = new_figure(4.2 * len(panels) + 1.6, 3.8)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    handles = {}
    for ax, (name, lines) in zip(axes, panels.items(), strict=True):
        for label, points in lines.items():
            xs, ys = zip(*points, strict=True) if points else ((), ())
            colour = colours[labels.index(label)]
            handles[label] = ax.plot(xs, ys, marker="." if len(xs) < 30 else None, label=label, color=colour)[0]
        ax.set_title(name)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    # one legend for every panel, each arm in one colour throughout
    axes[-1].legend([handles[k] for k in labels], labels, fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5))
    if title:
        fig.suptitle(title)
    return save_figure(fig, path)


def plot_bars(
    groups: Mapping[str, Mapping[str, float]],
    path: str | Path,
    ylabel: str = "value",
    title: str | None = None,
    errors: Mapping[str, Mapping[str, float]] | None = None,
) -> Path:
    """A result table as grouped bars: one group per key of ``groups``, one bar per arm.

    Args:
        groups: ``{group: {arm: value}}`` (e.g. noise rate → method → accuracy).
        path: the PNG file (replaced when it exists).
        ylabel: y axis label.
        title: the figure's title.
        errors: optional error bar half-lengths, same layout as ``groups``.

    Returns:
        ``path``.

    Raises:
        ValueError: when there is no group.
    """
    if not groups:
        raise ValueError("plot_bars needs at least one group.")
    arms = list(dict.fromkeys(a for values in groups.values() for a in values))
    colours = _colours(len(arms))
    fig = new_figure(max(5.0, 1.0 + 0.35 * len(arms) * len(groups)), 3.8)
    ax = fig.subplots()
    width = 0.8 / len(arms)
    for i, arm in enumerate(arms):
        xs = [g + (i - (len(arms) - 1) / 2) * width for g in range(len(groups)) if arm in list(groups.values())[g]]
        ys = [values[arm] for values in groups.values() if arm in values]
        err = (
            [errors.get(group, {}).get(arm, 0.0) for group, values in groups.items() if arm in values]
            if errors
            else None
        )
        ax.bar(xs, ys, width=width, yerr=err, label=arm, capsize=2 if errors else 0, color=colours[i])
    ax.set_xticks(range(len(groups)), list(groups))
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", alpha=0.3)
    values = [v for g in groups.values() for v in g.values()]
    low, high = min(values), max(values)
    if low > 0 and high - low < 0.5 * high:  # close values: zoom on their range so the differences show
        ax.set_ylim(max(0.0, low - 0.6 * (high - low) - 1e-3), high + 0.3 * (high - low) + 1e-3)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5))
    if title:
        ax.set_title(title)
    return save_figure(fig, path)


def plot_overlay(
    image: np.ndarray,
    path: str | Path,
    label: np.ndarray | None = None,
    pred: np.ndarray | None = None,
    title: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Panels of one 2D slice: the image, the image with the label, the image with the prediction.

    Args:
        image: a 2D array.
        path: the PNG file.
        label: a 2D mask (nonzero = foreground), or None.
        pred: a 2D mask, or None.
        title: the figure's title.
        overwrite: replace an existing file (False: refuse it).

    Returns:
        ``path``.

    Raises:
        ValueError: for arrays that are not 2D or not of one shape.
    """
    image = np.asarray(image, dtype=np.float32)
    masks = {"label": label, "prediction": pred}
    if image.ndim != 2 or any(m is not None and np.shape(m) != image.shape for m in masks.values()):
        shapes = {k: np.shape(v) for k, v in masks.items() if v is not None}
        raise ValueError(f"plot_overlay needs 2D arrays of one shape, got image {image.shape} and {shapes}.")
    shown = {"image": None, **{k: v for k, v in masks.items() if v is not None}}
    fig = new_figure(3.2 * len(shown), 3.4)
    axes = fig.subplots(1, len(shown), squeeze=False)[0]
    low, high = np.percentile(image, [1, 99]) if image.size else (0.0, 1.0)
    for ax, (name, mask) in zip(axes, shown.items(), strict=True):
        ax.imshow(image.T, cmap="gray", vmin=low, vmax=high, origin="lower")
        if mask is not None:
            overlay = np.ma.masked_where(np.asarray(mask).T == 0, np.asarray(mask).T)
            ax.imshow(overlay, cmap="autumn" if name == "label" else "winter", alpha=0.45, origin="lower")
        ax.set_title(name)
        ax.axis("off")
    if title:
        fig.suptitle(title)
    return save_figure(fig, path, overwrite=overwrite)
