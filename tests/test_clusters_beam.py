"""DistributedClusters (Beam) gives exactly the union-find result, or fails; never a wrong one."""

import random

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.util import assert_that, equal_to

from slimpajama.core.keep import Member, keep_policy
from slimpajama.dedup.distributed_clusters import DistributedClusters
from slimpajama.dedup.edges import Edge, resolve_clusters

pytestmark = pytest.mark.beam
SETS = ["RedPajamaC4", "RedPajamaWikipedia", "RedPajamaCommonCrawl"]


def member(key: int) -> Member:
    return Member(key, 100 + key % 7 * 50, SETS[key % 3])


def random_edges(seed: int) -> list[Edge]:
    rng = random.Random(seed)
    nodes = rng.sample(range(1, 1 << 40), 300)
    edges = []
    for _ in range(350):
        a, b = sorted(rng.sample(nodes, 2))
        edges.append(Edge(member(a), member(b), rng.randrange(9), rng.choice([-1.0, 0.85, 0.9])))
    return edges


def run(edges, policy_name, rounds):
    policy = keep_policy(policy_name)
    with beam.Pipeline(options=PipelineOptions(["--runner=FnApiRunner"])) as p:
        removed = p | beam.Create(edges) | DistributedClusters(policy, rounds)
        assert_that(removed, equal_to(resolve_clusters(edges, policy)))


@pytest.mark.parametrize("policy_name", ["first", "longest", "source-priority"])
def test_equals_union_find(policy_name):
    run(random_edges(3), policy_name, rounds=8)


def test_too_few_rounds_fail_the_run():
    path = [Edge(member(i), member(i + 1), 0) for i in range(1, 120)]
    with pytest.raises(Exception, match="did not converge in 1 rounds"):
        run(path, "first", rounds=1)
