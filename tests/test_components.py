"""Large-star / small-star components equal union-find; settledness is detected exactly."""

import random

from slimpajama.core.star_rounds import large_star, run_rounds, small_star, star_root
from slimpajama.core.union_find import connected_components


def test_steps_on_a_small_neighbourhood():
    assert large_star(5, [2, 7, 9]) == [(2, 7), (2, 9)]
    assert large_star(1, [4, 3]) == [(1, 3), (1, 4)]
    assert small_star(5, [2, 7, 3]) == [(2, 3), (2, 5)]
    assert small_star(2, [7, 9]) == []
    assert star_root(2, [7, 9]) == 2 and star_root(7, [2]) == 2 and star_root(7, [2, 3]) is None


def test_rounds_converge_to_union_find_on_random_graphs():
    rng = random.Random(11)
    for _ in range(40):
        nodes = rng.sample(range(1 << 40), rng.randint(2, 400))
        edges = [tuple(rng.sample(nodes, 2)) for _ in range(rng.randint(1, 500))]
        roots, unsettled = run_rounds(edges, rounds=12)
        assert unsettled == 0
        assert roots == connected_components(edges)


def test_a_long_path_is_unsettled_after_one_round_and_settled_after_enough():
    path = [(i, i + 1) for i in range(200)]
    _, unsettled = run_rounds(path, rounds=1)
    assert unsettled > 0
    roots, unsettled = run_rounds(path, rounds=12)
    assert unsettled == 0 and set(roots.values()) == {0} and len(roots) == 201
