"""Union-find clusters equal a plain BFS over the same edges, whatever the edge order."""

import random
from collections import defaultdict, deque

import numpy as np

from slimpajama.core.union_find import UnionFind, component_roots, components, connected_components


def bfs_components(edges):
    graph = defaultdict(set)
    for a, b in edges:
        graph[a].add(b)
        graph[b].add(a)
    result, seen = {}, set()
    for start in sorted(graph):
        if start in seen:
            continue
        queue, members = deque([start]), []
        seen.add(start)
        while queue:
            node = queue.popleft()
            members.append(node)
            for nxt in graph[node]:
                if nxt not in seen:
                    seen.add(nxt)
                    queue.append(nxt)
        for m in members:
            result[m] = min(members)
    return result


def test_matches_bfs_on_random_graphs():
    rng = random.Random(7)
    for _ in range(30):
        nodes = rng.sample(range(1 << 40), rng.randint(2, 300))
        edges = [tuple(rng.sample(nodes, 2)) for _ in range(rng.randint(1, 400))]
        expected = bfs_components(edges)
        assert connected_components(edges) == expected
        rng.shuffle(edges)
        assert connected_components([(b, a) for a, b in edges]) == expected


def test_root_is_smallest_and_components_sorted():
    roots = connected_components([(9, 4), (4, 7), (100, 3), (50, 51)])
    assert roots == {9: 4, 4: 4, 7: 4, 100: 3, 3: 3, 50: 50, 51: 50}
    assert components(roots) == {4: [4, 7, 9], 3: [3, 100], 50: [50, 51]}


def test_find_unknown_node_is_itself():
    sets = UnionFind()
    assert sets.find(42) == 42
    sets.union(5, 5)
    assert sets.roots() == {}


def test_array_components_match_bfs_whatever_the_edge_order():
    rng = random.Random(11)
    for _ in range(30):
        n = rng.randint(2, 300)
        edges = [tuple(rng.sample(range(n), 2)) for _ in range(rng.randint(1, 400))]
        expected = bfs_components(edges)
        for ordered in (edges, list(reversed([(b, a) for a, b in edges]))):
            a, b = np.array(ordered).T
            roots = component_roots(a, b, n)
            assert {node: int(roots[node]) for node in expected} == expected
            assert all(roots[i] == i for i in range(n) if i not in expected)  # isolated


def test_array_components_of_a_long_path_and_an_empty_graph():
    n = 10_000
    order = np.random.default_rng(0).permutation(n)  # a path visiting the nodes in random order
    roots = component_roots(order[:-1], order[1:], n)
    assert (roots == 0).all()
    assert component_roots(np.array([], np.int64), np.array([], np.int64), 3).tolist() == [0, 1, 2]
