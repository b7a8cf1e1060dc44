"""A small deterministic SVG writer for the report figures: plain string building, no dependency.

Units are SVG user units (px at 100 % zoom). Every number is written with at most two decimals
(`num`), attributes in a fixed order, text through `html.escape`, and there are no ids, no
<style> and no external references, so the same input gives the same bytes and any number of
figures can be inlined in one page. Text widths are estimated (`text_width`), generously, to size
the margins; the browser's real font only needs to be no wider than the estimate.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape

FONT_SIZE = 12.0
"""Tick labels, axis labels and legend text (px); titles are TITLE_SIZE."""
TITLE_SIZE = 13.0
FONT_FAMILY = "system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif"
TEXT_COLOUR = "#222"
AXIS_COLOUR = "#444"
GRID_COLOUR = "#e3e3e3"
LINE_HEIGHT = 16.0
TICK_LENGTH = 4.0

_NARROW = set("fijlrtI!|.,:;'` ()[]-")
_WIDE = set("mwMW%@")


def num(value: float) -> str:
    """`value` with at most two decimals and no trailing zeros: 12.5, 3, 0.07 (never -0)."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def element(tag: str, attributes: dict[str, object], content: str | None = None) -> str:
    """One SVG element: attributes in the given order (floats via `num`, strings escaped, None
    left out); `content` is inserted as is (already markup), None makes a self-closing tag."""
    parts = [tag]
    for name, value in attributes.items():
        if value is None:
            continue
        text = num(value) if isinstance(value, float) else str(value)
        parts.append(f'{name}="{escape(text)}"')
    opening = " ".join(parts)
    return f"<{opening}/>" if content is None else f"<{opening}>{content}</{tag}>"


def text_width(text: str, size: float = FONT_SIZE) -> float:
    """An upper estimate of the rendered width (px) of `text` in a sans-serif font of `size` px."""
    em = 0.0
    for char in text:
        if char in _NARROW:
            em += 0.34
        elif char in _WIDE:
            em += 0.92
        elif char.isupper():
            em += 0.72
        elif char.isdigit():
            em += 0.64
        elif char.isascii():
            em += 0.6
        else:
            em += 0.8
    return em * size


def label(
    x: float,
    y: float,
    text: str,
    *,
    anchor: str = "middle",
    rotate: float = 0.0,
    size: float = FONT_SIZE,
    css_class: str | None = None,
) -> str:
    """A <text> at (x, y) (y is the baseline), anchored start/middle/end, rotated by `rotate`
    degrees counter-clockwise about (x, y)."""
    return element(
        "text",
        {
            "x": float(x),
            "y": float(y),
            "text-anchor": anchor,
            "font-size": None if size == FONT_SIZE else float(size),
            "transform": f"rotate({num(-rotate)} {num(x)} {num(y)})" if rotate else None,
            "class": css_class,
        },
        escape(text),
    )


def line(
    x1: float, y1: float, x2: float, y2: float, colour: str = AXIS_COLOUR, dash: str | None = None
) -> str:
    """A 1 px line, optionally dashed (`dash` is an SVG stroke-dasharray)."""
    return element(
        "line",
        {
            "x1": float(x1),
            "y1": float(y1),
            "x2": float(x2),
            "y2": float(y2),
            "stroke": colour,
            "stroke-dasharray": dash,
        },
    )


def rect(x: float, y: float, width: float, height: float, colour: str, title: str) -> str:
    """A filled rectangle with a tooltip `title` (the exact value it draws)."""
    return element(
        "rect",
        {
            "x": float(x),
            "y": float(y),
            "width": float(width),
            "height": float(height),
            "fill": colour,
        },
        element("title", {}, escape(title)),
    )


def polyline(
    points: Iterable[tuple[float, float]], colour: str, dash: str | None = None, width: float = 1.8
) -> str:
    """An unfilled polyline through `points` (px)."""
    return element(
        "polyline",
        {
            "points": " ".join(f"{num(x)},{num(y)}" for x, y in points),
            "fill": "none",
            "stroke": colour,
            "stroke-width": width,
            "stroke-dasharray": dash,
        },
    )


def group(css_class: str, children: Iterable[str], **attributes: object) -> str:
    """A <g class=...> around `children` (extra attributes: underscores become hyphens)."""
    extra = {name.replace("_", "-"): value for name, value in attributes.items()}
    return element("g", {"class": css_class, **extra}, "".join(children))


def document(figure_id: str, height: float, width: float, children: Iterable[str]) -> str:
    """The root <svg> element (id `figure_id`-svg) of `width` x `height` px."""
    return element(
        "svg",
        {
            "xmlns": "http://www.w3.org/2000/svg",
            "id": f"{figure_id}-svg",
            "width": float(width),
            "height": float(math.ceil(height)),
            "viewBox": f"0 0 {num(width)} {num(math.ceil(height))}",
            "font-family": FONT_FAMILY,
            "font-size": FONT_SIZE,
            "fill": TEXT_COLOUR,
        },
        "".join(children),
    )


# ---- axes ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scale:
    """Maps data values in [low, high] to pixels in [start, end] (end < start for a y axis),
    linearly or, with `log`, linearly in log10 (then low > 0)."""

    low: float
    high: float
    start: float
    end: float
    log: bool = False

    def __call__(self, value: float) -> float:
        if self.log:
            low, high, value = math.log10(self.low), math.log10(self.high), math.log10(value)
        else:
            low, high = self.low, self.high
        return self.start + (value - low) / (high - low) * (self.end - self.start)


@dataclass(frozen=True)
class Ticks:
    """Tick values of an axis with their labels, and the axis range they were chosen for."""

    low: float
    high: float
    values: tuple[float, ...]
    labels: tuple[str, ...]
    log: bool = False


def nice_step(span: float, target: int = 5, integer: bool = False) -> float:
    """The smallest of 1, 2, 2.5, 5 x 10^k that cuts `span` into at most `target` steps
    (at least 1 with `integer`, and never 2.5 when that is not an integer)."""
    raw = span / target if span > 0 else 1.0
    exponent = math.floor(math.log10(raw))
    for mantissa in (1.0, 2.0, 2.5, 5.0, 10.0):
        step = mantissa * 10.0**exponent
        if integer and (step < 1 or step != round(step)):
            continue
        if step >= raw * (1 - 1e-9):
            return step
    return 10.0 ** (exponent + 1)


def _decimals(step: float) -> int:
    """The fewest decimals (at most 6) that write multiples of `step` exactly."""
    for decimals in range(7):
        if abs(round(step, decimals) - step) <= 1e-9 * max(step, 1.0):
            return decimals
    return 6


_SUFFIXES = ((1e9, 1e9, "G"), (1e6, 1e6, "M"), (1e4, 1e3, "k"))
"""(smallest axis maximum, divisor, suffix) of the tick labels written short."""


def tick_labels(values: Sequence[float], step: float) -> tuple[str, ...]:
    """Labels of linear ticks `step` apart: thousands separators below 10,000, then k, M, G
    (e.g. 0, 2.5M, 5M); as many decimals as the step needs; zero is always "0"."""
    top = max((abs(v) for v in values), default=0.0)
    divisor, suffix = next(((d, s) for t, d, s in _SUFFIXES if top >= t), (1.0, ""))
    decimals = _decimals(step / divisor)
    return tuple(
        "0" if round(v / divisor, decimals) == 0 else f"{v / divisor:,.{decimals}f}{suffix}"
        for v in values
    )


def linear_ticks(
    low: float, high: float, *, extend: bool = False, integer: bool = False, target: int = 5
) -> Ticks:
    """Ticks for [low, high]; with `extend` the range grows to the next tick above `high`
    (bars then end inside the axis). An empty range becomes [low, low + 1]."""
    if high <= low:
        high = low + 1.0
    step = nice_step(high - low, target, integer)
    if extend:
        high = math.ceil(high / step - 1e-9) * step
    first, last = math.ceil(low / step - 1e-9), math.floor(high / step + 1e-9)
    values = tuple(round(k * step, 10) for k in range(first, last + 1))
    return Ticks(low, high, values, tick_labels(values, step))


def compact(value: float) -> str:
    """A power of ten written short: 0.01, 1, 100, 1,000, 10k, 1M, 10G."""
    return tick_labels([value], value)[0] if value >= 1 else f"{value:g}"


def log_ticks(smallest: float, largest: float) -> Ticks:
    """Log ticks at powers of ten for positive values in [smallest, largest]: the axis starts
    half a power of ten below the decade of `smallest` (so a bar of `smallest` stays visible)
    and ends 5 % (of the axis, in log space) above `largest`."""
    low = math.log10(smallest)
    low = math.floor(low + 1e-9) - math.log10(2.0)
    high = math.log10(largest)
    high += 0.05 * (high - low)
    exponents = range(math.ceil(low), math.floor(high) + 1)
    values = tuple(10.0**e for e in exponents)
    return Ticks(10.0**low, 10.0**high, values, tuple(compact(v) for v in values), log=True)


def left_axis(
    left: float,
    top: float,
    bottom: float,
    scale: Scale,
    ticks: Ticks,
    title: str,
) -> str:
    """A y axis at x = `left` from `top` to `bottom` px: spine, ticks, labels, rotated title."""
    parts = [line(left, top, left, bottom)]
    widest = 0.0
    for value, text in zip(ticks.values, ticks.labels, strict=True):
        y = scale(value)
        parts.append(line(left - TICK_LENGTH, y, left, y))
        parts.append(label(left - TICK_LENGTH - 3, y + FONT_SIZE * 0.35, text, anchor="end"))
        widest = max(widest, text_width(text))
    if title:
        x = left - TICK_LENGTH - 3 - widest - 8
        parts.append(label(x, (top + bottom) / 2, title, rotate=90, css_class="axis-title"))
    return group("y-axis", parts)


def left_axis_width(ticks: Ticks, title: str) -> float:
    """Pixels a `left_axis` needs left of its spine."""
    widest = max((text_width(t) for t in ticks.labels), default=0.0)
    return TICK_LENGTH + 3 + widest + (8 + FONT_SIZE if title else 0)


def bottom_axis(
    left: float,
    right: float,
    bottom: float,
    positions: Sequence[float],
    labels: Sequence[str],
    title: str,
    *,
    rotate: float = 0.0,
) -> str:
    """An x axis at y = `bottom` from `left` to `right` px: spine, ticks at `positions` (px),
    labels (rotated by `rotate` degrees, then right-aligned on the tick), title below."""
    parts = [line(left, bottom, right, bottom)]
    for x, text in zip(positions, labels, strict=True):
        parts.append(line(x, bottom, x, bottom + TICK_LENGTH))
        if rotate:
            parts.append(label(x + 3, bottom + TICK_LENGTH + 10, text, anchor="end", rotate=rotate))
        else:
            parts.append(label(x, bottom + TICK_LENGTH + FONT_SIZE + 1, text))
    if title:
        y = bottom + tick_label_height(labels, rotate) + LINE_HEIGHT
        parts.append(label((left + right) / 2, y, title, css_class="axis-title"))
    return group("x-axis", parts)


def grid(
    xs: Sequence[float], ys: Sequence[float], left: float, right: float, top: float, bottom: float
) -> str:
    """Light grid lines across the plot [left, right] x [top, bottom] at x = `xs` and y = `ys`."""
    vertical = [line(x, top, x, bottom, GRID_COLOUR) for x in xs]
    horizontal = [line(left, y, right, y, GRID_COLOUR) for y in ys]
    return group("grid", vertical + horizontal)


def tick_label_height(labels: Sequence[str], rotate: float) -> float:
    """Pixels below the spine taken by the ticks and their labels."""
    if not rotate:
        return TICK_LENGTH + FONT_SIZE + 4
    widest = max((text_width(t) for t in labels), default=0.0)
    angle = math.radians(rotate)
    return TICK_LENGTH + 10 + widest * math.sin(angle) + FONT_SIZE * math.cos(angle)


def bottom_axis_height(labels: Sequence[str], title: str, rotate: float = 0.0) -> float:
    """Pixels a `bottom_axis` needs below its spine."""
    return tick_label_height(labels, rotate) + (LINE_HEIGHT + 4 if title else 0)


# ---- legend -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LegendEntry:
    """A legend item: a filled swatch (bars) or a line sample (`line`, with its dash)."""

    text: str
    colour: str
    line: bool = False
    dash: str | None = None

    @property
    def width(self) -> float:
        return 22 + 6 + text_width(self.text) + 18


def legend_rows(entries: Sequence[LegendEntry], width: float) -> list[list[LegendEntry]]:
    """`entries` in order, wrapped into rows no wider than `width` px."""
    rows: list[list[LegendEntry]] = []
    used = width
    for entry in entries:
        if rows and used + entry.width <= width:
            rows[-1].append(entry)
            used += entry.width
        else:
            rows.append([entry])
            used = entry.width
    return rows


def legend(entries: Sequence[LegendEntry], centre: float, top: float, width: float) -> str:
    """The legend rows centred on x = `centre`, starting at y = `top`."""
    parts = []
    for i, row in enumerate(legend_rows(entries, width)):
        x = centre - sum(e.width for e in row) / 2 + 9
        middle = top + i * LINE_HEIGHT + LINE_HEIGHT / 2
        for entry in row:
            if entry.line:
                parts.append(
                    polyline([(x, middle), (x + 22, middle)], entry.colour, entry.dash, width=2.0)
                )
            else:
                parts.append(
                    element(
                        "rect",
                        {
                            "x": x + 6,
                            "y": middle - 5,
                            "width": 10.0,
                            "height": 10.0,
                            "fill": entry.colour,
                        },
                    )
                )
            parts.append(label(x + 28, middle + FONT_SIZE * 0.35, entry.text, anchor="start"))
            x += entry.width
    return group("legend", parts)


def legend_height(entries: Sequence[LegendEntry], width: float) -> float:
    """Pixels taken by `legend` (0 without entries)."""
    return len(legend_rows(entries, width)) * LINE_HEIGHT if entries else 0.0
