"""Scan one input file: read → normalize → short filter → sign + band, as a pure generator.

`scan_file` yields tagged events in input order; the Beam stage only routes them:
- ("issue", Issue): a quarantined record, a warning or a file-level event (from slimpajama.io.inputs);
- ("staged", bytes): `b"<line>\\t" + release line` for every long document (the text is written once,
  next to the worker, and never goes through a shuffle);
- ("signed", SignedBatch): keys, sources, sizes and LSH band keys of a batch of documents, as arrays;
- ("short", (doc_key, key chars)): a document dropped by the short filter;
- ("counts", Counts): per-source input/short/quarantined counts for the whole file, last.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import numpy as np

from slimpajama.core.accounting import Counts, tally
from slimpajama.core.keytext import key_text
from slimpajama.core.lsh import band_keys
from slimpajama.core.minhash import signatures
from slimpajama.core.normalize import normalize_text
from slimpajama.core.sources import SET_NAMES
from slimpajama.dedup.config import DedupConfig
from slimpajama.io.inputs import Document, InputFile, Issue, read_input_file
from slimpajama.io.release import encode_record

SET_NAME_LIST: tuple[str, ...] = tuple(sorted(SET_NAMES.values()))
"""Set names by a small int index (what travels through shuffles)."""
SET_INDEX: dict[str, int] = {name: i for i, name in enumerate(SET_NAME_LIST)}


class SignedBatch(NamedTuple):
    """A batch of long documents as the LSH stages see them: no text, only int arrays."""

    doc_keys: np.ndarray  # (n,) uint64: (file_index << 32) | line
    set_index: np.ndarray  # (n,) uint8: index into SET_NAME_LIST
    nbytes: np.ndarray  # (n,) int64: UTF-8 bytes of the normalized text
    band_keys: np.ndarray  # (n, bands) uint64


def doc_key(file_index: int, line: int) -> int:
    """The compact, order-preserving document key: (file_index << 32) | line."""
    return (file_index << 32) | line


def split_doc_key(key: int) -> tuple[int, int]:
    """(file_index, line) of a document key."""
    return key >> 32, key & 0xFFFFFFFF


def staged_line(line: int, set_index: int, nbytes: int, release_line: bytes) -> bytes:
    """Staged form of a kept-candidate: input line, set index and text bytes, tab-separated, then
    its release line (JSON never contains a raw tab)."""
    return b"%d\t%d\t%d\t" % (line, set_index, nbytes) + release_line


def parse_staged_line(staged: bytes) -> tuple[int, int, int, bytes]:
    """(input line, set index, text bytes, release line) of a staged line."""
    line, set_index, nbytes, release_line = staged.split(b"\t", 3)
    return int(line), int(set_index), int(nbytes), release_line


def scan_file(f: InputFile, cfg: DedupConfig) -> Iterator[tuple[str, object]]:
    """Events for one input file in input order (see the module docstring)."""
    params = cfg.minhash_params()
    bands, rows = cfg.band_rows
    folder_set = SET_NAMES[f.folder]
    counts: Counts = {}
    batch: list[tuple[int, int, int, str, bytes]] = []  # line, set index, nbytes, key text, release

    def flush() -> Iterator[tuple[str, object]]:
        keys = band_keys(signatures([b[3] for b in batch], params), bands, rows)
        for line, set_index, nbytes, _, release_line in batch:
            yield "staged", staged_line(line, set_index, nbytes, release_line)
        yield "signed", SignedBatch(
            np.array([doc_key(f.index, b[0]) for b in batch], dtype=np.uint64),
            np.array([b[1] for b in batch], dtype=np.uint8),
            np.array([b[2] for b in batch], dtype=np.int64),
            keys,
        )
        batch.clear()

    for event in read_input_file(f, max_line_bytes=cfg.max_line_bytes):
        if isinstance(event, Issue):
            if event.kind == "quarantined":
                tally(counts, folder_set, "quarantined", event.nbytes, is_input=True)
            yield "issue", event
            continue
        assert isinstance(event, Document)
        text = normalize_text(event.text)
        key = key_text(text)
        if len(key) < cfg.min_chars:
            nbytes = len(text.encode("utf-8"))
            tally(counts, event.set_name, "short", nbytes, is_input=True)
            yield "short", (doc_key(f.index, event.line), len(key))
            continue
        release_line = encode_record(text, event.set_name, event.meta)
        nbytes = len(text.encode("utf-8"))  # a copy: orjson cached the UTF-8 of a non-ASCII str
        tally(counts, event.set_name, None, nbytes, is_input=True)
        batch.append((event.line, SET_INDEX[event.set_name], nbytes, key, release_line))
        if len(batch) >= cfg.batch_docs:
            yield from flush()
    if batch:
        yield from flush()
    yield "counts", counts
