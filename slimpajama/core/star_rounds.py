"""Distributed connected components: the large-star / small-star steps of Kiveris et al. (2014),
"Connected Components in MapReduce and Beyond", as pure per-node functions.

Each step sees one node u and its neighbour set Γ(u) and emits undirected edges (a, b), a < b.
Both steps keep every component's node set; alternating them turns each component into a star
centred on its smallest node. `star_root` decides, from one node's neighbourhood alone, whether the
graph has settled there: in a star forest centred on minima, a node with a smaller neighbour has
exactly one neighbour (its root). If every node passes, the graph is such a forest.
"""

from __future__ import annotations

from collections.abc import Iterable

Pair = tuple[int, int]


def undirected(edge: Pair) -> list[Pair]:
    """Both directions of an edge, for grouping by either endpoint."""
    a, b = edge
    return [(a, b), (b, a)]


def large_star(node: int, neighbours: Iterable[int]) -> list[Pair]:
    """Connect every strictly larger neighbour of `node` to the minimum of Γ(node) ∪ {node}."""
    around = set(neighbours)
    low = min(around | {node})
    return [(low, v) for v in sorted(around) if v > node]


def small_star(node: int, neighbours: Iterable[int]) -> list[Pair]:
    """Connect `node` and its smaller neighbours to the minimum of them."""
    group = {v for v in neighbours if v < node} | {node}
    low = min(group)
    return [(low, v) for v in sorted(group) if v != low]


def star_root(node: int, neighbours: Iterable[int]) -> int | None:
    """The node's component minimum if the graph is settled around it, else None."""
    around = set(neighbours)
    low = min(around)
    if low > node:
        return node  # a centre: all neighbours are larger
    return low if len(around) == 1 else None


def run_rounds(edges: Iterable[Pair], rounds: int) -> tuple[dict[int, int], int]:
    """Reference driver (no Beam): `rounds` large+small star rounds, then (node -> root, number of
    unsettled nodes)."""
    current = {tuple(sorted(e)) for e in edges if e[0] != e[1]}
    for _ in range(rounds):
        for step in (large_star, small_star):
            current = {pair for node, around in _adjacency(current).items() for pair in step(node, around)}
    roots: dict[int, int] = {}
    unsettled = 0
    for node, around in _adjacency(current).items():
        root = star_root(node, around)
        if root is None:
            unsettled += 1
        else:
            roots[node] = root
    return roots, unsettled


def _adjacency(edges: Iterable[Pair]) -> dict[int, set[int]]:
    around: dict[int, set[int]] = {}
    for a, b in edges:
        around.setdefault(a, set()).add(b)
        around.setdefault(b, set()).add(a)
    return around
