"""From LSH buckets to removed documents: candidate edges, clusters, keepers (pure functions).

A bucket is the set of documents sharing one band key (band index included; with `--scope local`
the source too). Each bucket of m ≥ 2 documents yields m − 1 edges, a star from its smallest
document key (the reference's "first doc seen", made order-free); a pair found in several bands
keeps the edge of its smallest band. Clusters are the connected components of all edges; each
cluster keeps one member by `--keep` and removes the rest.

Band keys and edges travel as compact numpy record blocks (BAND_ENTRY, EDGE), never as one Python
object per (document, band): buckets are found by sorting a block, clusters by a vectorized
union-find over int arrays.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import NamedTuple

import numpy as np

from slimpajama.core.keep import Member
from slimpajama.core.union_find import component_roots

NOT_VERIFIED = -1.0

BAND_PARTITION_BITS = 10
"""The bucket shuffle has 2**10 partitions of the band-key space (by the top bits of the key):
at RedPajama-1T size (~0.9e9 documents x 9 bands x 28 bytes) about 230 MB of entries each."""
SPILLED_PARTITION_BITS = 6
"""On one machine band entries are spilled to files and read one partition at a time: 2**6
partitions (a 150 GB corpus: about 80 MB of entries each)."""

BAND_ENTRY = np.dtype([
    ("band", "<u2"), ("scope", "u1"), ("key", "<u8"), ("doc_key", "<u8"), ("nbytes", "<i8"),
    ("set_index", "u1"),
])
"""One (document, band) of the bucket shuffle, 28 bytes: bucket = (band, scope, key); scope is
the set index with --scope local, else 0."""

EDGE = np.dtype([
    ("a", "<u8"), ("b", "<u8"), ("band", "<u2"), ("jaccard", "<f8"), ("a_nbytes", "<i8"),
    ("a_set", "u1"), ("b_nbytes", "<i8"), ("b_set", "u1"),
])
"""One candidate edge a < b as a 44-byte record: band, Jaccard (NOT_VERIFIED) and both members'
text bytes and set index."""


class Edge(NamedTuple):
    """A candidate duplicate pair found in band `band`; `anchor.doc_key < other.doc_key`;
    `jaccard` is the verified exact similarity, or NOT_VERIFIED."""

    anchor: Member
    other: Member
    band: int
    jaccard: float = NOT_VERIFIED


REMOVED = np.dtype([
    ("doc_key", "<u8"), ("set_index", "u1"), ("nbytes", "<i8"), ("cluster_key", "<u8"),
    ("kept_key", "<u8"), ("band", "<u2"), ("matched_key", "<u8"), ("jaccard", "<f8"),
])
"""One removed document as a 51-byte record: the fields of Removed, the set name as its index."""


class Removed(NamedTuple):
    """A removed document and why: its cluster (smallest member key), the kept member, and the
    edge that first matched it (smallest band, then smallest partner key): its band, partner and
    verified Jaccard (NOT_VERIFIED without --verify)."""

    doc_key: int
    set_name: str
    nbytes: int
    cluster_key: int
    kept_key: int
    band: int
    matched_key: int
    jaccard: float


def band_entries(
    doc_keys: np.ndarray, set_index: np.ndarray, nbytes: np.ndarray, keys: np.ndarray, local: bool
) -> np.ndarray:
    """BAND_ENTRY records of n documents with (n, bands) band keys, document-major."""
    n, bands = keys.shape
    entries = np.empty(n * bands, dtype=BAND_ENTRY)
    entries["band"] = np.tile(np.arange(bands, dtype=np.uint16), n)
    entries["scope"] = np.repeat(set_index, bands) if local else 0
    entries["key"] = keys.reshape(-1)
    entries["doc_key"] = np.repeat(doc_keys, bands)
    entries["nbytes"] = np.repeat(nbytes, bands)
    entries["set_index"] = np.repeat(set_index, bands)
    return entries


def split_by_partition(
    records: np.ndarray, partition: np.ndarray
) -> Iterator[tuple[int, np.ndarray]]:
    """(partition, its records in their original order) for every non-empty partition."""
    order = np.argsort(partition, kind="stable")
    ordered = partition[order]
    if len(order) == 0:
        return
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]]).tolist()
    for start, end in zip(starts, [*starts[1:], len(order)], strict=True):
        yield int(ordered[start]), records[order[start:end]]


def band_partition(entries: np.ndarray, bits: int = BAND_PARTITION_BITS) -> np.ndarray:
    """Band-key partition of each entry: the top `bits` bits of its key."""
    return (entries["key"] >> np.uint64(64 - bits)).astype(np.int64)


def star_edges(entries: np.ndarray) -> np.ndarray:
    """EDGE records of every bucket in `entries` (which must hold whole buckets): a star from
    the bucket's smallest document key, one edge per other member, labelled with the band."""
    entries = entries[np.lexsort((entries["doc_key"], entries["key"], entries["scope"], entries["band"]))]
    starts = _starts(entries, ("band", "scope", "key"))
    anchor = np.maximum.accumulate(np.where(starts, np.arange(len(entries)), 0))
    others = np.flatnonzero(~starts)
    anchors = entries[anchor[others]]
    members = entries[others]
    edges = np.empty(len(others), dtype=EDGE)
    edges["a"], edges["b"], edges["band"] = anchors["doc_key"], members["doc_key"], members["band"]
    edges["jaccard"] = NOT_VERIFIED
    edges["a_nbytes"], edges["a_set"] = anchors["nbytes"], anchors["set_index"]
    edges["b_nbytes"], edges["b_set"] = members["nbytes"], members["set_index"]
    return edges


def bucket_members(
    entries: np.ndarray, local: bool
) -> Iterator[tuple[tuple[int, ...], list[tuple[int, int, int]]]]:
    """Every bucket of two or more documents in `entries` (which must hold whole buckets) as
    (bucket, members): bucket = (band, key), or (scope, band, key) with --scope local; members
    as plain (doc key, text bytes, set index) ints sorted by doc key. Only candidate buckets leave
    the partition, so this is O(duplicates), not O(corpus)."""
    entries = entries[np.lexsort((entries["doc_key"], entries["key"], entries["scope"], entries["band"]))]
    starts = np.flatnonzero(_starts(entries, ("band", "scope", "key")))
    sizes = np.diff(np.append(starts, len(entries)))
    shared = np.repeat(sizes >= 2, sizes)  # entries of buckets of two or more: Python sees only those
    entries, sizes = entries[shared], sizes[sizes >= 2]
    starts = np.cumsum(sizes) - sizes
    rows = entries[["band", "scope", "key", "doc_key", "nbytes", "set_index"]].tolist()
    for start, end in zip(starts.tolist(), (starts + sizes).tolist(), strict=True):
        band, scope, key = rows[start][:3]
        bucket = (scope, band, key) if local else (band, key)
        yield bucket, [(doc, nbytes, set_index) for *_, doc, nbytes, set_index in rows[start:end]]


def unique_pairs(edges: np.ndarray) -> np.ndarray:
    """One edge per (a, b) pair, the one of the smallest band, sorted by (a, b)."""
    edges = edges[np.lexsort((edges["band"], edges["b"], edges["a"]))]
    return edges[_starts(edges, ("a", "b"))]


def _starts(records: np.ndarray, fields: Sequence[str]) -> np.ndarray:
    """True where sorted `records` begin a new run of equal `fields`."""
    starts = np.zeros(len(records), dtype=bool)
    starts[:1] = True
    for field in fields:
        column = records[field]
        starts[1:] |= column[1:] != column[:-1]
    return starts


def edge_objects(edges: np.ndarray, set_names: Sequence[str]) -> Iterator[Edge]:
    """EDGE records as Edge tuples (plain ints and floats)."""
    for a, b, band, jaccard, a_nbytes, a_set, b_nbytes, b_set in edges.tolist():
        yield Edge(Member(a, a_nbytes, set_names[a_set]), Member(b, b_nbytes, set_names[b_set]),
                   band, jaccard)


def edge_records(edges: Sequence[Edge], set_index: dict[str, int]) -> np.ndarray:
    """Edge tuples as EDGE records."""
    return np.array(
        [(e.anchor.doc_key, e.other.doc_key, e.band, e.jaccard, e.anchor.nbytes,
          set_index[e.anchor.set_name], e.other.nbytes, set_index[e.other.set_name]) for e in edges],
        dtype=EDGE,
    )


def keeper_rank(
    keep: str, source_priority: Sequence[str], nbytes: np.ndarray, set_index: np.ndarray,
    set_names: Sequence[str],
) -> np.ndarray:
    """The first component of `core.keep.keep_policy(keep)` for each member, as int64 (the
    second, the document key, breaks ties): 0 for 'first', -bytes for 'longest', the rank of the
    set name in `source_priority` (unknown names last) for 'source-priority'."""
    if keep == "first":
        return np.zeros(len(nbytes), dtype=np.int64)
    if keep == "longest":
        return -np.asarray(nbytes, dtype=np.int64)
    if keep == "source-priority":
        rank = {name: i for i, name in enumerate(source_priority)}
        by_index = np.array([rank.get(name, len(rank)) for name in set_names], dtype=np.int64)
        return by_index[set_index]
    raise ValueError(f"unknown keep policy {keep!r}")


def removed_of_edges(
    edges: np.ndarray, keep: str, source_priority: Sequence[str], set_names: Sequence[str]
) -> np.ndarray:
    """REMOVED records of every non-kept member of every cluster of `edges` (unique (a, b)
    pairs), sorted by document key.

    One worker, int arrays only: document keys become dense int32 indices (sorted, so index order
    is key order), clusters come from the vectorized union-find, keepers from one lexsort over
    (root, keeper rank, index), first matches from np.minimum.at over (band, partner) codes.
    Besides the 44-byte edge records this holds about 100 bytes per document (measured).
    """
    if len(edges) == 0:
        return np.empty(0, dtype=REMOVED)
    nodes = np.unique(np.concatenate([edges["a"], edges["b"]]))
    count = len(nodes)
    index = np.int32 if count < 2**31 else np.int64
    a = np.searchsorted(nodes, edges["a"]).astype(index)
    b = np.searchsorted(nodes, edges["b"]).astype(index)
    roots = component_roots(a, b, count)
    nbytes = np.empty(count, dtype=np.int64)
    set_index = np.empty(count, dtype=np.uint8)
    nbytes[a], set_index[a] = edges["a_nbytes"], edges["a_set"]
    nbytes[b], set_index[b] = edges["b_nbytes"], edges["b_set"]
    order = np.lexsort((keeper_rank(keep, source_priority, nbytes, set_index, set_names), roots))
    by_root = roots[order]
    first = order[np.r_[True, by_root[1:] != by_root[:-1]]]  # the keeper of each root
    del order, by_root
    kept = np.empty(count, dtype=index)
    kept[roots[first]] = first
    kept = kept[roots]
    # first match of each document: the smallest (band, partner) code over its edges both ways
    match = np.full(count, np.iinfo(np.int64).max, dtype=np.int64)
    match_jaccard = np.empty(count, dtype=np.float64)
    band = edges["band"].astype(np.int64) * count
    for node, partner in ((a, b), (b, a)):
        np.minimum.at(match, node, band + partner)
    for node, partner in ((a, b), (b, a)):
        chosen = match[node] == band + partner  # (node, partner) pairs are unique: one per node
        match_jaccard[node[chosen]] = edges["jaccard"][chosen]
    del band
    gone = np.flatnonzero(kept != np.arange(count, dtype=index))
    removed = np.empty(len(gone), dtype=REMOVED)
    removed["doc_key"], removed["set_index"], removed["nbytes"] = nodes[gone], set_index[gone], nbytes[gone]
    removed["cluster_key"], removed["kept_key"] = nodes[roots[gone]], nodes[kept[gone]]
    removed["band"], removed["matched_key"] = match[gone] // count, nodes[match[gone] % count]
    removed["jaccard"] = match_jaccard[gone]
    return removed


def removed_records(removed: Iterable[Removed], set_index: dict[str, int]) -> np.ndarray:
    """Removed tuples as REMOVED records, sorted by document key."""
    records = np.array(
        [(r.doc_key, set_index[r.set_name], r.nbytes, r.cluster_key, r.kept_key, r.band,
          r.matched_key, r.jaccard) for r in removed],
        dtype=REMOVED,
    )
    return records[np.argsort(records["doc_key"], kind="stable")]
