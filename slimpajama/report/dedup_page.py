"""The HTML report of a `slimpajama dedup` output folder (report.json + audit files)."""

from __future__ import annotations

import json
from itertools import islice
from typing import Any

import numpy as np

from slimpajama.core.lsh import candidate_probability
from slimpajama.report import figures, folder
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

SLIMPAJAMA_BYTE_DUPLICATION_PERCENT: dict[str, float] = {
    "RedPajamaCommonCrawl": 63.76,
    "RedPajamaC4": 6.77,
    "RedPajamaGithub": 46.16,
    "RedPajamaBook": 2.01,
    "RedPajamaArXiv": 0.06,
    "RedPajamaWikipedia": 2.24,
    "RedPajamaStackExchange": 0.20,
}
"""Byte duplication rate per source published for SlimPajama-627B (percent)."""

OUTCOMES = ("kept", "short", "duplicate", "quarantined")
REFERENCE_BANDS_ROWS = (9, 13)
JACCARD_BIN_WIDTH = 0.01
RAW_EXCERPT_CHARS = 300
MAX_SIZE_BARS = 30


def cluster_size_bins(sizes: dict[int, int]) -> tuple[list[str], list[int]]:
    """Bar labels and counts for a cluster-size histogram: one bar per size when there are at most
    MAX_SIZE_BARS sizes, else power-of-two bins labelled "4–7" (sizes 4 to 7)."""
    if len(sizes) <= MAX_SIZE_BARS:
        ordered = sorted(sizes)
        return [str(s) for s in ordered], [sizes[s] for s in ordered]
    binned: dict[int, int] = {}
    for size, count in sizes.items():
        power = size.bit_length() - 1
        binned[power] = binned.get(power, 0) + count
    labels = [f"{1 << p}–{(1 << (p + 1)) - 1}" for p in sorted(binned)]
    return labels, [binned[p] for p in sorted(binned)]


def jaccard_histogram(edges_dir: str, low: float) -> tuple[np.ndarray, np.ndarray, int, int]:
    """(bin edges, counts, edges below `low`, edges without a Jaccard) of the `jaccard` column of
    the edges/ part files, in bins of JACCARD_BIN_WIDTH on [low, 1]; read in record batches
    (bounded memory)."""
    import pyarrow.parquet as pq

    bins = max(1, round((1.0 - low) / JACCARD_BIN_WIDTH))
    bin_edges = np.linspace(low, 1.0, bins + 1)
    counts = np.zeros(bins, dtype=np.int64)
    below = missing = 0
    for path in folder.parts(edges_dir, "parquet"):
        with folder.open_binary(path) as handle:
            for batch in pq.ParquetFile(handle).iter_batches(columns=["jaccard"]):
                column = batch.column(0)
                missing += column.null_count
                values = column.drop_null().to_numpy()
                below += int(np.count_nonzero(values < low))
                counts += np.histogram(values, bins=bin_edges)[0]
    return bin_edges, counts, below, missing


def issue_raws(quarantine_dir: str, examples: list[dict[str, Any]]) -> dict[tuple[str, str, str], str]:
    """Raw input of each example issue, keyed by (id, kind, reason), from the quarantine/ part
    files. The examples are the first issues in part order, so only that many lines are read."""
    raws: dict[tuple[str, str, str], str] = {}
    wanted = len(examples)
    for path in folder.parts(quarantine_dir, "jsonl"):
        if len(raws) >= wanted:
            break
        with folder.open_binary(path) as handle:
            for line in islice(handle, wanted - len(raws)):
                issue = json.loads(line)
                raws[(issue["id"], issue["kind"], issue["reason"])] = issue.get("raw", "")
    return raws


def excerpt(text: str) -> str:
    return text if len(text) <= RAW_EXCERPT_CHARS else text[:RAW_EXCERPT_CHARS] + "…"


def _sources_section(page: Page, report: dict[str, Any]) -> None:
    table_rows = report["sources"]
    names = [s for s in table_rows if s != "total"]
    columns = (
        [("docs_in", "docs in")]
        + [(o, o) for o in OUTCOMES]
        + [("bytes_in", "bytes in")]
        + [(f"{o}_bytes", f"{o} bytes") for o in OUTCOMES]
    )

    def row(name: str) -> list[Cell]:
        counts = table_rows[name]
        return [Cell(name)] + [
            cell(counts[key], element_id("dedup", name, key)) for key, _ in columns
        ]

    accounting = report["accounting"]
    status = (
        "Accounting check: docs in = kept + short + duplicate + quarantined for every source: "
        + ("ok." if accounting["ok"] else "FAILED: " + "; ".join(accounting["errors"]))
    )
    panels = {
        unit: {
            o: [table_rows[n][o if unit == "documents" else f"{o}_bytes"] for n in names]
            for o in OUTCOMES
        }
        for unit in ("documents", "bytes")
    }
    page.section(
        "sec-dedup-sources",
        "Documents and bytes per source",
        table(
            "table-dedup-sources",
            ["source"] + [label for _, label in columns],
            [row(n) for n in names],
            row("total") if "total" in table_rows else None,
        ),
        paragraph(status),
        figure(
            "fig-dedup-outcomes",
            "Outcome of every input document per source (share of documents and bytes in)",
            figures.stacked_share_bars("fig-dedup-outcomes", names, panels),
        ),
    )


def _duplication_section(page: Page, report: dict[str, Any]) -> None:
    table_rows = report["sources"]
    names = [s for s in table_rows if s != "total"]
    ours = {n: table_rows[n]["byte_duplication_rate"] * 100 for n in table_rows}
    rows = [
        [
            Cell(n),
            percent(ours[n], element_id("duprate", n, "ours")),
            percent(
                SLIMPAJAMA_BYTE_DUPLICATION_PERCENT.get(n), element_id("duprate", n, "slimpajama")
            ),
        ]
        for n in names
    ]
    total = [
        Cell("total"),
        percent(ours["total"], element_id("duprate", "total", "ours")),
        Cell("–", numeric=True),
    ]
    page.section(
        "sec-dedup-duprate",
        "Byte duplication rate: this run vs SlimPajama-627B",
        paragraph(
            "Duplicate bytes as a share of the bytes read per source; SlimPajama's rates are the "
            "published per-source figures for RedPajama-1T → SlimPajama-627B."
        ),
        table("table-dedup-duprate", ["source", "this run", "SlimPajama-627B"], rows, total),
        figure(
            "fig-dedup-duprate",
            "Byte duplication rate per source (%)",
            figures.grouped_bars(
                "fig-dedup-duprate",
                names,
                {
                    "this run": [ours[n] for n in names],
                    "SlimPajama-627B": [SLIMPAJAMA_BYTE_DUPLICATION_PERCENT.get(n) for n in names],
                },
                "duplicate bytes (%)",
            ),
        ),
    )


def _clusters_section(page: Page, report: dict[str, Any]) -> None:
    clusters = report["clusters"]
    sizes = {int(size): count for size, count in clusters["cluster_sizes"].items()}
    parts = [
        paragraph(
            f"{clusters['clusters']:,} clusters of duplicates (every member but the kept one "
            "is removed)."
        )
    ]
    parts.append(
        table(
            "table-dedup-clusters",
            ["cluster size (documents)", "clusters"],
            [[cell(s), cell(sizes[s], element_id("clusters", str(s)))] for s in sorted(sizes)],
        )
    )
    if sizes:
        labels, counts = cluster_size_bins(sizes)
        parts.append(
            figure(
                "fig-dedup-clusters",
                "Cluster sizes",
                figures.count_bars(
                    "fig-dedup-clusters", labels, counts, "cluster size (documents)", "clusters"
                ),
            )
        )
    page.section("sec-dedup-clusters", "Clusters", *parts)


def _verification_section(page: Page, report: dict[str, Any], root: str) -> None:
    verification = report["verification"]
    threshold = report["options"]["threshold"]
    parts = [
        paragraph(
            "--verify: each LSH candidate pair is kept only if the exact Jaccard of its shingle "
            f"sets is at least the threshold {threshold:g}."
        ),
        table(
            "table-dedup-verification",
            ["candidate pairs", "verified", "rejected"],
            [
                [
                    cell(verification["candidates"], "verify-candidates"),
                    cell(verification["verified"], "verify-verified"),
                    cell(verification["rejected"], "verify-rejected"),
                ]
            ],
        ),
    ]
    edges_path = folder.join(root, "edges")
    if folder.parts(edges_path, "parquet"):
        low = max(
            0.0, min(float(np.floor(threshold * 20) / 20), 0.95) - 0.05
        )  # threshold line visible
        bin_edges, counts, below, missing = jaccard_histogram(edges_path, low)
        parts.append(
            figure(
                "fig-dedup-jaccard",
                "Exact Jaccard of the verified edges (edges/)",
                figures.histogram(
                    "fig-dedup-jaccard",
                    bin_edges,
                    counts,
                    "exact Jaccard of the shingle sets",
                    threshold,
                    f"threshold {threshold:g}",
                ),
            )
        )
        parts.append(
            paragraph(
                f"{int(counts.sum()):,} edges in [{low:g}, 1]; {below:,} below {low:g}; "
                f"{missing:,} without a Jaccard value."
            )
        )
    page.section("sec-dedup-verification", "Candidate verification", *parts)


def _lsh_section(page: Page, report: dict[str, Any]) -> None:
    lsh = report["lsh"]
    threshold = report["options"]["threshold"]
    jaccard = np.linspace(0.0, 1.0, 201)
    curves = {
        f"{lsh['bands']} bands × {lsh['rows']} rows (this run)": (
            jaccard,
            candidate_probability(jaccard, lsh["bands"], lsh["rows"]),
        )
    }
    if (lsh["bands"], lsh["rows"]) != REFERENCE_BANDS_ROWS:
        bands, rows = REFERENCE_BANDS_ROWS
        curves[f"{bands} × {rows} (SlimPajama)"] = (
            jaccard,
            candidate_probability(jaccard, bands, rows),
        )
    probability_rows = [
        [Cell(j), Cell(f"{p:.4f}", element_id("scurve", j), numeric=True)]
        for j, p in lsh["candidate_probability"].items()
    ]
    page.section(
        "sec-dedup-lsh",
        "LSH S-curve",
        paragraph(
            f"{lsh['bands']} bands × {lsh['rows']} rows (chosen: {lsh['chosen_by']}); "
            f"P(candidate | J = {threshold:g}) = {lsh['recall_at_threshold']:.4f}. "
            "P = 1 − (1 − J^rows)^bands."
        ),
        figure(
            "fig-dedup-scurve",
            "Probability that a pair becomes a candidate, by Jaccard",
            figures.s_curves("fig-dedup-scurve", curves, threshold),
        ),
        table("table-dedup-scurve", ["Jaccard", "P(candidate)"], probability_rows),
    )


def _issues_section(page: Page, report: dict[str, Any], root: str) -> None:
    issues = report["issues"]
    raws = issue_raws(folder.join(root, "quarantine"), issues["examples"])
    example_rows = [
        [
            Cell(e["id"]),
            Cell(e["kind"]),
            Cell(e["reason"]),
            Cell(excerpt(raws.get((e["id"], e["kind"], e["reason"]), "")), preformatted=True),
        ]
        for e in issues["examples"]
    ]
    page.section(
        "sec-dedup-issues",
        "Issues",
        paragraph(
            "Quarantined records are removed and counted; file events and warnings are "
            "informational. Every issue is listed in quarantine/part-*.jsonl."
        ),
        table(
            "table-dedup-issue-kinds",
            ["kind", "issues"],
            [
                [Cell(k), cell(n, element_id("issues-kind", k))]
                for k, n in issues["by_kind"].items()
            ],
        ),
        table(
            "table-dedup-issue-reasons",
            ["reason (numbers as N)", "issues"],
            [[Cell(r), cell(n)] for r, n in issues["by_reason"].items()],
        ),
        paragraph(
            f"The first {len(example_rows)} issues, with the raw input (up to {RAW_EXCERPT_CHARS} "
            "characters):"
        ),
        table("table-dedup-issue-examples", ["id", "kind", "reason", "raw input"], example_rows),
    )


def _run_section(page: Page, report: dict[str, Any]) -> None:
    run = report["run"]
    stage_rows = [[Cell(name), cell(msecs)] for name, msecs in run["stage_msecs"].items()]
    parts = [
        key_value_table(
            "table-dedup-run",
            {"runner": run["runner"], "pipeline seconds": run["pipeline_seconds"]},
        ),
        paragraph(
            "Milliseconds spent inside each timed stage, summed over workers (Beam metrics):"
        ),
        table("table-dedup-stage-times", ["stage", "msecs"], stage_rows),
        key_value_table("table-dedup-versions", run["versions"]),
    ]
    if report.get("unrecognized_files"):
        parts.append(
            paragraph(
                "Files in the input that are not part of the RedPajama layout (not read): "
                + ", ".join(report["unrecognized_files"])
            )
        )
    page.section("sec-dedup-run", "Run: stage times and versions", *parts)


def dedup_page(report: dict[str, Any], root: str) -> Page:
    """The page of a dedup output folder `root` holding `report` (its report.json)."""
    options = report["options"]
    page = Page(
        "slimpajama dedup report",
        f"{options['input']} → {options['output']}: scope {options['scope']}, scheme {options['scheme']}, "
        f"{options['shingle']} {options['ngram']}-grams, threshold {options['threshold']:g}"
        + (", verified" if options.get("verify") else ""),
    )
    _sources_section(page, report)
    _duplication_section(page, report)
    _clusters_section(page, report)
    if report.get("verification"):
        _verification_section(page, report, root)
    _lsh_section(page, report)
    _issues_section(page, report, root)
    _run_section(page, report)
    page.section(
        "sec-dedup-options",
        "Options",
        key_value_table(
            "table-dedup-options",
            {k: json.dumps(v) if isinstance(v, list) else v for k, v in options.items()},
        ),
    )
    return page
