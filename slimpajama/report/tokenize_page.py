"""The HTML report of a `slimpajama tokenize` output folder (its manifest.json and shard files)."""

from __future__ import annotations

from typing import Any

import numpy as np

from slimpajama.report import figures, folder
from slimpajama.report.html import (
    Cell,
    Page,
    cell,
    element_id,
    figure,
    key_value_table,
    paragraph,
    table,
)

SPLIT_ORDER = ("train", "validation", "test")
MAX_SHARD_BARS = 60
MAX_SHARD_ROWS = 200
SHARD_SIZE_BINS = 20


def _shard_sizes_figure(shards: list[tuple[str, str, int]]) -> str:
    """Tokens per shard: one bar per shard (coloured by split) up to MAX_SHARD_BARS shards, else a
    histogram of shard sizes over all splits."""
    title = "Tokens per shard"
    if len(shards) <= MAX_SHARD_BARS:
        svg = figures.split_bars(
            "fig-tok-shards",
            [name for _, name, _ in shards],
            [tokens for _, _, tokens in shards],
            [split for split, _, _ in shards],
            "tokens",
        )
    else:
        tokens = np.array([t for _, _, t in shards], dtype=np.float64)
        counts, edges = np.histogram(tokens, bins=SHARD_SIZE_BINS)
        svg = figures.histogram("fig-tok-shards", edges, counts, "tokens per shard")
        title = f"Tokens per shard ({len(shards):,} shards)"
    return figure("fig-tok-shards", title, svg)


def tokenize_page(manifest: dict[str, Any], root: str) -> Page:
    """The page of a tokenize output folder `root` holding `manifest` (its manifest.json)."""
    splits = manifest["splits"]
    split_names = [s for s in SPLIT_ORDER if s in splits] + sorted(set(splits) - set(SPLIT_ORDER))
    tokenizer = manifest["tokenizer"]
    page = Page(
        "slimpajama tokenize report",
        f"{manifest['format']} shards, tokenizer {tokenizer['name']} ({tokenizer['source']}), "
        f"{tokenizer['encode']}",
    )
    hdf5 = manifest["format"] == "hdf5"  # shards hold sequences of seq_len tokens, not documents
    shard_unit = "sequences" if hdf5 else "documents"
    split_rows = [
        [
            Cell(s),
            cell(splits[s]["documents"], element_id("tok", s, "documents")),
            cell(splits[s]["tokens"], element_id("tok", s, "tokens")),
            cell(len(splits[s]["shards"]), element_id("tok", s, "shards")),
            cell(splits[s]["input_files"]),
        ]
        + (
            [
                cell(splits[s]["sequences"], element_id("tok", s, "sequences")),
                cell(splits[s]["dropped_tail_tokens"]),
            ]
            if hdf5
            else []
        )
        for s in split_names
    ]
    page.section(
        "sec-tok-splits",
        "Splits",
        table(
            "table-tok-splits",
            ["split", "documents", "tokens", "shards", "input files"]
            + (["sequences", "dropped tail tokens"] if hdf5 else []),
            split_rows,
        ),
    )

    sources = sorted({src for s in split_names for src in splits[s]["sources"]})
    header = ["source"] + [f"{s} {what}" for s in split_names for what in ("documents", "tokens")]
    rows = [
        [Cell(src)]
        + [
            cell(splits[s]["sources"].get(src, {}).get(what, 0), element_id("tok", s, src, what))
            for s in split_names
            for what in ("documents", "tokens")
        ]
        for src in sources
    ]
    page.section(
        "sec-tok-sources",
        "Tokens and documents per source",
        table("table-tok-sources", header, rows),
        figure(
            "fig-tok-sources",
            "Tokens per source and split",
            figures.grouped_bars(
                "fig-tok-sources",
                sources,
                {
                    s: [splits[s]["sources"].get(src, {}).get("tokens", 0) for src in sources]
                    for s in split_names
                },
                "tokens",
            ),
        ),
    )

    shards = [
        (s, shard["name"], shard["tokens"]) for s in split_names for shard in splits[s]["shards"]
    ]
    shard_rows = []
    for s in split_names:
        for shard in splits[s]["shards"]:
            sizes = [folder.size(folder.join(root, path)) for path in shard["files"]]
            on_disk = None if None in sizes else sum(sizes)
            shard_rows.append(
                [
                    Cell(shard["name"]),
                    cell(shard[shard_unit]),
                    cell(shard["tokens"], element_id("shard", shard["name"], "tokens")),
                    cell(on_disk),
                ]
            )
    parts = [_shard_sizes_figure(shards)] if shards else [paragraph("No shards.")]
    parts.append(
        table(
            "table-tok-shards",
            ["shard", shard_unit, "tokens", "bytes on disk"],
            shard_rows[:MAX_SHARD_ROWS],
        )
    )
    if len(shard_rows) > MAX_SHARD_ROWS:
        parts.append(
            paragraph(
                f"… and {len(shard_rows) - MAX_SHARD_ROWS:,} more shards (see manifest.json)."
            )
        )
    page.section("sec-tok-shards", "Shards", *parts)

    page.section(
        "sec-tok-tokenizer",
        "Tokenizer and options",
        key_value_table("table-tok-tokenizer", tokenizer),
        key_value_table("table-tok-options", {k: str(v) for k, v in manifest["options"].items()}),
    )
    return page
