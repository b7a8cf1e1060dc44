"""`slimpajama dedup` as an Apache Beam pipeline: thin transforms over the pure stage functions.

    discover → scan (read → normalize → short filter → sign + band; stage long docs to _work/)
             → GroupByKey(band-key partition) → sort → star edges → one edge per pair
             → clusters (one-worker array union-find, or distributed star rounds) → keepers
             → CoGroupByKey(file, removed lines) → write kept docs in the release layout

Only ints travel through shuffles, and the big ones as compact numpy record blocks: band keys
(per input file, one BAND_ENTRY block per band-key partition; on one machine the entries are
spilled to `_work/bands/` and only BandRange references are grouped, so the local runner's memory
does not hold them), edges (EDGE blocks per anchor file) and removed documents (REMOVED blocks per
input file). The text is written once per input
file to `_work/staged/` and re-read by the writer. No stage holds O(corpus) records on one worker
(the one-worker union-find only runs while the edge count fits a budget): audit records are
grouped by a fixed part of the input (AUDIT_FILES_PER_PART input files per part), sorted, and
committed by rename as part files; report totals come from combiners. The output bytes do not
depend on the runner, the number of workers or the order in which files were listed.
"""

from __future__ import annotations

import heapq
import io
import json
import re
import time
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

import apache_beam as beam
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics

from slimpajama.core.accounting import Counts, merge_counts, tally
from slimpajama.core.keep import Member, keep_policy
from slimpajama.core.keytext import key_text
from slimpajama.dedup.config import DedupConfig
from slimpajama.dedup.distributed_clusters import DistributedClusters
from slimpajama.dedup.edges import (
    BAND_ENTRY,
    EDGE,
    NOT_VERIFIED,
    REMOVED,
    Edge,
    Removed,
    bucket_members,
    edge_objects,
    edge_records,
    removed_of_edges,
    removed_records,
    split_by_partition,
    star_edges,
    unique_pairs,
)
from slimpajama.dedup.scan import (
    SET_INDEX,
    SET_NAME_LIST,
    doc_key,
    parse_staged_line,
    split_doc_key,
)
from slimpajama.dedup.units import (
    SCAN_STAGE,
    WORK,
    WRITE_STAGE,
    BandRange,
    audit_part,
    read_band_range,
    scan_unit,
    staged_path,
    write_unit,
)
from slimpajama.dedup.verify import VerifyCounts, sum_counts, verify_buckets
from slimpajama.io.beam_options import is_local_runner
from slimpajama.io.inputs import InputFile, Issue, discover_inputs
from slimpajama.io.release import read_zstd_lines, release_text
from slimpajama.pool import PooledMap

QUARANTINE_DIR = "quarantine"  # part-NNNNN.jsonl
DUPLICATES_DIR = "duplicates"  # part-NNNNN.parquet
EDGES_DIR = "edges"  # part-NNNNN.parquet
SHORT_DIR = "short"  # part-NNNNN.parquet
COUNTS_FILE = f"{WORK}/counts.json"
CLUSTERS_FILE = f"{WORK}/clusters.json"
ISSUES_FILE = f"{WORK}/issues.json"
VERIFICATION_FILE = f"{WORK}/verification.json"
EXAMPLE_ISSUES = 50


def part_relpath(folder: str, part: int, suffix: str) -> str:
    """`folder/part-NNNNN.suffix`."""
    return f"{folder}/part-{part:05d}.{suffix}"


def doc_id(relpaths: dict[int, str], key: int) -> str:
    """The human-readable id `relpath:line` of a document key."""
    file_index, line = split_doc_key(key)
    return f"{relpaths[file_index]}:{line}"


class _Timed:
    """Adds the wall time of each `process` call to a Beam counter `<stage>_msecs`."""

    def __init__(self, stage: str) -> None:
        self._msecs = Metrics.counter("slimpajama", f"{stage}_msecs")

    def __enter__(self) -> None:
        self._start = time.perf_counter()

    def __exit__(self, *_: object) -> None:
        self._msecs.inc(int((time.perf_counter() - self._start) * 1000))


def band_entries_of(values: Iterable[bytes | BandRange]) -> np.ndarray:
    """One band-key partition's BAND_ENTRY records, from blocks and spilled BandRanges."""
    return blocks_of((read_band_range(v) if isinstance(v, BandRange) else v for v in values), BAND_ENTRY)


def blocks_of(blocks: Iterable[bytes], dtype: np.dtype) -> np.ndarray:
    """Record blocks (bytes) as one read-only array (joined as bytes: concatenating structured
    arrays costs a dtype promotion per block)."""
    return np.frombuffer(b"".join(blocks), dtype=dtype)


def partition_edges(item: tuple[int, Iterable[bytes | BandRange]]) -> Iterator[tuple[int, bytes]]:
    """One band-key partition's entries -> its buckets' star edges as EDGE blocks (bytes), one
    per anchor input file."""
    _, values = item
    edges = star_edges(band_entries_of(values))
    for file_index, block in split_by_partition(edges, (edges["a"] >> np.uint64(32)).astype(np.int64)):
        yield file_index, block.tobytes()


def partition_buckets(
    item: tuple[int, Iterable[bytes | BandRange]], local: bool
) -> Iterator[tuple[int, tuple[int, tuple[tuple[int, int, int], ...]]]]:
    """One band-key partition's entries -> (anchor key, (band, members)) of each of its buckets of
    two or more documents, for verification: members as plain (doc key, bytes, set index) ints
    sorted by key (a document is in a bucket once), the anchor its smallest member."""
    _, values = item
    for bucket, members in bucket_members(band_entries_of(values), local):
        yield members[0][0], (bucket[-2], tuple(members))


def edge_block(item: tuple[int, Iterable[bytes]]) -> tuple[int, bytes]:
    """One anchor file's EDGE blocks -> (file index, one EDGE block): one edge per document pair
    (its smallest band), sorted by (a, b)."""
    file_index, blocks = item
    return file_index, unique_pairs(blocks_of(blocks, EDGE)).tobytes()


def verified_edge_block(item: tuple[int, Iterable[Edge]]) -> tuple[int, bytes]:
    """One anchor file's verified Edge tuples -> (file index, one EDGE block), as `edge_block`."""
    file_index, edges = item
    return file_index, unique_pairs(edge_records(list(edges), SET_INDEX)).tobytes()


def removed_lines(item: tuple[int, dict[str, list]]) -> list[tuple[int, list[int]]]:
    """(input file index, its removed lines) of one joined input file."""
    file_index, joined = item
    removed = blocks_of(joined["removed"], REMOVED)
    lines = (removed["doc_key"] & np.uint64(0xFFFFFFFF)).tolist()
    return [(file_index, lines)] if joined["file"] else []


class DistinctBuckets(beam.CombineFn):
    """The buckets of one anchor: each distinct member tuple once, with its smallest band (the
    same documents often share a bucket in many bands). Output sorted by (band, members)."""

    def create_accumulator(self) -> dict[tuple, int]:
        return {}

    def add_input(self, acc: dict[tuple, int], bucket: tuple[int, tuple]) -> dict[tuple, int]:
        band, members = bucket
        acc[members] = min(band, acc.get(members, band))
        return acc

    def merge_accumulators(self, accs: Iterable[dict[tuple, int]]) -> dict[tuple, int]:
        merged: dict[tuple, int] = {}
        for acc in accs:
            for members, band in acc.items():
                merged[members] = min(band, merged.get(members, band))
        return merged

    def extract_output(self, acc: dict[tuple, int]) -> list[tuple[int, tuple]]:
        return sorted((band, members) for members, band in acc.items())


def text_requests(
    item: tuple[int, list[tuple[int, tuple[tuple[int, int, int], ...]]]],
) -> Iterator[tuple[int, tuple[int, int]]]:
    """(file index, (line, anchor key)) once for every document in the buckets of an anchor (the
    anchor too)."""
    anchor, buckets = item
    for key in sorted({key for _, members in buckets for key, _, _ in members}):
        file_index, line = split_doc_key(key)
        yield file_index, (line, anchor)


class ReadKeyTexts(beam.DoFn):
    """Re-reads one staged file once and sends each requested document's key text once to every
    anchor that asked for it: (anchor key, (doc key, key text))."""

    def __init__(self, root: str) -> None:
        self._root = root

    def setup(self) -> None:
        self._timer = _Timed("verify_read")

    def process(self, item: tuple[int, dict[str, list]]) -> Iterator[tuple[int, tuple[int, str]]]:
        file_index, joined = item
        wanted: dict[int, set[int]] = {}
        for line, anchor in joined["requests"]:
            wanted.setdefault(line, set()).add(anchor)
        if not wanted:
            return
        with self._timer:
            for staged in read_zstd_lines(staged_path(self._root, file_index)):
                line, _, _, release_line = parse_staged_line(staged)
                if line in wanted:
                    text = key_text(release_text(release_line))
                    key = doc_key(file_index, line)
                    for anchor in wanted[line]:  # order is irrelevant: grouped by anchor next
                        yield anchor, (key, text)


class VerifyBuckets(beam.DoFn):
    """`verify_buckets` over the buckets of one anchor; verified edges out, and the anchor's
    VerifyCounts to the 'verification' output."""

    def __init__(self, cfg: DedupConfig) -> None:
        self._cfg = cfg

    def setup(self) -> None:
        self._timer = _Timed("verify")

    def process(self, item: tuple[int, dict[str, list]]) -> Iterator[Any]:
        _, joined = item
        (distinct,) = joined["buckets"]
        buckets = [
            (band, [Member(key, nbytes, SET_NAME_LIST[index]) for key, nbytes, index in members])
            for band, members in distinct
        ]
        with self._timer:
            edges, counts = verify_buckets(
                buckets, dict(joined["texts"]), self._cfg.threshold, self._cfg.ngram,
                self._cfg.shingle,
            )
        yield from edges
        yield beam.pvalue.TaggedOutput("verification", tuple(counts))


def verify_edges(
    buckets: beam.PCollection, files: beam.PCollection, cfg: DedupConfig, root: str
) -> tuple[beam.PCollection, beam.PCollection]:
    """Anchored buckets -> verified edges (see `slimpajama.dedup.verify`) and per-anchor counts.
    Buckets meet at their anchor (their smallest member); each staged file is read once; key texts
    travel once to each anchor that has the document in some bucket, and only for documents in
    some bucket of two or more."""
    anchored = buckets | "Distinct buckets per anchor" >> beam.CombinePerKey(DistinctBuckets())
    texts = (
        {
            "file": files | "Key files for texts" >> beam.Map(lambda f: (f.index, f)),
            "requests": anchored | "Text requests" >> beam.FlatMap(text_requests),
        }
        | "Join text requests" >> beam.CoGroupByKey()
        | "Read candidate texts" >> beam.ParDo(ReadKeyTexts(root))
    )
    verified = (
        {"buckets": anchored, "texts": texts}
        | "Buckets and texts by anchor" >> beam.CoGroupByKey()
        | "Verify exact Jaccard" >> beam.ParDo(VerifyBuckets(cfg)).with_outputs(
            "verification", main="edges"
        )
    )
    return verified.edges, verified.verification


def write_verification(counts: VerifyCounts, root: str) -> None:
    """Verification totals (VerifyCounts, plus rejected = candidates − verified)."""
    totals = {**counts._asdict(), "rejected": counts.candidates - counts.verified}
    _write_text(FileSystems.join(root, VERIFICATION_FILE), json.dumps(totals, sort_keys=True))

class MergeCounts(beam.CombineFn):
    """Sums per-source Counts dicts (associative, order-free)."""

    def create_accumulator(self) -> Counts:
        return {}

    def add_input(self, acc: Counts, counts: Counts) -> Counts:
        return merge_counts([acc, counts])

    def merge_accumulators(self, accs: Iterable[Counts]) -> Counts:
        return merge_counts(accs)

    def extract_output(self, acc: Counts) -> Counts:
        return acc


def removed_counts(item: tuple[int, bytes]) -> Counts:
    """Duplicate counts (documents and bytes per source) of one REMOVED block."""
    removed = np.frombuffer(item[1], dtype=REMOVED)
    counts: Counts = {}
    for set_index in np.unique(removed["set_index"]).tolist():
        of_set = removed["set_index"] == set_index
        tally(counts, SET_NAME_LIST[set_index], "duplicate", int(removed["nbytes"][of_set].sum()),
              is_input=False, docs=int(of_set.sum()))
    return counts


def removed_per_cluster(item: tuple[int, bytes]) -> list[tuple[int, int]]:
    """(cluster key, removed documents) of every cluster with members in one REMOVED block."""
    clusters, removed = np.unique(np.frombuffer(item[1], dtype=REMOVED)["cluster_key"], return_counts=True)
    return list(zip(clusters.tolist(), removed.tolist(), strict=True))


class GatherEdges(beam.CombineFn):
    """EDGE blocks (bytes) -> one EDGE array, for the one-worker union-find: 44 bytes per edge,
    never one Python object per edge."""

    def create_accumulator(self) -> list[np.ndarray]:
        return []

    def add_input(self, acc: list[np.ndarray], block: bytes) -> list[np.ndarray]:
        acc.append(np.frombuffer(block, dtype=EDGE))
        return acc

    def merge_accumulators(self, accs: Iterable[list[np.ndarray]]) -> list[np.ndarray]:
        return [np.concatenate([block for acc in accs for block in acc] or [np.empty(0, dtype=EDGE)])]

    def extract_output(self, acc: list[np.ndarray]) -> np.ndarray:
        return self.merge_accumulators([acc])[0]


def removed_blocks(edges: np.ndarray, cfg: DedupConfig) -> Iterator[tuple[int, bytes]]:
    """(file index, REMOVED block of that file's removed documents) from all edges, clustered by
    the one-worker array union-find."""
    removed = removed_of_edges(edges, cfg.keep, cfg.source_priority, SET_NAME_LIST)
    for file_index, block in split_by_partition(removed, (removed["doc_key"] >> np.uint64(32)).astype(np.int64)):
        yield file_index, block.tobytes()


def removed_block(item: tuple[int, Iterable[Removed]]) -> tuple[int, bytes]:
    """One input file's Removed tuples (from the star rounds) -> (file index, REMOVED block)."""
    file_index, removed = item
    return file_index, removed_records(removed, SET_INDEX).tobytes()


def add_to_histogram(histogram: dict[int, int], value: int) -> dict[int, int]:
    histogram[value] = histogram.get(value, 0) + 1
    return histogram


class Histogram(beam.CombineFn):
    """Ints -> {value: how often}, sorted by value (associative, order-free)."""

    def create_accumulator(self) -> dict[int, int]:
        return {}

    def add_input(self, acc: dict[int, int], value: int) -> dict[int, int]:
        return add_to_histogram(acc, value)

    def merge_accumulators(self, accs: Iterable[dict[int, int]]) -> dict[int, int]:
        merged: dict[int, int] = {}
        for acc in accs:
            for value, count in acc.items():
                merged[value] = merged.get(value, 0) + count
        return merged

    def extract_output(self, acc: dict[int, int]) -> dict[int, int]:
        return dict(sorted(acc.items()))


def write_clusters(sizes: dict[int, int], root: str) -> None:
    """clusters.json for the report: cluster size histogram (the kept member counted) and the
    number of clusters."""
    clusters = {"cluster_sizes": sizes, "clusters": sum(sizes.values())}
    _write_text(FileSystems.join(root, CLUSTERS_FILE), json.dumps(clusters, sort_keys=True))


def issue_order(issue: Issue) -> tuple[str, int, str, str]:
    """The order of issues in the quarantine files: (relpath, line, kind, reason)."""
    return issue.relpath, issue.line, issue.kind, issue.reason


def issue_reason(issue: Issue) -> str:
    """The report's reason class: kind, then the reason before its first ':' with numbers as N."""
    return f"{issue.kind}: " + re.sub(r"\d+", "N", issue.reason.split(":")[0])


class SummarizeIssues(beam.CombineFn):
    """Per-file issue lists -> counts by kind and by reason class, and the first EXAMPLE_ISSUES
    issues in quarantine-file order (associative, order-free)."""

    def create_accumulator(self) -> tuple[dict[str, int], dict[str, int], list[tuple]]:
        return {}, {}, []

    def add_input(self, acc: tuple, issues: list[Issue]) -> tuple:
        by_kind, by_reason, examples = acc
        for issue in issues:
            by_kind[issue.kind] = by_kind.get(issue.kind, 0) + 1
            by_reason[issue_reason(issue)] = by_reason.get(issue_reason(issue), 0) + 1
        examples = heapq.nsmallest(EXAMPLE_ISSUES, [*examples, *map(issue_order, issues)])
        return by_kind, by_reason, examples

    def merge_accumulators(self, accs: Iterable[tuple]) -> tuple:
        by_kind: dict[str, int] = {}
        by_reason: dict[str, int] = {}
        examples: list[tuple] = []
        for kinds, reasons, more in accs:
            for key, count in kinds.items():
                by_kind[key] = by_kind.get(key, 0) + count
            for key, count in reasons.items():
                by_reason[key] = by_reason.get(key, 0) + count
            examples = heapq.nsmallest(EXAMPLE_ISSUES, [*examples, *more])
        return by_kind, by_reason, examples

    def extract_output(self, acc: tuple) -> dict[str, Any]:
        by_kind, by_reason, examples = acc
        return {
            "by_kind": dict(sorted(by_kind.items())),
            "by_reason": dict(sorted(by_reason.items())),
            "examples": [{"id": f"{relpath}:{line}", "kind": kind, "reason": reason}
                         for relpath, line, kind, reason in examples],
        }


def _write_text(path: str, text: str) -> None:
    with FileSystems.create(path, mime_type="application/json") as fh:
        fh.write(text.encode("utf-8"))


def commit_part(root: str, relpath: str, data: bytes) -> None:
    """Write `root/relpath` atomically: to a unique temporary name under _work/, then rename. A
    retried or duplicated writer replaces the file with the same bytes; a dead one leaves only
    a temporary file, which the run deletes with _work/."""
    temporary = FileSystems.join(root, WORK, "parts", f"{relpath.replace('/', '.')}.{uuid.uuid4().hex}")
    with FileSystems.create(temporary, compression_type=CompressionTypes.UNCOMPRESSED) as fh:
        fh.write(data)
    final = FileSystems.join(root, relpath)
    try:
        FileSystems.mkdirs(final.rsplit("/", 1)[0])
    except OSError:  # it exists
        pass
    FileSystems.rename([temporary], [final])


def write_quarantine_part(item: tuple[int, Iterable[list[Issue]]], root: str) -> None:
    """quarantine/part-NNNNN.jsonl: the part's issues sorted by (relpath, line, kind, reason),
    one JSON object per line."""
    part, per_file = item
    lines = []
    for issue in sorted((i for issues in per_file for i in issues), key=issue_order):
        record = {
            "id": f"{issue.relpath}:{issue.line}", "relpath": issue.relpath, "line": issue.line,
            "kind": issue.kind, "reason": issue.reason,
            "raw": issue.raw.decode("utf-8", errors="backslashreplace"),
        }
        lines.append(json.dumps(record, ensure_ascii=False) + "\n")
    commit_part(root, part_relpath(QUARANTINE_DIR, part, "jsonl"), "".join(lines).encode("utf-8"))


def _jaccard_column(values: list[float]) -> pa.Array:
    return pa.array([None if v == NOT_VERIFIED else v for v in values], pa.float64())


def _commit_parquet(root: str, relpath: str, columns: dict[str, pa.Array]) -> None:
    buffer = io.BytesIO()
    pq.write_table(pa.table(columns), buffer, compression="zstd")
    commit_part(root, relpath, buffer.getvalue())


def write_duplicates_part(item: tuple[int, Iterable[bytes]], root: str, files: list[InputFile]) -> None:
    """duplicates/part-NNNNN.parquet: one row per removed document of the part's input files
    (REMOVED blocks), sorted by document key."""
    part, blocks = item
    relpaths = {f.index: f.relpath for f in files}
    rows = blocks_of(blocks, REMOVED)
    rows = rows[np.argsort(rows["doc_key"], kind="stable")]

    def ids(keys: np.ndarray) -> pa.Array:
        return pa.array([doc_id(relpaths, k) for k in keys.tolist()], pa.string())

    _commit_parquet(root, part_relpath(DUPLICATES_DIR, part, "parquet"), {
        "id": ids(rows["doc_key"]),
        "source": pa.array([SET_NAME_LIST[i] for i in rows["set_index"].tolist()], pa.string()),
        "cluster_id": ids(rows["cluster_key"]),
        "kept_id": ids(rows["kept_key"]),
        "band": pa.array(rows["band"].astype(np.int32)),
        "matched_id": ids(rows["matched_key"]),
        "jaccard": _jaccard_column(rows["jaccard"].tolist()),
        "bytes": pa.array(rows["nbytes"]),
    })


def write_edges_part(item: tuple[int, Iterable[bytes]], root: str, files: list[InputFile]) -> None:
    """edges/part-NNNNN.parquet: every edge (after verification) whose anchor is in the part's
    input files (EDGE blocks), sorted by (a, b)."""
    part, blocks = item
    relpaths = {f.index: f.relpath for f in files}
    rows = blocks_of(blocks, EDGE)
    rows = rows[np.lexsort((rows["b"], rows["a"]))]
    _commit_parquet(root, part_relpath(EDGES_DIR, part, "parquet"), {
        "a_id": pa.array([doc_id(relpaths, k) for k in rows["a"].tolist()], pa.string()),
        "b_id": pa.array([doc_id(relpaths, k) for k in rows["b"].tolist()], pa.string()),
        "band": pa.array(rows["band"].astype(np.int32)),
        "jaccard": _jaccard_column(rows["jaccard"].tolist()),
    })


def write_short_part(item: tuple[int, Iterable[tuple[str, list[tuple[int, int]]]]], root: str) -> None:
    """short/part-NNNNN.parquet: id and key-text length of every document of the part's input
    files dropped as short, sorted by document key."""
    part, per_file = item
    rows = sorted((key, relpath, chars) for relpath, short in per_file for key, chars in short)
    _commit_parquet(root, part_relpath(SHORT_DIR, part, "parquet"), {
        "id": pa.array([f"{relpath}:{split_doc_key(key)[1]}" for key, relpath, _ in rows], pa.string()),
        "key_chars": pa.array([chars for _, _, chars in rows], pa.int64()),
    })


def cluster_edges(edges: beam.PCollection, cfg: DedupConfig, one_machine: bool) -> beam.PCollection:
    """(anchor file, EDGE block) -> (file, REMOVED block of its removed documents).
    `union-find`: one worker's array union-find over all edges; `distributed`: star rounds keyed
    by document; `auto`: on `one_machine` (a local runner, where the union-find's int arrays are
    the smallest form of the edges) the first, else the first while the edge count is at most
    cfg.component_edge_budget and the second beyond it. All give the same records."""
    one_worker = star_rounds = None
    if cfg.components == "union-find" or (cfg.components == "auto" and one_machine):
        one_worker = edges
    elif cfg.components == "distributed":
        star_rounds = edges
    else:
        count = beam.pvalue.AsSingleton(
            edges
            | "Edges per block" >> beam.Map(lambda item: len(item[1]) // EDGE.itemsize)
            | "Count edges" >> beam.CombineGlobally(sum)
        )
        budget = cfg.component_edge_budget
        one_worker = edges | "Edges for one worker" >> beam.Filter(lambda _, n: n <= budget, count)
        star_rounds = edges | "Edges for star rounds" >> beam.Filter(lambda _, n: n > budget, count)
    removed = []
    if one_worker is not None:
        removed.append(
            one_worker
            | "Edge blocks" >> beam.Values()
            | "Gather edge records" >> beam.CombineGlobally(GatherEdges())
            | "Clusters and keepers" >> beam.FlatMap(removed_blocks, cfg)
        )
    if star_rounds is not None:
        policy = keep_policy(cfg.keep, cfg.source_priority)
        removed.append(
            star_rounds
            | "Edge tuples" >> beam.FlatMap(lambda item: edge_objects(np.frombuffer(item[1], dtype=EDGE),
                                                                    SET_NAME_LIST))
            | "Star-round clusters and keepers" >> DistributedClusters(policy, cfg.component_rounds)
            | "Key removed by file" >> beam.Map(lambda r: (split_doc_key(r.doc_key)[0], r))
            | "Group removed by file" >> beam.GroupByKey()
            | "Removed records" >> beam.Map(removed_block)
        )
    return removed[0] if len(removed) == 1 else removed | "Removed of both paths" >> beam.Flatten()


def build_dedup_pipeline(p: beam.Pipeline, cfg: DedupConfig, root: str, processes: int = 1) -> None:
    """Add the dedup stages to `p`; everything is written under `root` (the temporary output).
    The per-file scan and write stages run in `processes` worker processes (slimpajama.pool)."""
    files = (
        p
        | "Input root" >> beam.Create([cfg.input])
        | "Discover files" >> beam.FlatMap(discover_inputs)
        | "Spread files" >> beam.Reshuffle()
    )
    one_machine = is_local_runner(p.options)
    scan = PooledMap(scan_unit, cfg, root, one_machine, stage=SCAN_STAGE, processes=processes)
    scanned = files | "Read, normalize, sign" >> beam.ParDo(scan).with_outputs(
        "issue", "counts", "short", main="bands"
    )
    partitions = scanned.bands | "Group by band partition" >> beam.GroupByKey()
    if cfg.verify:
        buckets = partitions | "Candidate buckets" >> beam.FlatMap(partition_buckets, local=cfg.scope == "local")
        candidates, verification = verify_edges(buckets, files, cfg, root)
        _ = (
            verification
            | "Sum verification counts" >> beam.CombineGlobally(sum_counts)
            | "Write verification" >> beam.Map(write_verification, root)
        )
        edges = (
            candidates
            | "Key by anchor file" >> beam.Map(lambda e: (split_doc_key(e.anchor.doc_key)[0], e))
            | "Group by anchor file" >> beam.GroupByKey()
            | "One edge per pair" >> beam.Map(verified_edge_block)
        )
    else:
        edges = (
            partitions
            | "Candidate edges" >> beam.FlatMap(partition_edges)
            | "Group by anchor file" >> beam.GroupByKey()
            | "One edge per pair" >> beam.Map(edge_block)
        )
    removed = cluster_edges(edges, cfg, one_machine)
    written = (
        {
            "file": files | "Key files" >> beam.Map(lambda f: (f.index, f)),
            "removed": removed,
        }
        | "Join removed lines" >> beam.CoGroupByKey()
        | "Removed lines per file" >> beam.FlatMap(removed_lines)
        | "Write kept" >> beam.ParDo(PooledMap(write_unit, cfg.chunks, root, stage=WRITE_STAGE,
                                               processes=processes))
    )
    _ = (
        (scanned.counts, written, removed | "Duplicate counts" >> beam.Map(removed_counts))
        | "All counts" >> beam.Flatten()
        | "Merge counts" >> beam.CombineGlobally(MergeCounts())
        | "Write counts" >> beam.Map(
            lambda c: _write_text(FileSystems.join(root, COUNTS_FILE), json.dumps(c, sort_keys=True))
        )
    )
    _ = (
        removed
        | "Removed of each cluster" >> beam.FlatMap(removed_per_cluster)
        | "Removed per cluster" >> beam.CombinePerKey(sum)
        | "Cluster sizes" >> beam.Map(lambda item: item[1] + 1)
        | "Cluster size histogram" >> beam.CombineGlobally(Histogram())
        | "Write clusters" >> beam.Map(write_clusters, root)
    )
    _ = (
        scanned.issue
        | "Issue lists" >> beam.Values()
        | "Summarize issues" >> beam.CombineGlobally(SummarizeIssues())
        | "Write issue summary" >> beam.Map(
            lambda s: _write_text(FileSystems.join(root, ISSUES_FILE), json.dumps(s, sort_keys=True))
        )
    )
    _ = (
        scanned.issue
        | "Group issues by part" >> beam.GroupByKey()
        | "Write quarantine" >> beam.Map(write_quarantine_part, root)
    )
    all_files = beam.pvalue.AsList(files)
    _ = (
        removed
        | "Key removed by part" >> beam.Map(lambda item: (audit_part(item[0]), item[1]))
        | "Group removed by part" >> beam.GroupByKey()
        | "Write duplicates" >> beam.Map(write_duplicates_part, root, all_files)
    )
    _ = (
        edges
        | "Key edges by part" >> beam.Map(lambda item: (audit_part(item[0]), item[1]))
        | "Group edges by part" >> beam.GroupByKey()
        | "Write edges" >> beam.Map(write_edges_part, root, all_files)
    )
    _ = (
        scanned.short
        | "Group short by part" >> beam.GroupByKey()
        | "Write short" >> beam.Map(write_short_part, root)
    )
