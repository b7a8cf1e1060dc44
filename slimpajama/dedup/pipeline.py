"""`slimpajama dedup` as an Apache Beam pipeline: thin transforms over the pure stage functions.

    discover → scan (read → normalize → short filter → sign + band; stage long docs to _work/)
             → GroupByKey(band key) → star edges → one-worker union-find → keeper per cluster
             → CoGroupByKey(file, removed lines) → write kept docs in the release layout

Only ints travel through shuffles (document keys, band keys, sizes); the text is written once per
input file to `_work/staged/` and re-read by the writer. Small global results (counts, removed
documents, issues) are gathered on one worker, sorted, and written as files, so the output bytes do
not depend on the runner, the number of workers or the order in which files were listed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from typing import Any

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
import zstandard
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics

from slimpajama.core.accounting import Counts, merge_counts, tally
from slimpajama.core.keep import Member, keep_policy
from slimpajama.core.keytext import key_text
from slimpajama.dedup.config import DedupConfig
from slimpajama.dedup.distributed_clusters import DistributedClusters
from slimpajama.dedup.edges import (
    NOT_VERIFIED,
    Edge,
    Removed,
    bucket_edges,
    cluster_sizes,
    resolve_clusters,
    unique_pair,
)
from slimpajama.dedup.scan import (
    SET_NAME_LIST,
    SignedDoc,
    doc_key,
    parse_staged_line,
    scan_file,
    split_doc_key,
)
from slimpajama.dedup.verify import VerifyCounts, sum_counts, verify_buckets
from slimpajama.io.inputs import InputFile, Issue, discover_inputs
from slimpajama.io.release import read_zstd_lines, release_relpath, write_release_file

WORK = "_work"
QUARANTINE_FILE = "quarantine/issues.jsonl"
DUPLICATES_FILE = "duplicates.parquet"
EDGES_FILE = "edges.parquet"
SHORT_FILE = "short.parquet"
COUNTS_FILE = f"{WORK}/counts.json"
CLUSTERS_FILE = f"{WORK}/clusters.json"
VERIFICATION_FILE = f"{WORK}/verification.json"
STAGED_LEVEL = 1  # zstd level of the staged (temporary) files: speed over size


def staged_path(root: str, file_index: int) -> str:
    """Where the scan stage stages one input file's long documents."""
    return FileSystems.join(root, WORK, "staged", f"{file_index:08d}.tsv.zst")


def output_relpath(file_index: int, chunks: int) -> str:
    """Release file for input file `file_index`: files are dealt round-robin over `chunks`."""
    return release_relpath("train", file_index % chunks + 1, file_index // chunks)


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


class ScanFile(beam.DoFn):
    """Routes `scan_file` events: staged lines to a file, the rest to tagged outputs."""

    def __init__(self, cfg: DedupConfig, root: str) -> None:
        self._cfg, self._root = cfg, root

    def setup(self) -> None:
        self._compressor = zstandard.ZstdCompressor(level=STAGED_LEVEL, threads=0)
        self._timer = _Timed("scan")

    def process(self, f: InputFile) -> Iterator[Any]:
        with self._timer, FileSystems.create(
            staged_path(self._root, f.index), compression_type=CompressionTypes.UNCOMPRESSED
        ) as raw, self._compressor.stream_writer(raw, closefd=False) as staged:
            for tag, value in scan_file(f, self._cfg):
                if tag == "staged":
                    staged.write(value)
                elif tag == "signed":
                    yield value
                else:
                    yield beam.pvalue.TaggedOutput(tag, value)


def band_members(doc: SignedDoc, local: bool) -> Iterator[tuple[tuple[int, ...], tuple[int, int, int]]]:
    """One (bucket key, (doc key, bytes, set index)) per band: plain ints pickle fastest; local
    scope adds the source to the bucket key."""
    member = (doc.doc_key, doc.nbytes, doc.set_index)
    for band, key in enumerate(doc.band_keys):
        yield ((doc.set_index, band, key) if local else (band, key)), member


def edges_of_bucket(item: tuple[tuple[int, ...], Iterable[tuple[int, int, int]]]) -> list[Edge]:
    """Star edges of one bucket, labelled with the bucket's band index."""
    bucket, members = item
    return bucket_edges(
        bucket[-2], (Member(key, nbytes, SET_NAME_LIST[index]) for key, nbytes, index in members)
    )


class WriteKept(beam.DoFn):
    """Writes one input file's kept documents to its release file; yields the kept counts."""

    def __init__(self, cfg: DedupConfig, root: str) -> None:
        self._cfg, self._root = cfg, root

    def setup(self) -> None:
        self._timer = _Timed("write")

    def process(self, item: tuple[int, dict[str, list]]) -> Iterator[Counts]:
        file_index, joined = item
        if not joined["file"]:
            return
        removed = set(joined["removed"])
        counts: Counts = {}

        def kept_lines() -> Iterator[bytes]:
            for staged in read_zstd_lines(staged_path(self._root, file_index)):
                line, set_index, nbytes, release_line = parse_staged_line(staged)
                if line in removed:
                    continue
                tally(counts, SET_NAME_LIST[set_index], "kept", nbytes, is_input=False)
                yield release_line

        with self._timer:
            target = FileSystems.join(self._root, output_relpath(file_index, self._cfg.chunks))
            write_release_file(target, kept_lines())
        yield counts


def anchored_bucket(
    item: tuple[tuple[int, ...], Iterable[tuple[int, int, int]]],
) -> list[tuple[int, tuple[int, tuple[tuple[int, int, int], ...]]]]:
    """(anchor key, (band, members sorted by key)) of a bucket of two or more documents, members
    as plain (doc key, bytes, set index) ints; the anchor is its smallest member."""
    bucket, members = item
    ordered = tuple(sorted(set(members)))
    return [(ordered[0][0], (bucket[-2], ordered))] if len(ordered) > 1 else []


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
                    text = key_text(json.loads(release_line)["text"])
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
    """Grouped buckets -> verified edges (see `slimpajama.dedup.verify`) and per-anchor counts.
    Buckets meet at their anchor (their smallest member); each staged file is read once; key texts
    travel once to each anchor that has the document in some bucket, and only for documents in
    some bucket of two or more."""
    anchored = (
        buckets
        | "Buckets by anchor" >> beam.FlatMap(anchored_bucket)
        | "Distinct buckets per anchor" >> beam.CombinePerKey(DistinctBuckets())
    )
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


def removed_counts(removed: Removed) -> Counts:
    """Counts contribution of one removed document."""
    counts: Counts = {}
    tally(counts, removed.set_name, "duplicate", removed.nbytes, is_input=False)
    return counts


def _write_text(path: str, text: str) -> None:
    with FileSystems.create(path, mime_type="application/json") as fh:
        fh.write(text.encode("utf-8"))


def write_quarantine(root: str, issues: list[Issue]) -> None:
    """All issues, sorted by (relpath, line, kind, reason), one JSON object per line."""
    lines = []
    for issue in sorted(issues, key=lambda i: (i.relpath, i.line, i.kind, i.reason)):
        record = {
            "id": f"{issue.relpath}:{issue.line}", "relpath": issue.relpath, "line": issue.line,
            "kind": issue.kind, "reason": issue.reason,
            "raw": issue.raw.decode("utf-8", errors="backslashreplace"),
        }
        lines.append(json.dumps(record, ensure_ascii=False) + "\n")
    _write_text(FileSystems.join(root, QUARANTINE_FILE), "".join(lines))


def _jaccard_column(values: list[float]) -> pa.Array:
    return pa.array([None if v == NOT_VERIFIED else v for v in values], pa.float64())


def _write_parquet(root: str, name: str, columns: dict[str, pa.Array]) -> None:
    with FileSystems.create(FileSystems.join(root, name)) as fh:
        pq.write_table(pa.table(columns), fh, compression="zstd")


def write_duplicates(removed: list[Removed], root: str, files: list[InputFile]) -> None:
    """duplicates.parquet: one row per removed document, sorted by document key; and the cluster
    size histogram for the report."""
    relpaths = {f.index: f.relpath for f in files}
    rows = sorted(removed)

    def ids(keys: list[int]) -> pa.Array:
        return pa.array([doc_id(relpaths, k) for k in keys], pa.string())

    _write_parquet(root, DUPLICATES_FILE, {
        "id": ids([r.doc_key for r in rows]),
        "source": pa.array([r.set_name for r in rows], pa.string()),
        "cluster_id": ids([r.cluster_key for r in rows]),
        "kept_id": ids([r.kept_key for r in rows]),
        "band": pa.array([r.band for r in rows], pa.int32()),
        "matched_id": ids([r.matched_key for r in rows]),
        "jaccard": _jaccard_column([r.jaccard for r in rows]),
        "bytes": pa.array([r.nbytes for r in rows], pa.int64()),
    })
    clusters = {"cluster_sizes": cluster_sizes(rows), "clusters": len({r.cluster_key for r in rows})}
    _write_text(FileSystems.join(root, CLUSTERS_FILE), json.dumps(clusters, sort_keys=True))


def write_edges(edges: list[Edge], root: str, files: list[InputFile]) -> None:
    """edges.parquet: every edge that joined two documents (after verification), sorted."""
    relpaths = {f.index: f.relpath for f in files}
    rows = sorted((e.anchor.doc_key, e.other.doc_key, e.band, e.jaccard) for e in edges)
    _write_parquet(root, EDGES_FILE, {
        "a_id": pa.array([doc_id(relpaths, r[0]) for r in rows], pa.string()),
        "b_id": pa.array([doc_id(relpaths, r[1]) for r in rows], pa.string()),
        "band": pa.array([r[2] for r in rows], pa.int32()),
        "jaccard": _jaccard_column([r[3] for r in rows]),
    })


def write_short(short: list[tuple[int, int]], root: str, files: list[InputFile]) -> None:
    """short.parquet: id and key-text length of every document dropped as short, sorted."""
    relpaths = {f.index: f.relpath for f in files}
    rows = sorted(short)
    _write_parquet(root, SHORT_FILE, {
        "id": pa.array([doc_id(relpaths, k) for k, _ in rows], pa.string()),
        "key_chars": pa.array([n for _, n in rows], pa.int64()),
    })


def build_dedup_pipeline(p: beam.Pipeline, cfg: DedupConfig, root: str) -> None:
    """Add the dedup stages to `p`; everything is written under `root` (the temporary output)."""
    files = (
        p
        | "Input root" >> beam.Create([cfg.input])
        | "Discover files" >> beam.FlatMap(discover_inputs)
        | "Spread files" >> beam.Reshuffle()
    )
    scanned = files | "Read, normalize, sign" >> beam.ParDo(ScanFile(cfg, root)).with_outputs(
        "issue", "counts", "short", main="signed"
    )
    policy = keep_policy(cfg.keep, cfg.source_priority)
    buckets = (
        scanned.signed
        | "Band keys" >> beam.FlatMap(band_members, local=cfg.scope == "local")
        | "Group by band key" >> beam.GroupByKey()
    )
    if cfg.verify:
        candidates, verification = verify_edges(buckets, files, cfg, root)
        _ = (
            verification
            | "Sum verification counts" >> beam.CombineGlobally(sum_counts)
            | "Write verification" >> beam.Map(write_verification, root)
        )
    else:
        candidates = buckets | "Candidate edges" >> beam.FlatMap(edges_of_bucket)
    edges = (
        candidates
        | "Key by pair" >> beam.Map(lambda e: ((e.anchor.doc_key, e.other.doc_key), e))
        | "One edge per pair" >> beam.CombinePerKey(unique_pair)
        | "Drop pair keys" >> beam.Values()
    )
    gathered_edges = edges | "Gather edges" >> beam.combiners.ToList()
    if cfg.components == "distributed":
        removed = edges | "Clusters and keepers" >> DistributedClusters(policy, cfg.component_rounds)
    else:
        removed = gathered_edges | "Clusters and keepers" >> beam.FlatMap(resolve_clusters, policy)
    written = (
        {
            "file": files | "Key files" >> beam.Map(lambda f: (f.index, f)),
            "removed": removed | "Key removed by file" >> beam.Map(lambda r: split_doc_key(r.doc_key)),
        }
        | "Join removed lines" >> beam.CoGroupByKey()
        | "Write kept" >> beam.ParDo(WriteKept(cfg, root))
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
        scanned.issue
        | "Gather issues" >> beam.combiners.ToList()
        | "Write quarantine" >> beam.Map(lambda issues: write_quarantine(root, issues))
    )
    all_files = beam.pvalue.AsList(files)
    _ = (
        removed
        | "Gather removed" >> beam.combiners.ToList()
        | "Write duplicates" >> beam.Map(write_duplicates, root, all_files)
    )
    _ = gathered_edges | "Write edges" >> beam.Map(write_edges, root, all_files)
    _ = (
        scanned.short
        | "Gather short" >> beam.combiners.ToList()
        | "Write short" >> beam.Map(write_short, root, all_files)
    )
