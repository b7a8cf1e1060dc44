"""The HTML report of a `slimpajama mix` output folder (its report.json)."""

from __future__ import annotations

import json
from typing import Any

from slimpajama.report import figures
from slimpajama.report.html import (
    Cell,
    Page,
    cell,
    element_id,
    figure,
    key_value_table,
    paragraph,
    percent,
    table,
)

SPLITS = ("train", "validation", "test")
REMOVALS = ("exact", "near")


def _shares_section(page: Page, report: dict[str, Any], names: list[str]) -> None:
    sources = report["sources"]
    unit = report.get("token_unit", "tokens")

    def row(name: str) -> list[Cell]:
        s = sources[name]
        return [
            Cell(name),
            percent(s["target_share"], element_id("mix", name, "target"), 3),
            percent(s["mix"]["token_share"], element_id("mix", name, "mix"), 3),
            *(
                percent(s[split]["token_share"], element_id("mix", name, split), 3)
                for split in SPLITS
            ),
            Cell(f"{s['weight']:.4f}", element_id("mix", name, "weight"), numeric=True),
            cell(s["available"]["tokens"], element_id("mix", name, "available")),
            cell(round(s["target_tokens"]), element_id("mix", name, "target_tokens")),
            cell(s["mix"]["tokens"], element_id("mix", name, "tokens")),
            cell(s["mix"]["docs"], element_id("mix", name, "docs")),
        ]

    totals = report["totals"]
    total_row = [
        Cell("total"),
        Cell("100.000 %", numeric=True),
        percent(totals["mix"]["token_share"], digits=3),
        *(percent(totals[split]["token_share"], digits=3) for split in SPLITS),
        Cell("", numeric=True),
        cell(sum(sources[n]["available"]["tokens"] for n in names)),
        cell(round(report["target"]["total_tokens"])),
        cell(totals["mix"]["tokens"]),
        cell(totals["mix"]["docs"]),
    ]
    page.section(
        "sec-mix-shares",
        "Target vs achieved shares",
        paragraph(
            f"Shares of {unit} (counter: {report['counter']}); mixture {report['mixture']}. "
            "Weight = target tokens / available tokens: each document appears floor(weight) times, "
            "plus once more for a hash-selected fraction."
        ),
        table(
            "table-mix-shares",
            [
                "source",
                "target",
                "mix",
                "train",
                "validation",
                "test",
                "weight",
                "available tokens",
                "target tokens",
                "mix tokens",
                "mix docs",
            ],
            [row(n) for n in names],
            total_row,
        ),
        figure(
            "fig-mix-shares",
            f"Target vs achieved share of {unit} per source (%)",
            figures.grouped_bars(
                "fig-mix-shares",
                names,
                {
                    "target": [sources[n]["target_share"] for n in names],
                    "mix": [sources[n]["mix"]["token_share"] for n in names],
                    "train": [sources[n]["train"]["token_share"] for n in names],
                },
                f"share of {unit} (%)",
            ),
        ),
    )


def _splits_section(page: Page, report: dict[str, Any]) -> None:
    totals = report["totals"]
    files = report.get("files", {})
    rows = [
        [
            Cell(split),
            cell(totals[split]["docs"], element_id("split", split, "docs")),
            cell(totals[split]["tokens"], element_id("split", split, "tokens")),
            cell(totals[split]["bytes"], element_id("split", split, "bytes")),
            cell(files.get(split)),
        ]
        for split in SPLITS
    ]
    page.section(
        "sec-mix-splits",
        "Splits",
        paragraph(
            f"Holdout fraction {report['holdout_fraction']:g}: the lower half of the held-out "
            "documents goes to validation, the upper half to test."
        ),
        table("table-mix-splits", ["split", "documents", "tokens", "bytes", "files"], rows),
    )


def _repeats_section(page: Page, report: dict[str, Any], names: list[str]) -> None:
    sources = report["sources"]
    copies = sorted({int(c) for n in names for c in sources[n]["repeat_histogram"]})
    counts = {n: [sources[n]["repeat_histogram"].get(str(c), 0) for c in copies] for n in names}
    labels = [f"{c} {'copy' if c == 1 else 'copies'}" for c in copies]
    rows = [
        [Cell(n)]
        + [
            cell(v, element_id("repeats", n, str(c)))
            for c, v in zip(copies, counts[n], strict=True)
        ]
        for n in names
    ]
    page.section(
        "sec-mix-repeats",
        "Repeats",
        paragraph("Number of available documents per number of copies in the mix (0 = left out)."),
        table("table-mix-repeats", ["source", *labels], rows),
        figure(
            "fig-mix-repeats",
            "Documents by number of copies in the mix",
            figures.grouped_bars("fig-mix-repeats", labels, counts, "documents"),
        ),
    )


def _decontamination_section(page: Page, report: dict[str, Any], names: list[str]) -> None:
    sources = report["sources"]
    method = report["decontamination"]
    removed = method["removed"]
    header = ["source"] + [
        f"{kind} {what}" for kind in REMOVALS for what in ("docs", "copies", "tokens")
    ]
    rows = [
        [Cell(n)]
        + [
            cell(sources[n]["decontamination"][kind][what], element_id("decontam", n, kind, what))
            for kind in REMOVALS
            for what in ("docs", "copies", "tokens")
        ]
        for n in names
    ]
    total = [Cell("total")] + [
        cell(removed[kind][what], element_id("decontam", "total", kind, what))
        for kind in REMOVALS
        for what in ("docs", "copies", "tokens")
    ]
    near = method["near"]
    page.section(
        "sec-mix-decontamination",
        "Decontamination",
        paragraph(
            f"Train documents removed (with all their copies) because they copy a validation or test "
            f"document: exact = {method['exact']}; near = MinHash {near['minhash']}, "
            f"{near['bands_rows'][0]} × {near['bands_rows'][1]} bands, {near['verify']} "
            f"(threshold {near['threshold']:g})."
        ),
        table("table-mix-decontamination", header, rows, total),
    )


def mix_page(report: dict[str, Any]) -> Page:
    """The page of a mix output folder holding `report` (its report.json)."""
    names = list(report["sources"])
    page = Page(
        "slimpajama mix report",
        f"{report['input']} mixed to {report['mixture']} (seed {report['seed']}, "
        f"holdout {report['holdout_fraction']:g}, counter {report['counter']})",
    )
    _shares_section(page, report, names)
    _splits_section(page, report)
    _repeats_section(page, report, names)
    _decontamination_section(page, report, names)
    options = {
        k: json.dumps(v, sort_keys=True) if isinstance(v, (dict, list)) else v
        for k, v in report.items()
        if k not in ("sources", "totals", "decontamination", "files")
    }
    page.section("sec-mix-options", "Options", key_value_table("table-mix-options", options))
    return page
