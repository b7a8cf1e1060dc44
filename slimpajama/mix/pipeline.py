"""`slimpajama mix`: reweight sources, split off validation/test, decontaminate, shuffle, write.

Input: the `train/` split of a release-layout folder (the output of `slimpajama dedup`). A
document's id is (relpath of its release file under the input root, 1-based line).

Pass 1 reads every document once: its token count, UTF-8 bytes and selection bucket go into one
histogram per source (`mixture.SourceHistogram`), from which `plan_mix` derives weights and cuts;
documents whose holdout hash is below the threshold (about 0.17 %) are kept aside with their text.
Held-out documents that the mix selects become validation/test and form the decontamination index.
Pass 2 reads the input again and emits each selected, uncontaminated train document once per copy,
each copy under its own 64-bit shuffle key, its release line zstd-compressed (level 1, about half
the shuffle bytes). Copies are grouped by (split, key mod bins), a bin is sorted by (key, packed
line) and cut into files of at most `docs_per_file` documents and `bytes_per_file`
bytes, so a worker holds one bin (about one file) at a time, whatever the chunk size. The files
are numbered in (bin, part) order into `chunk{c}/example_*_{n}`, `files_per_chunk` per chunk.

Everything is written under `<output>.tmp/`; the driver (`slimpajama.mix.run`) names the files,
writes `report.json` and moves them into `<output>/`.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

import apache_beam as beam
import zstandard
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
    read_release_file,
    write_release_file,
)
from slimpajama.mix.config import MixConfig
from slimpajama.mix.counters import token_counter
from slimpajama.mix.decontam import HoldoutIndex, NearParams, build_holdout_index, contamination

BINS_DIR = "_bins"
SUMMARY_NAME = "_summary.json"
SHUFFLE_ZSTD_LEVEL = 1


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
    for line, record in enumerate(read_release_file(FileSystems.join(root, relpath)), start=1):
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


def pack_line(line: bytes) -> bytes:
    """A release line as carried through the shuffle (one zstd frame with its content size)."""
    return zstandard.compress(line, SHUFFLE_ZSTD_LEVEL)


class HistogramFn(beam.CombineFn):
    """(bucket, tokens, bytes) of one source's documents -> SourceHistogram."""

    def create_accumulator(self) -> SourceHistogram:
        return SourceHistogram()

    def add_input(self, histogram: SourceHistogram, item: tuple[int, int, int]) -> SourceHistogram:
        histogram.add(*item)
        return histogram

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


class ScanDocs(beam.DoFn):
    """Pass 1: per document (set name, (bucket, tokens, bytes)); holdout candidates to 'holdout'."""

    def __init__(self, root: str, config: MixConfig) -> None:
        self.root, self.config = root, config

    def setup(self) -> None:
        self.count_tokens = token_counter(self.config.counter)
        self.threshold = holdout_threshold(self.config.holdout)

    def process(self, relpath: str) -> Iterator[Any]:
        seed = self.config.seed
        for doc in read_docs(self.root, relpath):
            tokens, nbytes = self.count_tokens(doc.text), len(doc.text.encode("utf-8"))
            yield doc.set_name, (selection_bucket(seed, relpath, doc.line), tokens, nbytes)
            split = split_of(seed, relpath, doc.line, self.threshold)
            if split != "train":
                yield beam.pvalue.TaggedOutput("holdout", HeldOut(split, doc, tokens, nbytes))


class SelectTrain(beam.DoFn):
    """Pass 2: each selected, clean train document once per copy, as ((split, bin), (key, packed
    line)) (see `pack_line`);
    removals to 'stats' as ((kind, set name), (tokens, bytes, copies, docs))."""

    def __init__(self, root: str, config: MixConfig) -> None:
        self.root, self.config = root, config

    def setup(self) -> None:
        self.count_tokens = token_counter(self.config.counter)
        self.threshold = holdout_threshold(self.config.holdout)

    def process(self, relpath: str, plan: MixPlan, index: HoldoutIndex,
                bins: Mapping[str, int]) -> Iterator[Any]:
        seed = self.config.seed
        for doc in read_docs(self.root, relpath):
            copies = plan.copies(doc.set_name, selection_bucket(seed, relpath, doc.line))
            if copies == 0 or split_of(seed, relpath, doc.line, self.threshold) != "train":
                continue
            kind = contamination(index, doc.text) if len(index) else None
            if kind is not None:
                tokens, nbytes = self.count_tokens(doc.text), len(doc.text.encode("utf-8"))
                counts = (copies * tokens, copies * nbytes, copies, 1)
                yield beam.pvalue.TaggedOutput("stats", ((f"removed_{kind}", doc.set_name), counts))
                continue
            packed = pack_line(encode_record(doc.text, doc.set_name, doc.meta))
            for copy in range(copies):
                key = doc_hash(seed, "shuffle", relpath, doc.line, copy)
                yield ("train", key % bins["train"]), (key, packed)


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


def keyed_holdout(held: HeldOut, bins: Mapping[str, int], seed: int) -> tuple[Any, Any]:
    """((split, bin), (shuffle key, packed release line)) of a holdout document, written once."""
    doc = held.doc
    key = doc_hash(seed, "shuffle", doc.relpath, doc.line)
    packed = pack_line(encode_record(doc.text, doc.set_name, doc.meta))
    return (held.split, key % bins[held.split]), (key, packed)


def split_bins(holdout_sizes: Mapping[str, tuple[int, int]], plan: MixPlan,
               config: MixConfig) -> dict[str, int]:
    """Shuffle bins per split: train sized by the whole mix (an upper bound), holdout by count."""
    mixed = plan.mixed_total()
    sizes = {"train": (mixed.docs, mixed.nbytes), **holdout_sizes}
    return {split: bin_count(*sizes.get(split, (0, 0)), config.docs_per_file,
                             config.bytes_per_file) for split in SPLITS}


class WriteBin(beam.DoFn):
    """Sort one bin by (shuffle key, packed line), unpack, and write it as one or more zstd files
    under `work`."""

    def __init__(self, work: str, config: MixConfig) -> None:
        self.work, self.config = work, config

    def process(self, item: tuple[tuple[str, int], Iterable[tuple[int, bytes]]]) -> Iterator[int]:
        (split, bin_index), keyed = item
        lines = [zstandard.decompress(packed) for _, packed in sorted(keyed)]
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


def build_mix_pipeline(pipeline: beam.Pipeline, input_root: str, relpaths: Sequence[str],
                       work: str, config: MixConfig) -> None:
    """Add the mix to `pipeline`: read `relpaths` under `input_root`, write bins and the summary
    under `work` (see `finish_mix` for the release names and the report)."""
    seed = config.seed
    files = pipeline | "Files" >> beam.Create(list(relpaths)) | "Spread" >> beam.Reshuffle()
    scanned = files | "Scan" >> beam.ParDo(ScanDocs(input_root, config)).with_outputs(
        "holdout", main="counts")
    plan = beam.pvalue.AsSingleton(
        scanned.counts
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
    train = files | "Select" >> beam.ParDo(SelectTrain(input_root, config), plan, index,
                                           bins).with_outputs("stats", main="copies")
    holdout_copies = held | "KeyHoldout" >> beam.Map(keyed_holdout, bins, seed)
    _ = ((train.copies, holdout_copies)
         | "AllCopies" >> beam.Flatten()
         | "ByBin" >> beam.GroupByKey()
         | "Write" >> beam.ParDo(WriteBin(work, config)))
    _ = ((train.stats, holdout.stats)
         | "AllStats" >> beam.Flatten()
         | "SumStats" >> beam.CombinePerKey(sum_counts)
         | "Stats" >> beam.combiners.ToDict()
         | "Summary" >> beam.Map(write_summary, plan, FileSystems.join(work, SUMMARY_NAME)))
