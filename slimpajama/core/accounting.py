"""Per-source document and byte accounting; the identity input = kept + short + duplicate + quarantined.

Counts are plain nested dicts `{set_name: {counter: int}}` so they merge associatively in any order
(a Beam CombineFn) and serialize to JSON as they are. Document bytes are UTF-8 bytes of the
normalized (published) text; quarantined bytes are the raw bytes of the rejected line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

OUTCOMES: tuple[str, ...] = ("kept", "short", "duplicate", "quarantined")
COUNTERS: tuple[str, ...] = ("docs_in", "bytes_in") + tuple(
    name for outcome in OUTCOMES for name in (outcome, f"{outcome}_bytes")
)

Counts = dict[str, dict[str, int]]


def tally(counts: Counts, set_name: str, outcome: str | None, nbytes: int, *, is_input: bool,
          docs: int = 1) -> None:
    """Add `docs` documents (one by default) of `nbytes` bytes in all to `counts` in place: as
    input (scan stage) and/or with an outcome."""
    row = counts.setdefault(set_name, dict.fromkeys(COUNTERS, 0))
    if is_input:
        row["docs_in"] += docs
        row["bytes_in"] += nbytes
    if outcome is not None:
        row[outcome] += docs
        row[f"{outcome}_bytes"] += nbytes


def merge_counts(parts: Iterable[Mapping[str, Mapping[str, int]]]) -> Counts:
    """Sum counts; every source gets every counter (missing ones are 0); sources sorted."""
    total: Counts = {}
    for part in parts:
        for set_name, counters in part.items():
            into = total.setdefault(set_name, dict.fromkeys(COUNTERS, 0))
            for name, value in counters.items():
                into[name] += value
    return {name: total[name] for name in sorted(total)}


def accounting_errors(counts: Counts) -> list[str]:
    """Every violation of docs_in = kept + short + duplicate + quarantined (and the same in bytes)."""
    errors = []
    for set_name, c in counts.items():
        for unit, total, parts in (
            ("docs", c["docs_in"], [c[o] for o in OUTCOMES]),
            ("bytes", c["bytes_in"], [c[f"{o}_bytes"] for o in OUTCOMES]),
        ):
            if total != sum(parts):
                detail = " + ".join(f"{o} {v}" for o, v in zip(OUTCOMES, parts, strict=True))
                errors.append(f"{set_name}: {unit} in {total} != {detail} = {sum(parts)}")
    return errors


def source_table(counts: Counts) -> dict[str, dict[str, float | int]]:
    """Counts plus the byte duplication rate as published by SlimPajama (duplicate bytes over the
    bytes of documents that reached dedup, i.e. not quarantined), with a final 'total' row."""
    total = {name: sum(c[name] for c in counts.values()) for name in COUNTERS}
    rows: dict[str, dict[str, float | int]] = {}
    for set_name, c in [*counts.items(), ("total", total)]:
        usable = c["bytes_in"] - c["quarantined_bytes"]
        rate = round(c["duplicate_bytes"] / usable, 6) if usable else 0.0
        rows[set_name] = {**c, "byte_duplication_rate": rate}
    return rows
