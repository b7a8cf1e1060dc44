"""The array paths (bucket sort, one edge per pair, array union-find) and DistributedClusters (Beam)
give exactly the plain-Python reference result, or fail; never a wrong one."""

import random

import apache_beam as beam
import numpy as np
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.util import assert_that, equal_to
from cluster_reference import bucket_edges, removed_objects, resolve_clusters, unique_pair

from slimpajama.core.keep import KEEP_POLICIES, Member, keep_policy
from slimpajama.dedup.distributed_clusters import DistributedClusters
from slimpajama.dedup.edges import (
    BAND_ENTRY,
    REMOVED,
    Edge,
    band_entries,
    band_partition,
    edge_objects,
    edge_records,
    removed_of_edges,
    removed_records,
    split_by_partition,
    star_edges,
    unique_pairs,
)
from slimpajama.dedup.scan import SET_INDEX, SET_NAME_LIST

SETS = ["RedPajamaC4", "RedPajamaWikipedia", "RedPajamaCommonCrawl"]


def member(key: int) -> Member:
    return Member(key, 100 + key % 7 * 50, SETS[key % 3])


def random_edges(seed: int) -> list[Edge]:
    rng = random.Random(seed)
    nodes = rng.sample(range(1, 1 << 40), 300)
    edges = {}
    for _ in range(350):
        a, b = sorted(rng.sample(nodes, 2))
        edges[a, b] = Edge(member(a), member(b), rng.randrange(9), rng.choice([-1.0, 0.85, 0.9]))
    return list(edges.values())  # one edge per pair, as the pipeline gives them


def run(edges, policy_name, rounds):
    policy = keep_policy(policy_name)
    with beam.Pipeline(options=PipelineOptions(["--runner=FnApiRunner"])) as p:
        removed = p | beam.Create(edges) | DistributedClusters(policy, rounds)
        assert_that(removed, equal_to(resolve_clusters(edges, policy)))


@pytest.mark.beam
@pytest.mark.parametrize("policy_name", ["first", "longest", "source-priority"])
def test_equals_union_find(policy_name):
    run(random_edges(3), policy_name, rounds=8)


@pytest.mark.beam
def test_too_few_rounds_fail_the_run():
    path = [Edge(member(i), member(i + 1), 0) for i in range(1, 120)]
    with pytest.raises(Exception, match="did not converge in 1 rounds"):
        run(path, "first", rounds=1)


@pytest.mark.parametrize("policy_name", KEEP_POLICIES)
@pytest.mark.parametrize("seed", [3, 4, 5])
def test_array_union_find_equals_the_reference(policy_name, seed):
    edges = random_edges(seed)
    priority = ("RedPajamaCommonCrawl", "RedPajamaC4")  # Wikipedia unknown: ranked last
    policy = keep_policy(policy_name, priority)
    expected = resolve_clusters(edges, policy)
    records = edge_records(edges[::-1], SET_INDEX)
    got = removed_of_edges(records, policy_name, priority, SET_NAME_LIST)
    assert got.dtype == REMOVED and got.itemsize == 51
    assert list(removed_objects(got, SET_NAME_LIST)) == expected and len(expected) > 100
    assert np.array_equal(got, removed_records(reversed(expected), SET_INDEX))  # sorted by key
    assert len(removed_of_edges(records[:0], policy_name, priority, SET_NAME_LIST)) == 0


def reference_edges(docs, bands: int, local: bool) -> list[Edge]:
    """The former per-object path: bucket (set?, band, key) -> star edges -> smallest band per pair."""
    buckets = {}
    for key, set_index, nbytes, doc_bands in docs:
        for band, band_key in enumerate(doc_bands):
            bucket = (set_index, band, band_key) if local else (band, band_key)
            buckets.setdefault(bucket, []).append(Member(key, nbytes, SET_NAME_LIST[set_index]))
    pairs = {}
    for bucket, members in buckets.items():
        for edge in bucket_edges(bucket[-2], members):
            pairs.setdefault((edge.anchor.doc_key, edge.other.doc_key), []).append(edge)
    return sorted(unique_pair(found) for found in pairs.values())


@pytest.mark.parametrize("local", [False, True])
def test_bucket_sort_gives_the_edges_of_the_per_object_path(local):
    rng = np.random.default_rng(7)
    n, bands = 400, 5
    keys = rng.integers(0, 6, size=(n, bands), dtype=np.uint64)  # few values: big, shared buckets
    keys[:, 2] = keys[:, 1]  # equal values in different bands must not join two documents
    keys[::7] |= np.uint64(1) << np.uint64(63)  # other band partitions
    doc_keys = np.sort(rng.choice(1 << 40, size=n, replace=False)).astype(np.uint64)
    set_index = rng.integers(0, 3, size=n).astype(np.uint8)
    nbytes = rng.integers(200, 5000, size=n)
    entries = band_entries(doc_keys, set_index, nbytes, keys, local)
    assert entries.dtype == BAND_ENTRY and entries.itemsize == 28
    # edges found per band partition, then one edge per pair, like the pipeline
    blocks = [star_edges(part) for _, part in split_by_partition(entries, band_partition(entries))]
    assert len(blocks) == 2
    got = list(edge_objects(unique_pairs(np.concatenate(blocks)), SET_NAME_LIST))
    docs = list(zip(doc_keys.tolist(), set_index.tolist(), nbytes.tolist(), keys.tolist(), strict=True))
    assert got == reference_edges(docs, bands, local) and len(got) > n
    shuffled = entries[rng.permutation(len(entries))]
    assert np.array_equal(unique_pairs(star_edges(shuffled)), unique_pairs(np.concatenate(blocks)))


def test_gathered_edge_records_hold_every_edge_whatever_the_accumulator_split():
    from slimpajama.dedup.pipeline import GatherEdges

    edges = random_edges(6)
    blocks = [edge_records(edges[start:start + 23], SET_INDEX).tobytes() for start in range(0, len(edges), 23)]
    gather = GatherEdges()
    accs = []
    for start in range(0, len(blocks), 4):
        acc = gather.create_accumulator()
        for block in blocks[start:start + 4]:
            acc = gather.add_input(acc, block)
        accs.append(acc)
    merged = gather.merge_accumulators([gather.merge_accumulators(accs[:2]), *accs[2:]])
    got = gather.extract_output(merged)
    assert list(edge_objects(got, SET_NAME_LIST)) == edges  # every edge once, in input order
    assert len(gather.extract_output(gather.create_accumulator())) == 0
