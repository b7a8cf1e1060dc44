"""Duplicate clusters: connected components of candidate edges, deterministic by construction.

Nodes are int64 document keys. Every component is represented by its smallest node, so the result
depends only on the set of edges, never on their order, the hash seed or the runner.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


class UnionFind:
    """Disjoint sets over int keys; the root of a set is always its smallest member."""

    def __init__(self) -> None:
        self._parent: dict[int, int] = {}

    def find(self, node: int) -> int:
        """Smallest member of `node`'s set (a node never seen is its own set)."""
        parent = self._parent
        root = node
        while parent.get(root, root) != root:
            root = parent[root]
        while node != root:  # path compression
            parent[node], node = root, parent[node]
        return root

    def union(self, a: int, b: int) -> None:
        """Merge the sets of a and b; the smaller root becomes the root of both."""
        root_a, root_b = self.find(a), self.find(b)
        if root_a == root_b:
            return
        low, high = (root_a, root_b) if root_a < root_b else (root_b, root_a)
        self._parent[high] = low
        self._parent.setdefault(low, low)

    def roots(self) -> dict[int, int]:
        """Every node seen in a union -> smallest member of its component."""
        return {node: self.find(node) for node in list(self._parent)}


def connected_components(edges: Iterable[tuple[int, int]]) -> dict[int, int]:
    """Map every node that appears in an edge to the smallest node of its connected component."""
    sets = UnionFind()
    for a, b in edges:
        sets.union(a, b)
    return sets.roots()


def components(node_to_root: dict[int, int]) -> dict[int, list[int]]:
    """Invert `connected_components`: root -> sorted members (the root first)."""
    groups: dict[int, list[int]] = {}
    for node, root in node_to_root.items():
        groups.setdefault(root, []).append(node)
    for members in groups.values():
        members.sort()
    return groups


def component_roots(a: np.ndarray, b: np.ndarray, num_nodes: int) -> np.ndarray:
    """Vectorized connected components over dense node indices 0..num_nodes-1: root[i] is the
    smallest index of i's component (an isolated index is its own root).

    Hook-and-shortcut rounds over int arrays (no Python object per node or edge): every edge whose
    endpoints have different roots hooks the larger root under the smaller one, then pointer
    jumping flattens every tree to depth one. Roots only ever point to smaller indices, so the
    forest has no cycles and each component ends at its minimum. Memory: one index per node plus
    a few index temporaries per edge (int32 when `a` and `b` are int32, else int64).
    """
    a, b = np.asarray(a), np.asarray(b)
    index = np.int32 if a.dtype == np.int32 and b.dtype == np.int32 else np.int64
    parent = np.arange(num_nodes, dtype=index)
    a, b = a.astype(index, copy=False), b.astype(index, copy=False)
    while True:
        root_a, root_b = parent[a], parent[b]
        differ = root_a != root_b
        if not differ.any():
            return parent
        low = np.minimum(root_a[differ], root_b[differ])
        high = np.maximum(root_a[differ], root_b[differ])
        np.minimum.at(parent, high, low)
        while True:  # pointer jumping until every node points at a root
            grand = parent[parent]
            if np.array_equal(grand, parent):
                break
            parent = grand
        a, b = a[differ], b[differ]
