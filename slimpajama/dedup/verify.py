"""Candidate verification: two documents that share an LSH bucket are joined only through pairs whose
exact Jaccard similarity of shingle sets (the same shingles MinHash saw) reaches the threshold.
Pure functions; the Beam stage only brings every bucket anchored at one document (its smallest
member) together with the key texts of their members.

What is guaranteed (`verify_buckets`). Call G the graph of all pairs (u, v) that share a bucket and
have exact J(u, v) ≥ threshold. Every edge we emit is a compared pair of G, and every pair of G
is either compared (then joined by an edge) or already connected by emitted edges when it would be
compared. So the clusters are exactly the connected components of G: any two members of a bucket
with J ≥ threshold end in one cluster, and a document is removed only through a chain of verified
pairs (joined-through-chain semantics, as for unverified LSH; every removed document has at least
one partner at J ≥ threshold). This holds for every bucket that is not capped (see below).

How (`_AnchorGroup.resolve`). A bucket's members are inserted one by one in document-key order;
the first pass is the classic star (the smallest member against every other). Each later member p
is then checked against every component formed by the members inserted before it that p is not
yet connected to: its members are compared with p until one reaches the threshold (the component's
best-connected member first, a "hub", then the others), so p ends connected to each such
component or compared with all its members. Why no pair of G is lost: take (u, v) in G with u
inserted first; when v is inserted, either u's component already holds v, or v is compared with
the members of u's component until one accepts; if none before u does, v is compared with u itself
and accepted. Connectivity only grows, so u and v end connected. Pairs already compared in the group are never compared
again (buckets of the same anchor in different bands overlap heavily), and a pair whose set sizes
bound J below the threshold (J ≤ min/max) is rejected without merging the sets. A bucket whose
members are all near-duplicates of the anchor costs the n − 1 comparisons of the star and nothing
more; a hub late in id order costs about the pairs among the members before it, then one
comparison per member.

Cost bound. Beyond the star, one bucket of n members costs at most `max_extra_rounds` × (n − 1)
further comparisons (as many star rounds); all pairs fit for n ≤ 2 × max_extra_rounds + 2. A
bucket that reaches the bound stops there and is counted in `capped_buckets`; its pairs that were
neither compared nor connected are counted in `unresolved_pairs` (these, and only these, can be
lost: pairs at J ≥ threshold among them may end in different clusters).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

import numpy as np

from slimpajama.core.jaccard import jaccard, shingle_hash_sets
from slimpajama.core.keep import Member
from slimpajama.core.union_find import UnionFind
from slimpajama.dedup.edges import Edge

MAX_EXTRA_ROUNDS = 32
"""Comparisons a bucket of n members may spend beyond its star, in units of n − 1 (star rounds)."""


class VerifyCounts(NamedTuple):
    """Work and outcome of verification, summed over anchor groups (a pair that shares buckets of
    several anchors counts once under each).

    buckets: distinct buckets verified (identical member sets in several bands count once);
    star_pairs: distinct (anchor, member) pairs, the work of star-only verification (every bucket
    of a group has the same anchor, so: the group's documents − 1);
    candidates: pairs compared; size_bounded: those of them rejected by the size bound alone
    (J ≤ min/max of the two set sizes < threshold), without merging the sets; verified: those at
    ≥ threshold;
    edges: verified pairs that joined two components (the edges kept);
    capped_buckets, unresolved_pairs: buckets that hit the cost bound, and their pairs left
    neither compared nor connected."""

    buckets: int = 0
    star_pairs: int = 0
    candidates: int = 0
    size_bounded: int = 0
    verified: int = 0
    edges: int = 0
    capped_buckets: int = 0
    unresolved_pairs: int = 0


def sum_counts(counts: Iterable[Sequence[int]]) -> VerifyCounts:
    """Field-wise sum (a combiner: associative, order-free)."""
    totals = [0] * len(VerifyCounts._fields)
    for row in counts:
        for i, value in enumerate(row):
            totals[i] += value
    return VerifyCounts(*totals)


class _AnchorGroup:
    """Verification state of the buckets of one anchor: shingle sets, a union-find over the
    group's documents, every comparison made (pair -> Jaccard) and the edges kept."""

    def __init__(self, sets: Mapping[int, np.ndarray], threshold: float, max_extra_rounds: int):
        self.sets, self.threshold, self.max_extra_rounds = sets, threshold, max_extra_rounds
        self.union_find = UnionFind()
        self.compared: dict[tuple[int, int], float] = {}  # J, or its bound when below threshold
        self.accepted: dict[int, int] = {}  # doc -> verified comparisons it took part in
        self.edges: list[Edge] = []
        self.size_bounded = self.capped_buckets = self.unresolved_pairs = 0

    @staticmethod
    def _pair(u: Member, v: Member) -> tuple[int, int]:
        return (u.doc_key, v.doc_key) if u.doc_key < v.doc_key else (v.doc_key, u.doc_key)

    def _similarity(self, u: int, v: int) -> float:
        """J(u, v), or the upper bound min/max of the set sizes when that is below the threshold
        (then J < threshold for certain and the sets need no merge)."""
        small, large = sorted((self.sets[u].size, self.sets[v].size))
        if small < self.threshold * large * (1.0 - 1e-12):
            self.size_bounded += 1
            return small / large
        return jaccard(self.sets[u], self.sets[v])

    def _joined(self, u: Member, v: Member, band: int) -> bool:
        """Compare u and v (once per group); join them when J ≥ threshold."""
        pair = self._pair(u, v)
        similarity = self.compared.get(pair)
        if similarity is None:
            similarity = self.compared[pair] = self._similarity(*pair)
            if similarity >= self.threshold:
                for key in pair:
                    self.accepted[key] = self.accepted.get(key, 0) + 1
        if similarity < self.threshold:
            return False
        if self.union_find.find(pair[0]) != self.union_find.find(pair[1]):
            self.union_find.union(*pair)
            low, high = (u, v) if u.doc_key < v.doc_key else (v, u)
            self.edges.append(Edge(low, high, band, similarity))
        return True

    def resolve(self, band: int, members: Sequence[Member]) -> None:
        """Leave every pair of this bucket (members sorted by key) compared or connected."""
        find = self.union_find.find
        anchor = members[0]
        for member in members[1:]:  # the star
            if find(member.doc_key) != find(anchor.doc_key):
                self._joined(anchor, member, band)
        budget = len(self.compared) + self.max_extra_rounds * (len(members) - 1)
        inserted: dict[int, list[Member]] = {find(anchor.doc_key): [anchor]}  # root -> members
        for member in members[1:]:
            joined = []  # roots of the inserted components that end connected to member
            for root, component in list(inserted.items()):
                if find(root) == find(member.doc_key):
                    joined.append(root)
                    continue
                hub = max(component, key=lambda m: (self.accepted.get(m.doc_key, 0), -m.doc_key))
                for other in [hub, *(m for m in component if m is not hub)]:
                    if self._pair(member, other) not in self.compared and len(self.compared) >= budget:
                        self._cap(members)
                        return
                    if self._joined(member, other, band):
                        joined.append(root)
                        break
            parts = sorted([[member], *(inserted.pop(root) for root in joined)], key=len, reverse=True)
            for part in parts[1:]:  # the smaller lists join the largest: no quadratic copying
                parts[0].extend(part)
            inserted[find(member.doc_key)] = parts[0]

    def _cap(self, members: Sequence[Member]) -> None:
        """Count a bucket whose budget ran out, and its pairs left neither compared nor
        connected."""
        self.capped_buckets += 1
        find = self.union_find.find
        keys = {m.doc_key for m in members}
        per_root: dict[int, int] = {}
        for key in keys:
            per_root[find(key)] = per_root.get(find(key), 0) + 1
        apart = len(keys) * (len(keys) - 1) // 2 - sum(n * (n - 1) // 2 for n in per_root.values())
        compared_apart = sum(
            1 for u, v in self.compared if u in keys and v in keys and find(u) != find(v)
        )
        self.unresolved_pairs += apart - compared_apart


def verify_buckets(
    buckets: Iterable[tuple[int, Sequence[Member]]],
    key_texts: Mapping[int, str],
    threshold: float,
    ngram: int,
    shingle: str,
    max_extra_rounds: int = MAX_EXTRA_ROUNDS,
) -> tuple[list[Edge], VerifyCounts]:
    """Verified edges (sorted, `jaccard` filled in) of the buckets of one anchor, and the counts.

    `buckets` are (band, members) with the members sorted by document key and the anchor first;
    `key_texts` maps each member's document key to its key text. Buckets are resolved in (band,
    members) order, so an edge carries the smallest band in which its pair was first compared.
    See the module docstring for what is guaranteed."""
    smallest_band: dict[tuple[Member, ...], int] = {}
    for band, members in buckets:
        members = tuple(members)
        smallest_band[members] = min(band, smallest_band.get(members, band))
    keys = sorted({m.doc_key for members in smallest_band for m in members})
    sets = dict(zip(keys, shingle_hash_sets([key_texts[k] for k in keys], ngram, shingle),
                    strict=True))
    group = _AnchorGroup(sets, threshold, max_extra_rounds)
    for members, band in sorted(smallest_band.items(), key=lambda item: (item[1], item[0])):
        group.resolve(band, members)
    verified = sum(j >= threshold for j in group.compared.values())
    counts = VerifyCounts(
        buckets=len(smallest_band), star_pairs=len(keys) - 1, candidates=len(group.compared),
        size_bounded=group.size_bounded,
        verified=verified, edges=len(group.edges), capped_buckets=group.capped_buckets,
        unresolved_pairs=group.unresolved_pairs,
    )
    return sorted(group.edges), counts
