"""Report figures as inline SVG strings, drawn by `slimpajama.report.svg` (no plotting library).

Every figure is WIDTH px wide (it scales down with the page), its height follows from its content;
the root element's id is `<figure_id>-svg` and it holds no other id, so figures inlined together
never clash, and the same numbers give the same bytes. Each bar, bin and curve carries a <title>
(tooltip) with the exact value it draws. Values drawn as bars are non-negative.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from html import escape

import numpy as np

from slimpajama.report import svg
from slimpajama.report.svg import LegendEntry, Scale, Ticks

PALETTE = ("#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3", "#8c8c8c")
"""Series colours, in series order."""
MARKER_COLOUR = PALETTE[3]
"""Threshold lines."""

WIDTH = 768.0
"""Figure width (px)."""
PAD = 8.0
"""Blank border around a figure (px)."""
RIGHT_MARGIN = 24.0
"""Room right of the plot for the last x tick label (px)."""
BAR_SHARE = 0.8
"""Share of a category's slot covered by its bar (or its group of bars)."""
THRESHOLD_DASH = "6 3"
SERIES_DASHES = (None, "2 3", "6 3", "8 3 2 3")
"""Line styles of the curves of `s_curves`, in curve order."""


def colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def value_text(value: float) -> str:
    """A drawn value as its tooltip writes it: 1,234 for integers, else 4 significant digits."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.4g}"


def bar_ticks(values: Sequence[float], *, integer: bool = False, log: bool = False) -> Ticks:
    """The y ticks of a bar chart of `values` from 0 (log: from below the smallest positive
    value), ending at or just above the largest."""
    if log:
        positive = [v for v in values if v > 0]
        return svg.log_ticks(min(positive), max(positive))
    return svg.linear_ticks(0.0, max(values, default=0.0), extend=True, integer=integer)


def _chart(
    figure_id: str,
    plot_height: float,
    y: Ticks,
    ylabel: str,
    x: Ticks | Sequence[str],
    xlabel: str,
    draw: Callable[[float, float, Scale], str],
    *,
    rotate: float = 0.0,
    entries: Sequence[LegendEntry] = (),
    grid: bool = False,
) -> str:
    """One plot `plot_height` px high with a y value axis, an x axis (value ticks, or category
    labels centred in equal slots), an optional legend above and an optional grid at the ticks.
    `draw(left, right, y_scale)` returns the marks, given the plot's x extent (px)."""
    legend_width = WIDTH - 2 * PAD
    top = PAD + svg.legend_height(entries, legend_width) + (6 if entries else 4)
    left = PAD + svg.left_axis_width(y, ylabel)
    right = WIDTH - RIGHT_MARGIN
    bottom = top + plot_height
    scale = Scale(y.low, y.high, bottom, top, log=y.log)
    if isinstance(x, Ticks):
        x_scale = Scale(x.low, x.high, left, right)
        positions = [x_scale(v) for v in x.values]
        x_labels: Sequence[str] = x.labels
    else:
        slot = (right - left) / max(len(x), 1)
        positions = [left + (i + 0.5) * slot for i in range(len(x))]
        x_labels = x
    height = bottom + svg.bottom_axis_height(x_labels, xlabel, rotate) + PAD
    parts = [
        svg.grid(positions, [scale(v) for v in y.values], left, right, top, bottom) if grid else "",
        draw(left, right, scale),
        svg.left_axis(left, top, bottom, scale, y, ylabel),
        svg.bottom_axis(left, right, bottom, positions, x_labels, xlabel, rotate=rotate),
    ]
    if entries:
        parts.append(svg.legend(entries, WIDTH / 2, PAD, legend_width))
    return svg.document(figure_id, height, WIDTH, parts)


def stacked_share_bars(
    figure_id: str, categories: Sequence[str], panels: Mapping[str, Mapping[str, Sequence[float]]]
) -> str:
    """Horizontal bars, one per category, stacked by series as percent of the category's total;
    one panel per entry of `panels` (panel title -> series label -> values per category), side
    by side, category labels left of the first, one legend of the series above them all."""
    series_labels = list(next(iter(panels.values())))
    entries = [LegendEntry(name, colour(i)) for i, name in enumerate(series_labels)]
    legend_width = WIDTH - 2 * PAD
    top = PAD + svg.legend_height(entries, legend_width) + 8 + svg.LINE_HEIGHT
    row = 34.0
    bottom = top + row * len(categories)
    x_ticks = svg.linear_ticks(0.0, 100.0)
    left = PAD + max((svg.text_width(c) for c in categories), default=0.0) + 10
    gap = 48.0
    panel_width = (WIDTH - RIGHT_MARGIN - left - gap * (len(panels) - 1)) / len(panels)
    parts = []
    for p, (panel_title, series) in enumerate(panels.items()):
        x0 = left + p * (panel_width + gap)
        scale = Scale(0.0, 100.0, x0, x0 + panel_width)
        values = np.array([list(v) for v in series.values()], dtype=np.float64)
        totals = values.sum(axis=0)
        shares = np.divide(values * 100.0, totals, out=np.zeros_like(values), where=totals > 0)
        bars = []
        for c, category in enumerate(categories):
            y = top + c * row + row * (1 - BAR_SHARE) / 2
            start = 0.0
            for s, name in enumerate(series):
                share = float(shares[s, c])
                title = (
                    f"{category}, {name}: {value_text(values[s, c])} {panel_title} ({share:.2f} %)"
                )
                bars.append(
                    svg.rect(
                        scale(start),
                        y,
                        scale(start + share) - scale(start),
                        row * BAR_SHARE,
                        colour(s),
                        title,
                    )
                )
                start += share
        ticks = []
        for c, category in enumerate(categories):
            y = top + (c + 0.5) * row
            ticks.append(svg.line(x0 - svg.TICK_LENGTH, y, x0, y))
            if p == 0:
                ticks.append(
                    svg.label(
                        x0 - svg.TICK_LENGTH - 3, y + svg.FONT_SIZE * 0.35, category, anchor="end"
                    )
                )
        ticks.append(svg.line(x0, top, x0, bottom))
        parts.append(
            svg.group(
                "panel",
                [
                    svg.label(
                        x0 + panel_width / 2,
                        top - 8,
                        panel_title,
                        size=svg.TITLE_SIZE,
                        css_class="title",
                    ),
                    svg.group("bars", bars),
                    svg.group("y-axis", ticks),
                    svg.bottom_axis(
                        x0,
                        x0 + panel_width,
                        bottom,
                        [scale(v) for v in x_ticks.values],
                        x_ticks.labels,
                        "% of " + panel_title,
                    ),
                ],
            )
        )
    parts.append(svg.legend(entries, WIDTH / 2, PAD, legend_width))
    height = bottom + svg.bottom_axis_height(x_ticks.labels, "% of") + PAD
    return svg.document(figure_id, height, WIDTH, parts)


def grouped_bars(
    figure_id: str,
    categories: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    ylabel: str,
) -> str:
    """Vertical bars grouped by category, one bar per series (None draws nothing), a legend of
    the series above."""
    present = [v for values in series.values() for v in values if v is not None]
    y = bar_ticks(present)
    entries = [LegendEntry(name, colour(i)) for i, name in enumerate(series)]

    def draw(left: float, right: float, scale: Scale) -> str:
        slot = (right - left) / max(len(categories), 1)
        width = slot * BAR_SHARE / max(len(series), 1)
        bars = []
        for s, (name, values) in enumerate(series.items()):
            for c, (category, value) in enumerate(zip(categories, values, strict=True)):
                if value is None:
                    continue
                x = left + c * slot + slot * (1 - BAR_SHARE) / 2 + s * width
                bars.append(
                    svg.rect(
                        x,
                        scale(value),
                        width,
                        scale(0.0) - scale(value),
                        colour(s),
                        f"{category}, {name}: {value_text(value)}",
                    )
                )
        return svg.group("bars", bars)

    return _chart(figure_id, 220.0, y, ylabel, categories, "", draw, rotate=20.0, entries=entries)


def count_bars(
    figure_id: str, labels: Sequence[str], counts: Sequence[int], xlabel: str, ylabel: str
) -> str:
    """One bar per label (a histogram already binned); log y when the counts span 100x or more
    (a count of 0 then draws no bar)."""
    positive = [c for c in counts if c > 0]
    log = bool(positive) and max(positive) >= 100 * min(positive)
    y = bar_ticks(counts, integer=True, log=log)

    def draw(left: float, right: float, scale: Scale) -> str:
        slot = (right - left) / max(len(labels), 1)
        bottom = scale(y.low)
        bars = [
            svg.rect(
                left + (i + (1 - BAR_SHARE) / 2) * slot,
                scale(count),
                slot * BAR_SHARE,
                bottom - scale(count),
                colour(0),
                f"{text}: {count:,}",
            )
            for i, (text, count) in enumerate(zip(labels, counts, strict=True))
            if count > 0
        ]
        return svg.group("bars", bars)

    rotate = 0.0 if len(labels) <= 12 else 60.0
    return _chart(figure_id, 190.0, y, ylabel, labels, xlabel, draw, rotate=rotate)


def _marker(x: float, top: float, bottom: float) -> str:
    """The dashed vertical threshold line at x = `x` px from `top` to `bottom` px."""
    return svg.group("marker", [svg.line(x, top, x, bottom, MARKER_COLOUR, THRESHOLD_DASH)])


def histogram(
    figure_id: str,
    edges: np.ndarray,
    counts: np.ndarray,
    xlabel: str,
    marker: float | None = None,
    marker_label: str = "",
) -> str:
    """A histogram from bin `edges` and `counts` (one rect per non-empty bin), with an optional
    dashed vertical marker line (drawn if inside the edges, listed in a legend)."""
    y = bar_ticks([float(c) for c in counts], integer=True)
    x = svg.linear_ticks(float(edges[0]), float(edges[-1]), target=6)
    entries = (
        [LegendEntry(marker_label, MARKER_COLOUR, line=True, dash=THRESHOLD_DASH)]
        if marker is not None
        else []
    )

    def draw(left: float, right: float, scale: Scale) -> str:
        to_x = Scale(x.low, x.high, left, right)
        bins = []
        for i, count in enumerate(counts):
            if count <= 0:
                continue
            low, high = float(edges[i]), float(edges[i + 1])
            closing = "]" if i == len(counts) - 1 else ")"
            bins.append(
                svg.rect(
                    to_x(low),
                    scale(float(count)),
                    to_x(high) - to_x(low),
                    scale(0.0) - scale(float(count)),
                    colour(0),
                    f"[{low:,.6g}, {high:,.6g}{closing}: {int(count):,}",
                )
            )
        marks = svg.group("bars", bins, shape_rendering="crispEdges")
        if marker is not None and x.low <= marker <= x.high:
            marks += _marker(to_x(marker), scale(y.high), scale(0.0))
        return marks

    return _chart(figure_id, 190.0, y, "count", x, xlabel, draw, entries=entries)


def s_curves(
    figure_id: str, curves: Mapping[str, tuple[np.ndarray, np.ndarray]], threshold: float
) -> str:
    """Candidate probability against Jaccard for each (label -> (J, P)) curve on [0, 1] x
    [0, 1.02], the threshold marked by a dashed vertical line, a grid at the ticks."""
    y = replace(svg.linear_ticks(0.0, 1.0), high=1.02)
    x = svg.linear_ticks(0.0, 1.0)
    dashes = [SERIES_DASHES[i % len(SERIES_DASHES)] for i in range(len(curves))]
    entries = [
        LegendEntry(name, colour(i), line=True, dash=dashes[i]) for i, name in enumerate(curves)
    ] + [LegendEntry(f"threshold {threshold:g}", MARKER_COLOUR, line=True, dash=THRESHOLD_DASH)]

    def draw(left: float, right: float, scale: Scale) -> str:
        to_x = Scale(x.low, x.high, left, right)
        lines = []
        for i, (name, (jaccard, probability)) in enumerate(curves.items()):
            points = [
                (to_x(float(j)), scale(float(p))) for j, p in zip(jaccard, probability, strict=True)
            ]
            lines.append(
                svg.element(
                    "g",
                    {"class": "curve"},
                    svg.element("title", {}, escape(name))
                    + svg.polyline(points, colour(i), dashes[i]),
                )
            )
        return "".join(lines) + _marker(to_x(threshold), scale(y.high), scale(0.0))

    return _chart(
        figure_id,
        210.0,
        y,
        "P(candidate pair)",
        x,
        "Jaccard similarity J",
        draw,
        entries=entries,
        grid=True,
    )


def split_bars(
    figure_id: str,
    labels: Sequence[str],
    values: Sequence[float],
    groups: Sequence[str],
    ylabel: str,
) -> str:
    """One bar per label coloured by its group (e.g. shards coloured by split), a legend of the
    groups in order of first appearance."""
    order = list(dict.fromkeys(groups))
    y = bar_ticks(values)
    entries = [LegendEntry(name, colour(i)) for i, name in enumerate(order)]

    def draw(left: float, right: float, scale: Scale) -> str:
        slot = (right - left) / max(len(labels), 1)
        bars = [
            svg.rect(
                left + (i + (1 - BAR_SHARE) / 2) * slot,
                scale(value),
                slot * BAR_SHARE,
                scale(0.0) - scale(value),
                colour(order.index(group)),
                f"{text} ({group}): {value_text(value)}",
            )
            for i, (text, value, group) in enumerate(zip(labels, values, groups, strict=True))
        ]
        return svg.group("bars", bars)

    rotate = 60.0 if len(labels) > 6 else 0.0
    return _chart(figure_id, 200.0, y, ylabel, labels, "", draw, rotate=rotate, entries=entries)
