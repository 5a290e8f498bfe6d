"""The report's figures, written as PNG files.

Figures are drawn on matplotlib's Agg canvas directly, not through pyplot: no display is needed and no
global pyplot state is touched, so the search process that calls this keeps whatever backend it had.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from common.atomic import atomic_write_bytes
from search.results.folder import FIGURES_DIR

DPI = 110


def save_png(fig: Figure, path: Path) -> None:
    """Render ``fig`` and write it atomically: a crash never leaves a broken image behind."""
    buffer = io.BytesIO()
    FigureCanvasAgg(fig).print_png(buffer)
    atomic_write_bytes(path, buffer.getvalue())


def learning_curves(curves: Mapping[str, Sequence[tuple[int, float]]], metric: str, rungs: Sequence[int]) -> Figure:
    """One line per trial ({label: [(epoch, value), ...]}); dotted verticals at the scheduler's rungs."""
    fig = Figure(figsize=(7, 4.2), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    for epoch in rungs:
        ax.axvline(epoch, color="0.75", linestyle=":", linewidth=1)
    for label, points in curves.items():
        epochs, values = zip(*points)
        ax.plot(epochs, values, marker="o", markersize=3, label=label)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set(xlabel="epoch", ylabel=metric, title=f"{metric} per epoch")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.01, 0.5))
    return fig


def rung_survival(reached: Mapping[int, int], started: int) -> Figure:
    """Bars: how many of the ``started`` trials reached each rung epoch ({epoch: trials})."""
    fig = Figure(figsize=(5.5, 3.6), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    bars = ax.bar([str(e) for e in reached], list(reached.values()), color="tab:blue")
    ax.bar_label(bars)
    ax.set_ylim(0, max(started, 1) * 1.15)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set(xlabel="epoch (ASHA rung)", ylabel="trials", title=f"trials reaching each rung, of {started} started")
    return fig


def importance_bars(scores: Mapping[str, float]) -> Figure:
    """Horizontal bars, most important parameter on top."""
    fig = Figure(figsize=(7, 1.2 + 0.3 * len(scores)), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    names = list(scores)[::-1]
    ax.barh(names, [scores[n] for n in names], color="tab:green")
    ax.set(xlabel="importance (share of explained variance)", title="fANOVA hyperparameter importance")
    ax.tick_params(axis="y", labelsize="small")
    return fig


def confusion(matrix: Sequence[Sequence[int]], title: str) -> Figure:
    """A confusion matrix (rows: true class, columns: predicted), each cell labelled with its count."""
    counts = np.asarray(matrix)
    fig = Figure(figsize=(5.2, 4.6), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(counts, cmap="Blues")
    fig.colorbar(image, ax=ax, shrink=0.8)
    dark = counts > counts.max() / 2  # white text where the cell is dark
    for (i, j), n in np.ndenumerate(counts):
        ax.text(j, i, str(n), ha="center", va="center", fontsize="x-small", color="white" if dark[i, j] else "black")
    ticks = range(len(counts))
    ax.set_xticks(ticks)
    ax.set_yticks(ticks)
    ax.set(xlabel="predicted", ylabel="true", title=title)
    return fig


def figure(fig: Figure, root: Path, name: str, alt: str) -> str:
    """Write ``fig`` under figures/ and return its markdown image (a relative link: the folder may move)."""
    relative = f"{FIGURES_DIR}/{name}.png"
    save_png(fig, root / relative)
    return f"![{alt}]({relative})\n"
