"""`slimpajama mix`: reweight sources, split off validation/test, decontaminate, shuffle, write.

Input: the `train/` split of a release-layout folder (the output of `slimpajama dedup`). A
document's id is (relpath of its release file under the input root, 1-based line).

Pass 1 (`ScanFile`) reads every document once and counts its tokens, the only time its text is
tokenized: per input file and source, one histogram of tokens, UTF-8 bytes and documents by
selection bucket (`mixture.SourceHistogram`) goes to `plan_mix`, which derives weights and cuts;
documents whose holdout hash is below the threshold (about 0.17 %) are kept aside with their text
and counts. Held-out documents that the mix selects become validation/test and form the
decontamination index.

Pass 2 (`SpillFile`) reads every input file again and gives each selected copy a 64-bit shuffle
key: a train document once per copy (none if it is contaminated), a validation/test document
once. A split has `logical` bins (key mod logical): each is sorted by key and cut into files of at
most `docs_per_file` documents and `bytes_per_file` bytes, so the output depends on them alone.
Logical bins are grouped into `physical` shuffle bins (logical mod physical) of about
`shuffle_bin_bytes`. A pass-2 worker buffers (key, release line) records per shuffle bin and, every
`spill_bytes`, writes them as one spill file under `_shuffle/` (one zstd frame per bin, written to
a temporary name and committed by rename); only (bin, spill path, offset, length) goes through
Beam. `WriteBin` then reads one shuffle bin's frames, sorts them by (logical bin, key, line) and
writes each logical bin as `_bins/<split>/bin{b}-{part}.jsonl.zst`. A worker holds one spill
buffer or one shuffle bin at a time, whatever the corpus size; the output bytes do not depend on
`physical`, `spill_bytes`, the runner or the worker count.

Everything is written under `<output>.tmp/`; the driver (`slimpajama.mix.run`) names the files,
writes `report.json` and moves them into `<output>/`.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import struct
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple

import apache_beam as beam
import zstandard
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from slimpajama.core.mixture import (
    Amount,
    MixPlan,
    SourceHistogram,
    doc_hash,
    plan_mix,
    selection_bucket,
)
from slimpajama.core.split import holdout_threshold, split_of
from slimpajama.io.release import (
    SPLITS,
    encode_record,
    list_release_files,
    read_zstd_lines,
    write_release_file,
)
from slimpajama.mix.config import MixConfig
from slimpajama.mix.counters import counting_threads, token_counter
from slimpajama.mix.decontam import HoldoutIndex, NearParams, build_holdout_index, contaminations
from slimpajama.resume import run_unit

BINS_DIR = "_bins"
SHUFFLE_DIR = "_shuffle"
SUMMARY_NAME = "_summary.json"
SCAN_STAGE = "scan"
SPILL_STAGE = "spill"
SPILL_ZSTD_LEVEL = 1
DECONTAM_BATCH_DOCS = 256
SCAN_BATCH_DOCS = 256
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
        record = json.loads(raw)  # not orjson: it turns integers past 64 bits into floats
        meta = record["meta"]
        yield Doc(relpath, line, meta["redpajama_set_name"], record["text"], meta)


def input_relpaths(root: str) -> list[str]:
    """Relpaths (under `root`, '/'-separated) of the train release files, in release order."""
    prefix = root.rstrip("/") + "/"
    paths = list_release_files(root, "train")
    if any(not path.startswith(prefix) for path in paths):
        raise ValueError(f"release files of {root} are not below it: {paths[:3]}")
    return [path[len(prefix):].replace(os.sep, "/") for path in paths]


def mean_fill(limit: int, unit: float) -> float:
    """Mean bin content m with m + 3 sd <= limit, where sd = sqrt(m * unit), floored at limit / 2."""
    root = (math.sqrt(9 * unit + 4 * limit) - 3 * math.sqrt(unit)) / 2
    return max(root * root, limit / 2)


def bin_count(docs: int, nbytes: int, docs_per_file: int, bytes_per_file: int) -> int:
    """Shuffle bins for `docs` documents of `nbytes` bytes: bins rarely exceed one file's limits."""
    if docs == 0:
        return 1
    by_docs = docs / mean_fill(docs_per_file, 1.0)
    by_bytes = nbytes / mean_fill(bytes_per_file, nbytes / docs)
    return max(1, math.ceil(by_docs), math.ceil(by_bytes))


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


class HistogramFn(beam.CombineFn):
    """Histograms of one source's documents (one per input file) -> their sum."""

    def create_accumulator(self) -> SourceHistogram:
        return SourceHistogram()

    def add_input(self, histogram: SourceHistogram, item: SourceHistogram) -> SourceHistogram:
        return histogram.merge(item)

    def merge_accumulators(self, histograms: Iterable[SourceHistogram]) -> SourceHistogram:
        merged = SourceHistogram()
        for histogram in histograms:
            merged.merge(histogram)
        return merged

    def extract_output(self, histogram: SourceHistogram) -> SourceHistogram:
        return histogram


class HoldoutIndexFn(beam.CombineFn):
    """(id, text) of the holdout documents -> HoldoutIndex (built in id order)."""

    def __init__(self, near: NearParams | None) -> None:
        self.near = near

    def create_accumulator(self) -> list[tuple[str, str]]:
        return []

    def add_input(self, acc: list[tuple[str, str]], item: tuple[str, str]) -> list[tuple[str, str]]:
        acc.append(item)
        return acc

    def merge_accumulators(self, accs: Iterable[list[tuple[str, str]]]) -> list[tuple[str, str]]:
        return [item for acc in accs for item in acc]

    def extract_output(self, acc: list[tuple[str, str]]) -> HoldoutIndex:
        return build_holdout_index(sorted(acc), self.near)


def sum_counts(rows: Iterable[tuple[int, ...]]) -> tuple[int, ...]:
    """Column sums of equal-length integer tuples."""
    return tuple(sum(column) for column in zip(*rows, strict=True))


class ScanFile(beam.DoFn):
    """Pass 1 over one input file (index, relpath): (set name, SourceHistogram of the file's
    documents of that source); holdout candidates to 'holdout'. Tokens are counted
    `SCAN_BATCH_DOCS` documents at a time on `counting_threads` threads (the GPT-2 encoder
    releases the GIL)."""

    def __init__(self, root: str, work: str, config: MixConfig) -> None:
        self.root, self.work, self.config = root, work, config

    def setup(self) -> None:
        self.count_tokens = token_counter(self.config.counter)
        self.threshold = holdout_threshold(self.config.holdout)
        self.threads = counting_threads(self.config.counter)
        self.pool = ThreadPoolExecutor(self.threads) if self.threads > 1 else None

    def teardown(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()

    def count_batch(self, texts: Sequence[str]) -> list[int]:
        """Token counts of `texts`, in order."""
        if self.pool is None:
            return [self.count_tokens(text) for text in texts]
        step = -(-len(texts) // self.threads)
        slices = [texts[i:i + step] for i in range(0, len(texts), step)]
        counted = self.pool.map(lambda part: [self.count_tokens(text) for text in part], slices)
        return [count for part in counted for count in part]

    def process(self, item: tuple[int, str]) -> Iterator[Any]:
        file_index, relpath = item
        outputs = run_unit(self.work, SCAN_STAGE, f"{file_index:05d}",
                           lambda: list(self.scan(relpath)), unit_stats)
        for tag, value in outputs:
            if tag == "histogram":
                yield value
            elif tag == "holdout":
                yield beam.pvalue.TaggedOutput(tag, value)

    def scan(self, relpath: str) -> Iterator[tuple[str, Any]]:
        """("holdout", HeldOut) per held-out document, then ("histogram", (set name,
        SourceHistogram)) per source of the file; ("stats", (docs, bytes)) last."""
        seed = self.config.seed
        columns: dict[str, tuple[list[int], list[int], list[int]]] = {}
        docs = read_docs(self.root, relpath)
        n_docs = n_bytes = 0
        while batch := list(itertools.islice(docs, SCAN_BATCH_DOCS)):
            token_counts = self.count_batch([doc.text for doc in batch])
            for doc, tokens in zip(batch, token_counts, strict=True):
                nbytes = len(doc.text.encode("utf-8"))
                n_docs, n_bytes = n_docs + 1, n_bytes + nbytes
                buckets, file_tokens, file_bytes = columns.setdefault(doc.set_name, ([], [], []))
                buckets.append(selection_bucket(seed, relpath, doc.line))
                file_tokens.append(tokens)
                file_bytes.append(nbytes)
                split = split_of(seed, relpath, doc.line, self.threshold)
                if split != "train":
                    yield "holdout", HeldOut(split, doc, tokens, nbytes)
        for name in sorted(columns):
            yield "histogram", (name, SourceHistogram.from_docs(*columns[name]))
        yield "progress", (n_docs, n_bytes)


def unit_stats(outputs: list[tuple[str, Any]]) -> dict[str, int]:
    """Progress counts of one unit: its ("progress", (docs, bytes)) output."""
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
        temporary = f"{path}.tmp-{uuid.uuid4().hex}"
        ranges = []
        offset = 0
        compressor = zstandard.ZstdCompressor(level=SPILL_ZSTD_LEVEL)
        with FileSystems.create(temporary, compression_type=CompressionTypes.UNCOMPRESSED) as out:
            for shuffle_bin in sorted(self.records):
                frame = compressor.compress(b"".join(self.records[shuffle_bin]))
                out.write(frame)
                ranges.append((shuffle_bin, SpillRange(path, offset, len(frame))))
                offset += len(frame)
        FileSystems.rename([temporary], [path])
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


class SpillFile(beam.DoFn):
    """Pass 2 over one input file (index, relpath): every selected copy (train: one per copy,
    unless contaminated; validation/test: one) spilled to its shuffle bin, yielding
    ((split, physical bin), SpillRange); removals to 'stats' as ((kind, set name),
    (tokens, bytes, copies, docs)). Documents are decontaminated `DECONTAM_BATCH_DOCS` at a time."""

    def __init__(self, root: str, work: str, config: MixConfig) -> None:
        self.root, self.work, self.config = root, work, config

    def setup(self) -> None:
        self.threshold = holdout_threshold(self.config.holdout)

    def process(self, item: tuple[int, str], plan: MixPlan, index: HoldoutIndex,
                bins: Mapping[str, ShuffleBins]) -> Iterator[Any]:
        file_index, relpath = item
        yield from run_unit(self.work, SPILL_STAGE, f"{file_index:05d}",
                            lambda: list(self.spill(file_index, relpath, plan, index, bins)),
                            lambda outputs: {"docs": self.docs_read})

    def spill(self, file_index: int, relpath: str, plan: MixPlan, index: HoldoutIndex,
              bins: Mapping[str, ShuffleBins]) -> Iterator[Any]:
        """Every output of one input file (main and tagged), its spill files written on the way."""
        spill = SpillBuffer(self.work, file_index, self.config.spill_bytes)
        docs = read_docs(self.root, relpath)
        self.docs_read = 0
        while batch := list(itertools.islice(docs, DECONTAM_BATCH_DOCS)):
            self.docs_read += len(batch)
            yield from self.spill_batch(batch, plan, index, bins, spill)
        yield from spill.flush()

    def spill_batch(self, batch: Sequence[Doc], plan: MixPlan, index: HoldoutIndex,
                    bins: Mapping[str, ShuffleBins], spill: SpillBuffer) -> Iterator[Any]:
        """Spill the selected copies of `batch` (flushing when the buffer is full)."""
        seed = self.config.seed
        train: list[tuple[Doc, int]] = []
        for doc in batch:
            copies = plan.copies(doc.set_name, selection_bucket(seed, doc.relpath, doc.line))
            if copies == 0:
                continue
            split = split_of(seed, doc.relpath, doc.line, self.threshold)
            if split == "train":
                train.append((doc, copies))
                continue
            key = doc_hash(seed, "shuffle", doc.relpath, doc.line)
            spill.add(split, bins[split].of(key)[1], key,
                      encode_record(doc.text, doc.set_name, doc.meta))
        texts = [doc.text for doc, _ in train]
        kinds = contaminations(index, texts) if len(index) else [None] * len(texts)
        for (doc, copies), kind in zip(train, kinds, strict=True):
            if kind is not None:
                tokens, nbytes = token_counter(self.config.counter)(doc.text), len(doc.text.encode())
                counts = (copies * tokens, copies * nbytes, copies, 1)
                yield beam.pvalue.TaggedOutput("stats", ((f"removed_{kind}", doc.set_name), counts))
                continue
            line = encode_record(doc.text, doc.set_name, doc.meta)
            for copy in range(copies):
                key = doc_hash(seed, "shuffle", doc.relpath, doc.line, copy)
                spill.add("train", bins["train"].of(key)[1], key, line)
            if spill.full:
                yield from spill.flush()
        if spill.full:
            yield from spill.flush()


def holdout_outputs(held: HeldOut, plan: MixPlan, seed: int) -> Iterator[Any]:
    """For a holdout candidate the mix selects: the document, to 'doc', and to 'stats' what it
    adds to its split ((split, set name), counts) and takes from the mix (('holdout_mix', ...))."""
    doc = held.doc
    copies = plan.copies(doc.set_name, selection_bucket(seed, doc.relpath, doc.line))
    if copies == 0:
        return
    yield beam.pvalue.TaggedOutput("doc", held)
    yield beam.pvalue.TaggedOutput(
        "stats", ((held.split, doc.set_name), (held.tokens, held.nbytes, 1, 1)))
    yield beam.pvalue.TaggedOutput(
        "stats", (("holdout_mix", doc.set_name),
                  (copies * held.tokens, copies * held.nbytes, copies, 1)))


def split_bins(holdout_sizes: Mapping[str, tuple[int, int]], plan: MixPlan,
               config: MixConfig) -> dict[str, ShuffleBins]:
    """Bins per split: sized by the whole mix for train (an upper bound), by the selected
    holdout documents for validation/test."""
    mixed = plan.mixed_total()
    sizes = {"train": (mixed.docs, mixed.nbytes), **holdout_sizes}
    bins = {}
    for split in SPLITS:
        docs, nbytes = sizes.get(split, (0, 0))
        logical = bin_count(docs, nbytes, config.docs_per_file, config.bytes_per_file)
        physical = min(logical, max(1, math.ceil(nbytes / config.shuffle_bin_bytes)))
        bins[split] = ShuffleBins(logical, physical)
    return bins


class WriteBin(beam.DoFn):
    """Read one shuffle bin ((split, physical bin), its spill ranges), sort it by (logical bin,
    key, line) and write each logical bin as one or more zstd files under `work`."""

    def __init__(self, work: str, config: MixConfig) -> None:
        self.work, self.config = work, config

    def process(self, item: tuple[tuple[str, int], Iterable[SpillRange]],
                bins: Mapping[str, ShuffleBins]) -> Iterator[int]:
        (split, _), ranges = item
        logical = bins[split].logical
        records = sorted((key % logical, key, line)
                         for spill in sorted(ranges) for key, line in read_spill_range(spill))
        for bin_index, group in itertools.groupby(records, key=lambda record: record[0]):
            lines = [line for _, _, line in group]
            parts = file_parts(lines, self.config.docs_per_file, self.config.bytes_per_file)
            for part_index, part in enumerate(parts):
                name = f"bin{bin_index:010d}-{part_index:06d}.jsonl.zst"
                yield write_release_file(FileSystems.join(self.work, BINS_DIR, split, name), part)


def amount_counts(amount: Amount) -> dict[str, int]:
    """{"tokens", "bytes", "docs"} of an Amount."""
    return {"tokens": amount.tokens, "bytes": amount.nbytes, "docs": amount.docs}


def plan_summary(plan: MixPlan) -> dict[str, Any]:
    """JSON form of a plan (histograms left out)."""
    return {
        "mixture": plan.mixture,
        "target_tokens": plan.target_tokens,
        "sources": {
            name: {
                "share": p.share, "target_tokens": p.target_tokens, "weight": p.weight,
                "whole_copies": p.whole_copies, "cut": p.cut,
                "available": amount_counts(p.available), "mixed": amount_counts(p.mixed),
                "repeats": {str(k): v for k, v in sorted(p.repeats.items())},
            }
            for name, p in plan.sources.items()
        },
    }


def write_summary(stats: Mapping[tuple[str, str], tuple[int, ...]], plan: MixPlan, path: str) -> None:
    """Write the plan and the summed stats as JSON to `path` (read back by `finish_mix`)."""
    rows = [[section, name, *counts] for (section, name), counts in sorted(stats.items())]
    data = json.dumps({"plan": plan_summary(plan), "stats": rows}, sort_keys=True).encode()
    with FileSystems.create(path) as out:
        out.write(data)


def build_mix_pipeline(pipeline: beam.Pipeline, input_root: str, work: str,
                       config: MixConfig) -> None:
    """Add the mix to `pipeline`: read the train release files under `input_root`, write bins and
    the summary under `work` (see `finish_mix` for the release names and the report)."""
    seed = config.seed
    files = (pipeline
             | "Root" >> beam.Create([input_root])
             | "Files" >> beam.FlatMap(lambda root: enumerate(input_relpaths(root)))
             | "Spread" >> beam.Reshuffle())
    scanned = files | "Scan" >> beam.ParDo(ScanFile(input_root, work, config)).with_outputs(
        "holdout", main="histograms")
    plan = beam.pvalue.AsSingleton(
        scanned.histograms
        | "Histograms" >> beam.CombinePerKey(HistogramFn())
        | "AllHistograms" >> beam.combiners.ToDict()
        | "Plan" >> beam.Map(lambda h: plan_mix(config.mixture, h, config.target)))
    holdout = (scanned.holdout
               | "SelectHoldout" >> beam.FlatMap(holdout_outputs, plan, seed).with_outputs("doc", "stats"))
    held = holdout.doc
    index = beam.pvalue.AsSingleton(
        held
        | "IdText" >> beam.Map(lambda h: (f"{h.doc.relpath}:{h.doc.line}", h.doc.text))
        | "Index" >> beam.CombineGlobally(HoldoutIndexFn(config.near)))
    bins = beam.pvalue.AsSingleton(
        held
        | "SplitSize" >> beam.Map(lambda h: (h.split, (1, h.nbytes)))
        | "SumSplit" >> beam.CombinePerKey(sum_counts)
        | "SplitSizes" >> beam.combiners.ToDict()
        | "Bins" >> beam.Map(split_bins, plan, config))
    spilled = files | "Spill" >> beam.ParDo(SpillFile(input_root, work, config), plan, index,
                                            bins).with_outputs("stats", main="ranges")
    _ = (spilled.ranges
         | "ByBin" >> beam.GroupByKey()
         | "Write" >> beam.ParDo(WriteBin(work, config), bins))
    _ = ((spilled.stats, holdout.stats)
         | "AllStats" >> beam.Flatten()
         | "SumStats" >> beam.CombinePerKey(sum_counts)
         | "Stats" >> beam.combiners.ToDict()
         | "Summary" >> beam.Map(write_summary, plan, FileSystems.join(work, SUMMARY_NAME)))
