"""From LSH buckets to removed documents: candidate edges, clusters, keepers (pure functions).

A bucket is the set of documents sharing one band key. Each bucket of m ≥ 2 documents yields m − 1
edges, a star from its smallest document key (the reference's "first doc seen", made order-free).
Clusters are the connected components of all edges; each cluster keeps one member by `--keep` and
removes the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import NamedTuple

from slimpajama.core.keep import Member, choose_keeper
from slimpajama.core.union_find import components, connected_components

NOT_VERIFIED = -1.0


class Edge(NamedTuple):
    """A candidate duplicate pair found in band `band`; `anchor.doc_key < other.doc_key`;
    `jaccard` is the verified exact similarity, or NOT_VERIFIED."""

    anchor: Member
    other: Member
    band: int
    jaccard: float = NOT_VERIFIED


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


def bucket_edges(band: int, members: Iterable[Member]) -> list[Edge]:
    """The star edges of one bucket (no edges for a bucket of one document)."""
    ordered = sorted(set(members))
    return [Edge(ordered[0], other, band) for other in ordered[1:]]


def unique_pair(edges: Iterable[Edge]) -> Edge:
    """The one edge kept for a document pair found in several bands: the smallest band."""
    return min(edges, key=lambda e: e.band)


def resolve_clusters(edges: Iterable[Edge], policy: Callable[[Member], tuple]) -> list[Removed]:
    """Every non-kept member of every cluster, sorted by document key."""
    edge_list = list(edges)
    info: dict[int, Member] = {}
    first_match: dict[int, tuple[int, int, float]] = {}  # doc -> (band, partner, jaccard)
    for edge in edge_list:
        for member, partner in ((edge.anchor, edge.other), (edge.other, edge.anchor)):
            info[member.doc_key] = member
            match = (edge.band, partner.doc_key, edge.jaccard)
            if member.doc_key not in first_match or match < first_match[member.doc_key]:
                first_match[member.doc_key] = match
    roots = connected_components((e.anchor.doc_key, e.other.doc_key) for e in edge_list)
    removed = []
    for root, keys in components(roots).items():
        kept = choose_keeper([info[k] for k in keys], policy)
        removed.extend(
            Removed(k, info[k].set_name, info[k].nbytes, root, kept.doc_key, *first_match[k])
            for k in keys
            if k != kept.doc_key
        )
    return sorted(removed)


def cluster_sizes(removed: Sequence[Removed]) -> dict[int, int]:
    """Histogram: cluster size -> number of clusters (size counts the kept member)."""
    per_cluster: dict[int, int] = {}
    for r in removed:
        per_cluster[r.cluster_key] = per_cluster.get(r.cluster_key, 1) + 1
    histogram: dict[int, int] = {}
    for size in per_cluster.values():
        histogram[size] = histogram.get(size, 0) + 1
    return dict(sorted(histogram.items()))
