"""The units of work of `slimpajama mix`, as plain functions that return tagged outputs
(`slimpajama.pool.Outputs`), so the Beam stages can run them inline or in a pool of worker
processes: `scan_unit` (pass 1 over one input file), `spill_unit` (pass 2 over one input file) and
`write_bin_unit` (one shuffle bin → release-layout bin files). See `slimpajama.mix.pipeline`.

Tokens are counted once per document, in pass 1; the (tokens, UTF-8 bytes) of a file's documents
are kept next to it (`_counts/<file>.npy`, int64 (lines, 2)) for pass 2, which never tokenizes.
"""

from __future__ import annotations

import functools
import io
import itertools
import pickle
import struct
import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import zstandard
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from slimpajama.core.mixture import MixPlan, SourceHistogram, doc_hash, selection_bucket
from slimpajama.core.split import holdout_threshold, split_of
from slimpajama.io.exact_json import loads_exact
from slimpajama.io.release import encode_record, read_zstd_lines, write_release_file
from slimpajama.mix.config import MixConfig
from slimpajama.mix.counters import batch_token_counter, utf8_length
from slimpajama.mix.decontam import HoldoutIndex, contaminations
from slimpajama.pool import Outputs
from slimpajama.resume import run_unit

BINS_DIR = "_bins"
SHUFFLE_DIR = "_shuffle"
COUNTS_DIR = "_counts"
CONTEXT_DIR = "_context"
SCAN_STAGE = "scan"
SPILL_STAGE = "spill"
SPILL_ZSTD_LEVEL = 1
DECONTAM_BATCH_DOCS = 256
COUNT_BATCH_DOCS = 256
"""Documents whose tokens are counted at once (GPT-2 splits a batch in one set of array operations)."""
RECORD_HEADER = struct.Struct("<QI")
"""A spilled record: shuffle key (uint64), length of the release line that follows (uint32)."""


class Doc(NamedTuple):
    """One input document; `line` is 1-based within the release file at `relpath`."""

    relpath: str
    line: int
    set_name: str
    text: str
    meta: dict[str, Any]


class HeldOut(NamedTuple):
    """A holdout candidate: its split and its counts (tokens in counter units, UTF-8 bytes)."""

    split: str
    doc: Doc
    tokens: int
    nbytes: int


def read_docs(root: str, relpath: str) -> Iterator[Doc]:
    """Documents of one release file under `root`."""
    for line, raw in enumerate(read_zstd_lines(FileSystems.join(root, relpath)), start=1):
        record = loads_exact(raw)
        meta = record["meta"]
        yield Doc(relpath, line, meta["redpajama_set_name"], record["text"], meta)


def file_parts(lines: Sequence[bytes], docs_per_file: int, bytes_per_file: int) -> list[list[bytes]]:
    """Cut lines, in order, into files of <= docs_per_file lines and <= bytes_per_file bytes
    (a single longer line gets a file of its own)."""
    parts: list[list[bytes]] = []
    size = 0
    for line in lines:
        if not parts or len(parts[-1]) >= docs_per_file or size + len(line) > bytes_per_file:
            parts.append([])
            size = 0
        parts[-1].append(line)
        size += len(line)
    return parts


class ShuffleBins(NamedTuple):
    """Bins of one split: `logical` (key mod logical; what the output files depend on) grouped
    into `physical` shuffle bins (logical bin mod physical; what one writer holds)."""

    logical: int
    physical: int

    def of(self, key: int) -> tuple[int, int]:
        """(logical, physical) bin of a shuffle key."""
        logical = key % self.logical
        return logical, logical % self.physical


def line_counts_path(work: str, file_index: int) -> str:
    """Where pass 1 keeps the (tokens, UTF-8 bytes) of input file `file_index`'s documents
    (int64 array (lines, 2), in line order)."""
    return FileSystems.join(work, COUNTS_DIR, f"{file_index:05d}.npy")


def write_atomically(path: str, data: bytes) -> None:
    """Write `data` to `path` under a temporary name, then rename it into place."""
    temporary = f"{path}.tmp-{uuid.uuid4().hex}"
    with FileSystems.create(temporary, compression_type=CompressionTypes.UNCOMPRESSED) as out:
        out.write(data)
    FileSystems.rename([temporary], [path])


def read_bytes(path: str) -> bytes:
    """The bytes of the file at `path`."""
    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as raw:
        return raw.read()


def scan_unit(item: tuple[int, str], root: str, work: str, config: MixConfig) -> Outputs:
    """Pass 1 over one input file (index, relpath), at most once per run (resume reuses committed
    outputs): (set name, SourceHistogram of the file's documents of that source) per source (main
    output); a HeldOut per holdout candidate ('holdout')."""
    file_index, relpath = item
    outputs = run_unit(work, SCAN_STAGE, f"{file_index:05d}",
                       lambda: scan_file(root, work, file_index, relpath, config), progress_stats)
    return [(None if tag == "histogram" else tag, value) for tag, value in outputs
            if tag != "progress"]


def scan_file(root: str, work: str, file_index: int, relpath: str,
              config: MixConfig) -> list[tuple[str, Any]]:
    """("holdout", HeldOut) per held-out document, then ("histogram", (set name,
    SourceHistogram)) per source of the file; ("progress", (docs, bytes)) last. Every document is
    tokenized here, once; its counts are written to `line_counts_path` for pass 2."""
    seed, count_tokens = config.seed, batch_token_counter(config.counter)
    threshold = holdout_threshold(config.holdout)
    columns: dict[str, tuple[list[int], list[int], list[int]]] = {}
    outputs: list[tuple[str, Any]] = []
    line_counts: list[tuple[int, int]] = []
    docs = read_docs(root, relpath)
    while batch := list(itertools.islice(docs, COUNT_BATCH_DOCS)):
        texts = [doc.text for doc in batch]
        for doc, tokens, nbytes in zip(batch, count_tokens(texts), map(utf8_length, texts), strict=True):
            line_counts.append((tokens, nbytes))
            buckets, file_tokens, file_bytes = columns.setdefault(doc.set_name, ([], [], []))
            buckets.append(selection_bucket(seed, relpath, doc.line))
            file_tokens.append(tokens)
            file_bytes.append(nbytes)
            split = split_of(seed, relpath, doc.line, threshold)
            if split != "train":
                outputs.append(("holdout", HeldOut(split, doc, tokens, nbytes)))
    counts = io.BytesIO()
    counts_array = np.array(line_counts, dtype=np.int64).reshape(-1, 2)
    np.save(counts, counts_array)
    write_atomically(line_counts_path(work, file_index), counts.getvalue())
    outputs += [("histogram", (name, SourceHistogram.from_docs(*columns[name])))
                for name in sorted(columns)]
    outputs.append(("progress", (len(line_counts), int(counts_array[:, 1].sum()))))
    return outputs


def progress_stats(outputs: list[tuple[str, Any]]) -> dict[str, int]:
    """Progress counts of one scanned or spilled file: its ("progress", (docs, bytes)) output."""
    docs, nbytes = next(value for tag, value in outputs if tag == "progress")
    return {"docs": docs, "nbytes": nbytes}


class SpillRange(NamedTuple):
    """One shuffle bin's zstd frame inside a spill file."""

    path: str
    offset: int
    length: int


class SpillBuffer:
    """Shuffle records of one input file, buffered per (split, physical bin) and written as spill
    files `_shuffle/spill-<file>-<n>` of about `limit` uncompressed bytes."""

    def __init__(self, work: str, file_index: int, limit: int) -> None:
        self.work, self.file_index, self.limit = work, file_index, limit
        self.records: dict[tuple[str, int], list[bytes]] = {}
        self.size = 0
        self.spills = 0

    def add(self, split: str, physical: int, key: int, line: bytes) -> None:
        """Buffer one record; call `flush` when `full`."""
        self.records.setdefault((split, physical), []).append(RECORD_HEADER.pack(key, len(line)))
        self.records[split, physical].append(line)
        self.size += RECORD_HEADER.size + len(line)

    @property
    def full(self) -> bool:
        return self.size >= self.limit

    def flush(self) -> Iterator[tuple[tuple[str, int], SpillRange]]:
        """Write the buffer as one spill file (temporary name, then rename); yields
        ((split, physical bin), range) for each bin in it."""
        if not self.records:
            return
        name = f"spill-{self.file_index:06d}-{self.spills:05d}"
        path = FileSystems.join(self.work, SHUFFLE_DIR, name)
        ranges = []
        frames = []
        offset = 0
        compressor = zstandard.ZstdCompressor(level=SPILL_ZSTD_LEVEL)
        for shuffle_bin in sorted(self.records):
            frames.append(compressor.compress(b"".join(self.records[shuffle_bin])))
            ranges.append((shuffle_bin, SpillRange(path, offset, len(frames[-1]))))
            offset += len(frames[-1])
        write_atomically(path, b"".join(frames))
        self.records.clear()
        self.size = 0
        self.spills += 1
        yield from ranges


def read_spill_range(spill: SpillRange) -> Iterator[tuple[int, bytes]]:
    """(shuffle key, release line) records of one frame of a spill file."""
    with FileSystems.open(spill.path, compression_type=CompressionTypes.UNCOMPRESSED) as raw:
        raw.seek(spill.offset)
        data = zstandard.decompress(raw.read(spill.length))
    position = 0
    while position < len(data):
        key, length = RECORD_HEADER.unpack_from(data, position)
        position += RECORD_HEADER.size
        yield key, data[position:position + length]
        position += length


class SpillContext(NamedTuple):
    """What every pass-2 unit needs from pass 1: the plan, the holdout index and the bins per split."""

    plan: MixPlan
    index: HoldoutIndex
    bins: Mapping[str, ShuffleBins]


def write_spill_context(work: str, context: SpillContext) -> str:
    """Pickle `context` once to a fresh file under `work` (read once per worker process by
    `load_spill_context`, not shipped with every file); returns its path."""
    path = FileSystems.join(work, CONTEXT_DIR, f"spill-{uuid.uuid4().hex}.pickle")
    write_atomically(path, pickle.dumps(context, protocol=pickle.HIGHEST_PROTOCOL))
    return path


@functools.lru_cache(maxsize=1)
def load_spill_context(path: str) -> SpillContext:
    """The SpillContext at `path`, read once per process (paths are never reused)."""
    return pickle.loads(read_bytes(path))


def spill_unit(item: tuple[tuple[int, str], str], root: str, work: str, config: MixConfig) -> Outputs:
    """Pass 2 over one input file ((index, relpath), spill context path), at most once per run:
    every selected copy (train: one per copy, unless contaminated; validation/test: one) spilled
    to its shuffle bin, giving ((split, physical bin), SpillRange) (main output); removals to
    'stats' as ((kind, set name), (tokens, bytes, copies, docs))."""
    (file_index, relpath), context_path = item
    context = load_spill_context(context_path)
    outputs = run_unit(work, SPILL_STAGE, f"{file_index:05d}",
                       lambda: spill_file(root, work, file_index, relpath, config, context),
                       progress_stats)
    return [(None if tag == "range" else tag, value) for tag, value in outputs
            if tag != "progress"]


def spill_file(root: str, work: str, file_index: int, relpath: str, config: MixConfig,
               context: SpillContext) -> list[tuple[str, Any]]:
    """("range", ...) and ("stats", ...) outputs of one input file, its spill files written on
    the way (documents decontaminated `DECONTAM_BATCH_DOCS` at a time); ("progress", (docs,
    bytes)) last."""
    spill = SpillBuffer(work, file_index, config.spill_bytes)
    line_counts = np.load(io.BytesIO(read_bytes(line_counts_path(work, file_index))))
    docs = read_docs(root, relpath)
    outputs: list[tuple[str, Any]] = []
    docs_read = 0
    while batch := list(itertools.islice(docs, DECONTAM_BATCH_DOCS)):
        docs_read += len(batch)
        outputs += spill_batch(batch, line_counts, config, context, spill)
    outputs += [("range", value) for value in spill.flush()]
    if docs_read != len(line_counts):
        raise ValueError(f"{relpath} has {docs_read} documents in pass 2, {len(line_counts)} in pass 1")
    outputs.append(("progress", (docs_read, int(line_counts[:, 1].sum()))))
    return outputs


def spill_batch(batch: Sequence[Doc], line_counts: np.ndarray, config: MixConfig,
                context: SpillContext, spill: SpillBuffer) -> list[tuple[str, Any]]:
    """Spill the selected copies of `batch` (flushing when the buffer is full); `line_counts`
    are pass 1's (tokens, bytes) of the file's documents by line - 1."""
    seed, (plan, index, bins) = config.seed, context
    threshold = holdout_threshold(config.holdout)
    outputs: list[tuple[str, Any]] = []
    train: list[tuple[Doc, int]] = []
    for doc in batch:
        copies = plan.copies(doc.set_name, selection_bucket(seed, doc.relpath, doc.line))
        if copies == 0:
            continue
        split = split_of(seed, doc.relpath, doc.line, threshold)
        if split == "train":
            train.append((doc, copies))
            continue
        key = doc_hash(seed, "shuffle", doc.relpath, doc.line)
        spill.add(split, bins[split].of(key)[1], key, encode_record(doc.text, doc.set_name, doc.meta))
    texts = [doc.text for doc, _ in train]
    kinds = contaminations(index, texts) if len(index) else [None] * len(texts)
    for (doc, copies), kind in zip(train, kinds, strict=True):
        if kind is not None:
            tokens, nbytes = (int(n) for n in line_counts[doc.line - 1])
            counts = (copies * tokens, copies * nbytes, copies, 1)
            outputs.append(("stats", ((f"removed_{kind}", doc.set_name), counts)))
            continue
        line = encode_record(doc.text, doc.set_name, doc.meta)
        for copy in range(copies):
            key = doc_hash(seed, "shuffle", doc.relpath, doc.line, copy)
            spill.add("train", bins["train"].of(key)[1], key, line)
        if spill.full:
            outputs += [("range", value) for value in spill.flush()]
    if spill.full:
        outputs += [("range", value) for value in spill.flush()]
    return outputs


def write_bin_unit(item: tuple[tuple[str, int], list[SpillRange]], work: str,
                   config: MixConfig) -> Outputs:
    """One shuffle bin ((split, logical bins of the split), its spill ranges): read, sorted by
    (logical bin, key, line), each logical bin written as one or more zstd files under
    `work/_bins/<split>/`; outputs the number of documents written."""
    (split, logical), ranges = item
    records = sorted((key % logical, key, line)
                     for spill in sorted(ranges) for key, line in read_spill_range(spill))
    for bin_index, group in itertools.groupby(records, key=lambda record: record[0]):
        lines = [line for _, _, line in group]
        for part_index, part in enumerate(file_parts(lines, config.docs_per_file, config.bytes_per_file)):
            name = f"bin{bin_index:010d}-{part_index:06d}.jsonl.zst"
            write_release_file(FileSystems.join(work, BINS_DIR, split, name), part)
    return [(None, len(records))]

