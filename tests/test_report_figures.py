"""The report's SVG writer (slimpajama.report.svg) and figures, without Beam: valid XML, exact bar
counts and height ratios, exact tick labels, escaped text, identical bytes for identical input."""

from __future__ import annotations

import math
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from slimpajama.report import figures, svg

NS = "{http://www.w3.org/2000/svg}"


def parse(text: str) -> ET.Element:
    root = ET.fromstring(text)  # raises on invalid XML
    assert root.tag == f"{NS}svg"
    return root


def bars(root: ET.Element) -> list[ET.Element]:
    return root.findall(f".//{NS}g[@class='bars']/{NS}rect")


def tick_labels(root: ET.Element, axis: str) -> list[str]:
    """The tick labels of the first `axis` ("x-axis" or "y-axis") group, in drawing order."""
    group = root.find(f".//{NS}g[@class='{axis}']")
    return [t.text for t in group.findall(f"{NS}text") if t.get("class") != "axis-title"]


def axis_title(root: ET.Element, axis: str) -> str | None:
    titles = root.findall(f".//{NS}g[@class='{axis}']/{NS}text[@class='axis-title']")
    return titles[0].text if titles else None


def legend_texts(root: ET.Element) -> list[str]:
    return [t.text for t in root.findall(f".//{NS}g[@class='legend']/{NS}text")]


def attr(element: ET.Element, name: str) -> float:
    return float(element.get(name))


def test_count_bars_three_bars_with_heights_in_ratio_and_exact_ticks():
    text = figures.count_bars("fig-c", ["a", "b", "c"], [10, 20, 40], "size", "clusters")
    root = parse(text)
    assert root.get("id") == "fig-c-svg" and root.get("width") == "768"
    found = bars(root)
    assert len(found) == 3
    heights = [attr(r, "height") for r in found]
    assert heights[1] / heights[0] == pytest.approx(2.0, abs=1e-3)
    assert heights[2] / heights[0] == pytest.approx(4.0, abs=1e-3)
    assert heights[2] == pytest.approx(190.0, abs=0.01)  # 40 is the top tick: the full plot height
    bottoms = {round(attr(r, "y") + attr(r, "height"), 2) for r in found}
    assert len(bottoms) == 1  # every bar stands on the x axis
    assert [r.find(f"{NS}title").text for r in found] == ["a: 10", "b: 20", "c: 40"]
    assert tick_labels(root, "y-axis") == ["0", "10", "20", "30", "40"]
    assert tick_labels(root, "x-axis") == ["a", "b", "c"]
    assert (axis_title(root, "x-axis"), axis_title(root, "y-axis")) == ("size", "clusters")
    assert {r.get("fill") for r in found} == {figures.PALETTE[0]}
    assert root.findall(f".//{NS}g[@class='legend']") == []


def test_count_bars_switch_to_a_log_axis_when_counts_span_100x():
    root = parse(figures.count_bars("fig-l", ["2", "3", "4"], [1, 1000, 0], "size", "clusters"))
    found = bars(root)
    assert [r.find(f"{NS}title").text for r in found] == ["2: 1", "3: 1,000"]  # 0 draws nothing
    assert tick_labels(root, "y-axis") == ["1", "10", "100", "1,000"]
    low = -math.log10(2.0)  # half a decade below the smallest count's decade
    ratio = attr(found[1], "height") / attr(found[0], "height")
    assert ratio == pytest.approx((3 - low) / (0 - low), rel=1e-3)


def test_many_count_bars_get_rotated_labels():
    labels = [str(i) for i in range(13)]
    root = parse(figures.count_bars("fig-m", labels, list(range(1, 14)), "size", "n"))
    texts = root.find(f".//{NS}g[@class='x-axis']").findall(f"{NS}text")
    rotated = [t for t in texts if t.get("class") != "axis-title"]
    assert len(rotated) == 13 and all(
        t.get("transform", "").startswith("rotate(-60 ") for t in rotated
    )


def test_grouped_bars_skip_none_and_list_series_in_the_legend():
    root = parse(
        figures.grouped_bars(
            "fig-g", ["x", "y", "z"], {"ours": [1.5, 3.0, 0.25], "theirs": [2.0, None, 4.0]}, "%"
        )
    )
    found = bars(root)
    assert [r.find(f"{NS}title").text for r in found] == [
        "x, ours: 1.5",
        "y, ours: 3",
        "z, ours: 0.25",
        "x, theirs: 2",
        "z, theirs: 4",
    ]
    assert [r.get("fill") for r in found] == [figures.PALETTE[0]] * 3 + [figures.PALETTE[1]] * 2
    assert legend_texts(root) == ["ours", "theirs"]
    assert tick_labels(root, "y-axis") == ["0", "1", "2", "3", "4"]
    assert attr(found[4], "height") == pytest.approx(4 * attr(found[3], "height") / 2, abs=0.02)
    # the two bars of category x sit side by side
    assert attr(found[3], "x") == pytest.approx(
        attr(found[0], "x") + attr(found[0], "width"), abs=0.02
    )


def test_stacked_share_bars_fill_each_panel_in_category_order():
    panels = {
        "documents": {"kept": [3, 0], "removed": [1, 0]},
        "bytes": {"kept": [50, 10], "removed": [150, 30]},
    }
    root = parse(figures.stacked_share_bars("fig-s", ["A", "B"], panels))
    found = bars(root)
    assert len(found) == 8  # 2 panels x 2 categories x 2 series
    titles = [r.find(f"{NS}title").text for r in found]
    assert titles[:4] == [
        "A, kept: 3 documents (75.00 %)",
        "A, removed: 1 documents (25.00 %)",
        "B, kept: 0 documents (0.00 %)",  # a category with nothing in is drawn empty
        "B, removed: 0 documents (0.00 %)",
    ]
    assert titles[6] == "B, kept: 10 bytes (25.00 %)"
    a_kept, a_removed = found[4], found[5]
    assert attr(a_removed, "x") == pytest.approx(
        attr(a_kept, "x") + attr(a_kept, "width"), abs=0.02
    )
    assert attr(a_removed, "width") == pytest.approx(3 * attr(a_kept, "width"), abs=0.02)
    assert legend_texts(root) == ["kept", "removed"]
    assert [t.text for t in root.findall(f".//{NS}text[@class='title']")] == ["documents", "bytes"]
    assert tick_labels(root, "y-axis") == ["A", "B"]  # category labels left of the first panel only
    assert tick_labels(root, "x-axis") == ["0", "20", "40", "60", "80", "100"]


def test_histogram_draws_non_empty_bins_and_the_marker_inside_the_axis():
    edges = np.array([0.75, 0.8, 0.85, 0.9, 0.95, 1.0])
    counts = np.array([0, 3, 0, 1, 6])
    root = parse(figures.histogram("fig-h", edges, counts, "J", 0.8, "threshold 0.8"))
    found = bars(root)
    assert [r.find(f"{NS}title").text for r in found] == [
        "[0.8, 0.85): 3",
        "[0.9, 0.95): 1",
        "[0.95, 1]: 6",
    ]
    widths = {round(attr(r, "width"), 1) for r in found}
    assert len(widths) == 1  # equal bins, equal widths
    assert tick_labels(root, "x-axis") == ["0.75", "0.80", "0.85", "0.90", "0.95", "1.00"]
    assert tick_labels(root, "y-axis") == ["0", "2", "4", "6"]
    marker = root.find(f".//{NS}g[@class='marker']/{NS}line")
    assert attr(marker, "x1") == pytest.approx(attr(found[0], "x"), abs=0.01)  # 0.8 = a bin edge
    assert legend_texts(root) == ["threshold 0.8"]
    outside = parse(figures.histogram("fig-o", edges, counts, "J", 0.5, "threshold 0.5"))
    assert outside.findall(f".//{NS}g[@class='marker']") == []


def test_s_curves_one_polyline_per_curve_through_every_point():
    jaccard = np.linspace(0.0, 1.0, 201)
    curves = {"a": (jaccard, jaccard**2), "b": (jaccard, jaccard)}
    root = parse(figures.s_curves("fig-curve", curves, 0.8))
    lines = root.findall(f".//{NS}polyline")
    data = [p for p in lines if p.get("stroke-width") == "1.8"]
    assert len(data) == 2 and all(len(p.get("points").split()) == 201 for p in data)
    first = [tuple(map(float, xy.split(","))) for xy in data[1].get("points").split()]
    # y = x on the same scale: a straight line from the bottom-left to P = 1
    assert first[100][1] == pytest.approx((first[0][1] + first[200][1]) / 2, abs=0.02)
    assert data[0].get("stroke-dasharray") is None and data[1].get("stroke-dasharray") == "2 3"
    assert legend_texts(root) == ["a", "b", "threshold 0.8"]
    assert tick_labels(root, "x-axis") == ["0", "0.2", "0.4", "0.6", "0.8", "1.0"]
    assert len(root.findall(f".//{NS}g[@class='grid']/{NS}line")) == 12


def test_split_bars_colour_by_group_in_order_of_appearance():
    labels = ["t/0", "t/1", "v/0", "s/0"]
    root = parse(
        figures.split_bars(
            "fig-t",
            labels,
            [5_000_000, 2_500_000, 10_000, 0],
            ["train", "train", "val", "test"],
            "tokens",
        )
    )
    found = bars(root)
    assert [r.get("fill") for r in found] == [
        figures.PALETTE[0],
        figures.PALETTE[0],
        figures.PALETTE[1],
        figures.PALETTE[2],
    ]
    assert found[0].find(f"{NS}title").text == "t/0 (train): 5,000,000"
    assert legend_texts(root) == ["train", "val", "test"]
    assert tick_labels(root, "y-axis") == ["0", "1M", "2M", "3M", "4M", "5M"]


def test_text_is_escaped_and_bytes_are_identical_for_identical_input():
    label = "<b>&\"x'</b>"
    text = figures.count_bars("fig-e", [label, "b"], [1, 2], label, "n")
    assert "<b>" not in text
    root = parse(text)
    assert tick_labels(root, "x-axis")[0] == label and axis_title(root, "x-axis") == label
    assert text == figures.count_bars("fig-e", [label, "b"], [1, 2], label, "n")
    other = figures.count_bars("fig-f", [label, "b"], [1, 2], label, "n")
    assert other == text.replace('id="fig-e-svg"', 'id="fig-f-svg"')
    assert text.count(" id=") == 1  # the root's only: figures inlined together never clash
    assert "<style" not in text and "href" not in text and "url(" not in text


@pytest.mark.parametrize(
    ("low", "high", "extend", "integer", "values", "labels"),
    [
        (0.0, 40.0, True, True, (0, 10, 20, 30, 40), ("0", "10", "20", "30", "40")),
        (0.0, 37.0, True, True, (0, 10, 20, 30, 40), ("0", "10", "20", "30", "40")),
        (0.0, 3.0, True, True, (0, 1, 2, 3), ("0", "1", "2", "3")),
        (0.0, 1.0, False, False, (0, 0.2, 0.4, 0.6, 0.8, 1.0), ("0", "0.2", "0.4", "0.6", "0.8", "1.0")),
        (0.0, 63.76, True, False, (0, 20, 40, 60, 80), ("0", "20", "40", "60", "80")),
        (0.0, 9.0, True, False, (0, 2, 4, 6, 8, 10), ("0", "2", "4", "6", "8", "10")),
        (0.0, 12.0, True, False, (0, 2.5, 5, 7.5, 10, 12.5), ("0", "2.5", "5.0", "7.5", "10.0", "12.5")),
        (0.0, 120_000.0, True, False, (0, 25_000, 50_000, 75_000, 100_000, 125_000), ("0", "25k", "50k", "75k", "100k", "125k")),
        (0.0, 1_500.0, True, False, (0, 500, 1000, 1500), ("0", "500", "1,000", "1,500")),
        (0.0, 0.0, True, True, (0, 1), ("0", "1")),
    ],
)
def test_linear_ticks(low, high, extend, integer, values, labels):
    ticks = svg.linear_ticks(low, high, extend=extend, integer=integer)
    assert ticks.values == pytest.approx(values) and ticks.labels == labels
    assert ticks.high == pytest.approx(values[-1] if extend else high)


def test_log_ticks_and_numbers():
    ticks = svg.log_ticks(3, 250_000)
    assert ticks.labels == ("1", "10", "100", "1,000", "10k", "100k")
    assert ticks.low == pytest.approx(0.5) and ticks.high > 250_000
    assert [svg.num(v) for v in (12.5, 3.0, 0.071, -0.001, 100.0, 1 / 3)] == [
        "12.5",
        "3",
        "0.07",
        "0",
        "100",
        "0.33",
    ]
    assert svg.nice_step(0.05 * 5) == 0.05 and svg.nice_step(9, integer=True) == 2
    assert svg.tick_labels([0, 2_500_000, 5_000_000], 2_500_000) == ("0", "2.5M", "5.0M")


def test_legend_wraps_into_rows_within_the_width():
    entries = [svg.LegendEntry("x" * 20, "#000") for _ in range(7)]
    rows = svg.legend_rows(entries, 600)
    assert [len(r) for r in rows] == [3, 3, 1]
    assert svg.legend_height(entries, 600) == 3 * svg.LINE_HEIGHT


def test_building_figures_imports_no_plotting_library():
    code = (
        "import sys\n"
        "import slimpajama.report.build, slimpajama.report.dedup_page, slimpajama.report.mix_page\n"
        "import slimpajama.report.tokenize_page\n"
        "from slimpajama.report import figures\n"
        "figures.count_bars('f', ['a'], [1], 'x', 'y')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('matplotlib', 'PIL')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
