"""Report figures: matplotlib (no pyplot, no GUI backend) rendered to deterministic SVG strings.

Each figure has a fixed size, text kept as SVG <text> (`svg.fonttype: none`), no date in its
metadata and its own `svg.hashsalt`, and its element ids are prefixed with the figure id, so the same
numbers give the same bytes and several figures inlined in one page never share an element id.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

PALETTE = ("#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3", "#8c8c8c")
"""Series colours, in series order."""

WIDTH_IN = 8.0


@contextmanager
def svg_figure(salt: str, height_in: float, ncols: int = 1) -> Iterator[tuple[Figure, list]]:
    """A Figure of WIDTH_IN x `height_in` inches with `ncols` axes, rendered under fixed rcParams."""
    params = {
        "svg.hashsalt": salt,
        "svg.fonttype": "none",
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }
    with matplotlib.rc_context(params):
        fig = Figure(figsize=(WIDTH_IN, height_in), layout="constrained")
        axes = [fig.add_subplot(1, ncols, i + 1) for i in range(ncols)]
        yield fig, axes


def to_svg(fig: Figure, prefix: str) -> str:
    """The figure as an SVG element ready to inline: XML declaration and DOCTYPE dropped, every
    element id (matplotlib numbers its groups `axes_1`... in each figure) and every reference to
    one prefixed with `prefix`, so that several figures in one page have distinct ids."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :].strip()
    text = re.sub(r'(\sid=")([^"]+")', rf"\g<1>{prefix}-\g<2>", text)
    return re.sub(r'(url\(#|href="#)', rf"\g<1>{prefix}-", text)


def _rendered(salt: str, height_in: float, draw, ncols: int = 1) -> str:
    with svg_figure(salt, height_in, ncols) as (fig, axes):
        draw(*axes)
        return to_svg(fig, salt)


def stacked_share_bars(
    salt: str, categories: Sequence[str], panels: Mapping[str, Mapping[str, Sequence[float]]]
) -> str:
    """Horizontal bars, one per category, stacked by series as percent of the category's total;
    one panel per entry of `panels` (panel title -> series label -> values per category)."""

    def draw(*axes) -> None:
        y = np.arange(len(categories))
        for ax, (panel_title, series) in zip(axes, panels.items(), strict=True):
            values = np.array([list(v) for v in series.values()], dtype=np.float64)
            totals = values.sum(axis=0)
            shares = np.divide(values * 100.0, totals, out=np.zeros_like(values), where=totals > 0)
            left = np.zeros(len(categories))
            for i, label in enumerate(series):
                ax.barh(y, shares[i], left=left, color=PALETTE[i % len(PALETTE)], label=label)
                left += shares[i]
            ax.set_yticks(y, categories if ax is axes[0] else [""] * len(categories))
            ax.invert_yaxis()
            ax.set_xlim(0, 100)
            ax.set_xlabel("% of " + panel_title)
            ax.set_title(panel_title)
        axes[0].legend(
            loc="lower center",
            bbox_to_anchor=(1.0, 1.08),
            ncols=len(next(iter(panels.values()))),
            frameon=False,
        )

    return _rendered(salt, 0.35 * len(categories) + 1.6, draw, ncols=len(panels))


def grouped_bars(
    salt: str,
    categories: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    ylabel: str,
    *,
    log: bool = False,
) -> str:
    """Vertical bars grouped by category, one bar per series (None draws nothing)."""

    def draw(ax) -> None:
        x = np.arange(len(categories))
        width = 0.8 / max(len(series), 1)
        for i, (label, values) in enumerate(series.items()):
            heights = [np.nan if v is None else v for v in values]
            ax.bar(
                x + (i - (len(series) - 1) / 2) * width,
                heights,
                width,
                label=label,
                color=PALETTE[i % len(PALETTE)],
            )
        ax.set_xticks(x, categories, rotation=20, ha="right")
        ax.set_ylabel(ylabel)
        if log:
            ax.set_yscale("log")
        ax.legend(frameon=False)

    return _rendered(salt, 3.4, draw)


def count_bars(
    salt: str, labels: Sequence[str], counts: Sequence[int], xlabel: str, ylabel: str
) -> str:
    """One bar per label (a histogram already binned); log y when the counts span 100x or more."""

    def draw(ax) -> None:
        x = np.arange(len(labels))
        ax.bar(x, counts, color=PALETTE[0])
        ax.set_xticks(x, labels, rotation=0 if len(labels) <= 12 else 60)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        positive = [c for c in counts if c > 0]
        if positive and max(positive) >= 100 * min(positive):
            ax.set_yscale("log")
        else:
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))

    return _rendered(salt, 3.0, draw)


def histogram(
    salt: str,
    edges: np.ndarray,
    counts: np.ndarray,
    xlabel: str,
    marker: float | None = None,
    marker_label: str = "",
) -> str:
    """A histogram from bin `edges` and `counts`, with an optional vertical marker line."""

    def draw(ax) -> None:
        ax.stairs(counts, edges, fill=True, color=PALETTE[0])
        if marker is not None:
            ax.axvline(marker, color=PALETTE[3], linestyle="--", label=marker_label)
            ax.legend(frameon=False, loc="upper left")
        ax.set_xlim(edges[0], edges[-1])
        ax.set_xlabel(xlabel)
        ax.set_ylabel("count")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))

    return _rendered(salt, 3.0, draw)


def s_curves(
    salt: str, curves: Mapping[str, tuple[np.ndarray, np.ndarray]], threshold: float
) -> str:
    """Candidate probability against Jaccard for each (label -> (J, P)) curve, threshold marked."""

    def draw(ax) -> None:
        for i, (label, (jaccard, probability)) in enumerate(curves.items()):
            ax.plot(
                jaccard,
                probability,
                color=PALETTE[i % len(PALETTE)],
                label=label,
                linestyle="-" if i == 0 else ":",
            )
        ax.axvline(threshold, color=PALETTE[3], linestyle="--", label=f"threshold {threshold:g}")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("Jaccard similarity J")
        ax.set_ylabel("P(candidate pair)")
        ax.grid(alpha=0.3)
        ax.legend(frameon=False, loc="upper left")

    return _rendered(salt, 3.2, draw)


def split_bars(
    salt: str, labels: Sequence[str], values: Sequence[float], groups: Sequence[str], ylabel: str
) -> str:
    """One bar per label coloured by its group (e.g. shards coloured by split), with a legend."""

    def draw(ax) -> None:
        order = list(dict.fromkeys(groups))
        colours = [PALETTE[order.index(g) % len(PALETTE)] for g in groups]
        x = np.arange(len(labels))
        ax.bar(x, values, color=colours)
        for i, group in enumerate(order):
            ax.bar([np.nan], [np.nan], color=PALETTE[i % len(PALETTE)], label=group)
        ax.set_xticks(
            x,
            labels,
            rotation=60 if len(labels) > 6 else 0,
            ha="right" if len(labels) > 6 else "center",
        )
        ax.set_ylabel(ylabel)
        ax.legend(frameon=False)

    return _rendered(salt, 3.2, draw)
