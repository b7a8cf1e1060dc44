"""`slimpajama mix`: reweight sources, split off validation/test, decontaminate, shuffle, write.

Input: the `train/` split of a release-layout folder (the output of `slimpajama dedup`). A
document's id is (relpath of its release file under the input root, 1-based line).

Pass 1 (`units.scan_unit`) reads every document once and counts its tokens, the only time its
text is tokenized (the counts are kept per file for pass 2): per input file and source, one histogram of tokens, UTF-8 bytes and documents by
selection bucket (`mixture.SourceHistogram`) goes to `plan_mix`, which derives weights and cuts;
documents whose holdout hash is below the threshold (about 0.17 %) are kept aside with their text
and counts. Held-out documents that the mix selects become validation/test and form the
decontamination index.

Pass 2 (`units.spill_unit`) reads every input file again and gives each selected copy a 64-bit shuffle
key: a train document once per copy (none if it is contaminated), a validation/test document
once. A split has `logical` bins (key mod logical): each is sorted by key and cut into files of at
most `docs_per_file` documents and `bytes_per_file` bytes, so the output depends on them alone.
Logical bins are grouped into `physical` shuffle bins (logical mod physical) of about
`shuffle_bin_bytes`. A pass-2 worker buffers (key, release line) records per shuffle bin and, every
`spill_bytes`, writes them as one spill file under `_shuffle/` (one zstd frame per bin, written to
a temporary name and committed by rename); only (bin, spill path, offset, length) goes through
Beam. `units.write_bin_unit` then reads one shuffle bin's frames, sorts them by (logical bin, key, line) and
writes each logical bin as `_bins/<split>/bin{b}-{part}.jsonl.zst`. A worker holds one spill
buffer or one shuffle bin at a time, whatever the corpus size; the output bytes do not depend on
`physical`, `spill_bytes`, the runner or the worker count.

The three per-file/per-bin stages are plain functions run by `slimpajama.pool.PooledMap`: on a
local in-memory run they use a pool of worker processes (every core), elsewhere they run inline.
What pass 2 needs from pass 1 (plan, holdout index, bins) is pickled once to a file under `work`
and read once per worker process, not shipped with each input file.

Everything is written under `<output>.tmp/`; the driver (`slimpajama.mix.run`) names the files,
writes `report.json` and moves them into `<output>/`.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from slimpajama.core.mixture import Amount, MixPlan, SourceHistogram, plan_mix, selection_bucket
from slimpajama.io.release import SPLITS, list_release_files
from slimpajama.mix.config import MixConfig
from slimpajama.mix.decontam import HoldoutIndex, NearParams, build_holdout_index
from slimpajama.mix.units import (
    SCAN_STAGE,
    SPILL_STAGE,
    HeldOut,
    ShuffleBins,
    SpillContext,
    SpillRange,
    scan_unit,
    spill_unit,
    write_bin_unit,
    write_spill_context,
)
from slimpajama.pool import PooledMap

SUMMARY_NAME = "_summary.json"


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


def shuffle_bin_item(grouped: tuple[tuple[str, int], Iterable[SpillRange]],
                     bins: Mapping[str, ShuffleBins]) -> tuple[tuple[str, int], list[SpillRange]]:
    """A grouped shuffle bin ((split, physical bin), ranges) as `write_bin_unit` takes it:
    ((split, logical bins of the split), sorted ranges)."""
    (split, _), ranges = grouped
    return (split, bins[split].logical), sorted(ranges)


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
                       config: MixConfig, processes: int = 1) -> None:
    """Add the mix to `pipeline`: read the train release files under `input_root`, write bins and
    the summary under `work` (see `finish_mix` for the release names and the report). The
    per-file passes and the bin writer run on `processes` worker processes (`PooledMap`)."""
    seed = config.seed
    files = (pipeline
             | "Root" >> beam.Create([input_root])
             | "Files" >> beam.FlatMap(lambda root: enumerate(input_relpaths(root)))
             | "Spread" >> beam.Reshuffle())
    scan = PooledMap(scan_unit, input_root, work, config, stage=SCAN_STAGE, processes=processes)
    scanned = files | "Scan" >> beam.ParDo(scan).with_outputs("holdout", main="histograms")
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
    context = beam.pvalue.AsSingleton(
        pipeline
        | "ContextRoot" >> beam.Create([work])
        | "Context" >> beam.Map(lambda root, *parts: write_spill_context(root, SpillContext(*parts)),
                                plan, index, bins))
    spill = PooledMap(spill_unit, input_root, work, config, stage=SPILL_STAGE, processes=processes)
    spilled = (files
               | "WithContext" >> beam.Map(lambda item, path: (item, path), context)
               | "Spill" >> beam.ParDo(spill).with_outputs("stats", main="ranges"))
    write = PooledMap(write_bin_unit, work, config, stage="write", processes=processes)
    _ = (spilled.ranges
         | "ByBin" >> beam.GroupByKey()
         | "Logical" >> beam.Map(shuffle_bin_item, bins)
         | "Write" >> beam.ParDo(write))
    _ = ((spilled.stats, holdout.stats)
         | "AllStats" >> beam.Flatten()
         | "SumStats" >> beam.CombinePerKey(sum_counts)
         | "Stats" >> beam.combiners.ToDict()
         | "Summary" >> beam.Map(write_summary, plan, FileSystems.join(work, SUMMARY_NAME)))
