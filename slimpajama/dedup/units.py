"""The per-input-file units of work of `slimpajama dedup`, as plain functions that return tagged
outputs (slimpajama.pool.Outputs), so the Beam stages can run them inline or in a pool of worker
processes: `scan_unit` (read → normalize → short filter → sign + band; stage the long documents
to `_work/staged/`, and on one machine spill the band entries to `_work/bands/`) and `write_unit`
(the file's kept documents → its release file).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

import numpy as np
import zstandard
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from slimpajama.core.accounting import Counts, tally
from slimpajama.dedup.config import DedupConfig
from slimpajama.dedup.edges import (
    BAND_ENTRY,
    SPILLED_PARTITION_BITS,
    band_entries,
    band_partition,
    split_by_partition,
)
from slimpajama.dedup.scan import SET_NAME_LIST, SignedBatch, parse_staged_line, scan_file
from slimpajama.io.inputs import InputFile, Issue
from slimpajama.io.release import read_zstd_lines, release_relpath, write_release_file
from slimpajama.pool import Outputs
from slimpajama.progress import mark_done
from slimpajama.resume import run_unit

WORK = "_work"
SCAN_STAGE = "scan"
WRITE_STAGE = "write"
AUDIT_FILES_PER_PART = 4
"""Audit part NNNNN holds the records of input files 4·NNNNN .. 4·NNNNN+3 (sorted relpath order)."""
STAGED_LEVEL = -10
"""zstd level of the staged (temporary) files: speed over size. On the 215 MB corpus, writing and
re-reading them took 1.51 CPU-s at level 1 (46 % of raw size), 0.82 at -10 (84 %), 0.44 at -100 (98 %)."""


def staged_path(root: str, file_index: int) -> str:
    """Where the scan stage stages one input file's long documents."""
    return FileSystems.join(root, WORK, "staged", f"{file_index:08d}.tsv.zst")


def output_relpath(file_index: int, chunks: int) -> str:
    """Release file for input file `file_index`: files are dealt round-robin over `chunks`."""
    return release_relpath("train", file_index % chunks + 1, file_index // chunks)


def audit_part(file_index: int) -> int:
    """The audit part that holds the records of input file `file_index`."""
    return file_index // AUDIT_FILES_PER_PART


class BandRange(NamedTuple):
    """`count` BAND_ENTRY records from record `offset` of a spilled band file."""

    path: str
    offset: int
    count: int


def band_spill_path(root: str, file_index: int) -> str:
    """Where the scan stage spills one input file's band entries (sorted by partition)."""
    return FileSystems.join(root, WORK, "bands", f"{file_index:08d}.bin")


def read_band_range(band_range: BandRange) -> bytes:
    """The raw BAND_ENTRY records of a BandRange."""
    with FileSystems.open(band_range.path, compression_type=CompressionTypes.UNCOMPRESSED) as fh:
        fh.seek(band_range.offset * BAND_ENTRY.itemsize)
        return fh.read(band_range.count * BAND_ENTRY.itemsize)


def scan_unit(f: InputFile, cfg: DedupConfig, root: str, spill_bands: bool) -> Outputs:
    """One input file scanned, at most once per run (resume reuses committed outputs): per
    band-key partition (main output) its BAND_ENTRY records, as a block (bytes) that travels
    through the shuffle, or with `spill_bands` (one machine) as a BandRange of the file's spilled
    band entries, so that the runner's memory holds only references; short documents and issues
    as one list per file, keyed by audit part; counts."""
    outputs = run_unit(FileSystems.join(root, WORK), SCAN_STAGE, f"{f.index:05d}",
                       lambda: _scan(f, cfg, root, spill_bands), lambda outputs: scan_stats(f, outputs))
    return [(None if tag == "bands" else tag, value) for tag, value in outputs]


def _scan(f: InputFile, cfg: DedupConfig, root: str, spill_bands: bool) -> list[tuple[str, Any]]:
    """(tag, value) outputs of one input file; its staged text is written on the way."""
    signed: list[SignedBatch] = []
    short: list[tuple[int, int]] = []
    issues: list[Issue] = []
    outputs: list[tuple[str, Any]] = []
    compressor = zstandard.ZstdCompressor(level=STAGED_LEVEL)
    with FileSystems.create(
        staged_path(root, f.index), compression_type=CompressionTypes.UNCOMPRESSED
    ) as raw, compressor.stream_writer(raw, closefd=False) as staged:
        for tag, value in scan_file(f, cfg):
            if tag == "staged":
                staged.write(value)
            elif tag == "signed":
                signed.append(value)
            elif tag == "short":
                short.append(value)
            elif tag == "issue":
                issues.append(value)
            else:
                outputs.append((tag, value))
    if signed:
        entries = band_entries(
            *(np.concatenate([getattr(b, field) for b in signed]) for field in SignedBatch._fields),
            local=cfg.scope == "local",
        )
        if spill_bands:
            outputs.extend(_spill_bands(entries, band_spill_path(root, f.index)))
        else:
            for partition, block in split_by_partition(entries, band_partition(entries)):
                outputs.append(("bands", (partition, block.tobytes())))
    if short:
        outputs.append(("short", (audit_part(f.index), (f.relpath, short))))
    if issues:
        outputs.append(("issue", (audit_part(f.index), issues)))
    return outputs


def _spill_bands(entries: np.ndarray, path: str) -> list[tuple[str, tuple[int, BandRange]]]:
    """Write `entries` to `path` grouped by spilled partition; one ("bands", (partition,
    BandRange)) output per non-empty partition."""
    outputs = []
    offset = 0
    with FileSystems.create(path, compression_type=CompressionTypes.UNCOMPRESSED) as fh:
        for partition, block in split_by_partition(entries, band_partition(entries, SPILLED_PARTITION_BITS)):
            fh.write(block.tobytes())
            outputs.append(("bands", (partition, BandRange(path, offset, len(block)))))
            offset += len(block)
    return outputs


def scan_stats(f: InputFile, outputs: list[tuple[str, Any]]) -> dict[str, int]:
    """Progress counts of one scanned file: documents and text bytes in, bytes on disk."""
    counts = next(value for tag, value in outputs if tag == "counts")
    return {"docs": sum(row["docs_in"] for row in counts.values()),
            "nbytes": sum(row["bytes_in"] for row in counts.values()),
            "disk_bytes": FileSystems.match([f.path])[0].metadata_list[0].size_in_bytes}


def write_unit(item: tuple[int, list[int]], chunks: int, root: str) -> Outputs:
    """(input file index, its removed lines) -> its kept documents written to its release file;
    outputs the kept counts."""
    file_index, removed_lines = item
    removed = set(removed_lines)
    counts: Counts = {}

    def kept_lines() -> Iterator[bytes]:
        for staged in read_zstd_lines(staged_path(root, file_index)):
            line, set_index, nbytes, release_line = parse_staged_line(staged)
            if line in removed:
                continue
            tally(counts, SET_NAME_LIST[set_index], "kept", nbytes, is_input=False)
            yield release_line

    write_release_file(FileSystems.join(root, output_relpath(file_index, chunks)), kept_lines())
    mark_done(FileSystems.join(root, WORK), WRITE_STAGE, f"{file_index:05d}",
              docs=sum(row["kept"] for row in counts.values()),
              nbytes=sum(row["kept_bytes"] for row in counts.values()))
    return [(None, counts)]
