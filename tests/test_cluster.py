"""Union-find clusters equal a plain BFS over the same edges, whatever the edge order."""

import random
from collections import defaultdict, deque

from slimpajama.core.union_find import UnionFind, components, connected_components


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
