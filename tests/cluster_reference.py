"""Plain-Python references the array and Beam cluster paths are tested against: star edges of a
bucket, one edge per pair, clusters and keepers by a dict union-find, cluster sizes."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence

import numpy as np

from slimpajama.core.keep import Member, choose_keeper
from slimpajama.core.union_find import components, connected_components
from slimpajama.dedup.edges import Edge, Removed


def bucket_edges(band: int, members: Iterable[Member]) -> list[Edge]:
    """The star edges of one bucket (no edges for a bucket of one document)."""
    ordered = sorted(set(members))
    return [Edge(ordered[0], other, band) for other in ordered[1:]]

def unique_pair(edges: Iterable[Edge]) -> Edge:
    """The one edge kept for a document pair found in several bands: the smallest band."""
    return min(edges, key=lambda e: e.band)

def resolve_clusters(edges: Iterable[Edge], policy: Callable[[Member], tuple]) -> list[Removed]:
    """Every non-kept member of every cluster, sorted by document key (the plain-Python
    reference the array paths are tested against)."""
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


def removed_objects(records: np.ndarray, set_names: Sequence[str]) -> Iterator[Removed]:
    """REMOVED records as Removed tuples (plain ints and floats)."""
    for key, s, size, root, keeper, band, matched, jaccard in records.tolist():
        yield Removed(key, set_names[s], size, root, keeper, band, matched, jaccard)
