import pytest
from cluster_reference import bucket_edges, cluster_sizes, resolve_clusters, unique_pair

from slimpajama.core.keep import Member, choose_keeper, keep_policy
from slimpajama.dedup.edges import Edge, Removed

A = Member(10, 500, "RedPajamaCommonCrawl")
B = Member(20, 900, "RedPajamaWikipedia")
C = Member(30, 900, "RedPajamaC4")


def test_policies_choose_exact_members():
    assert choose_keeper([B, C, A], keep_policy("first")) == A
    assert choose_keeper([A, C, B], keep_policy("longest")) == B  # tie on bytes -> smaller key
    assert choose_keeper([A, B, C], keep_policy("source-priority")) == B
    custom = keep_policy("source-priority", ["RedPajamaC4", "RedPajamaCommonCrawl"])
    assert choose_keeper([A, B, C], custom) == C


def test_unknown_policy_or_set_name_is_refused():
    with pytest.raises(ValueError):
        keep_policy("random")
    with pytest.raises(ValueError):
        keep_policy("source-priority", ["Wikipedia"])


def test_unique_pair_keeps_the_smallest_band():
    assert unique_pair([Edge(A, B, 4, 0.9), Edge(A, B, 2, 0.9), Edge(A, B, 7, 0.9)]) == Edge(A, B, 2, 0.9)


def test_bucket_edges_are_a_star_from_the_smallest_key():
    assert bucket_edges(3, [C, A, B, A]) == [Edge(A, B, 3), Edge(A, C, 3)]
    assert bucket_edges(0, [B]) == []


def test_resolve_clusters_removes_all_but_the_keeper():
    d = Member(40, 10, "RedPajamaC4")
    edges = [Edge(B, C, 5), Edge(A, B, 2), Edge(C, d, 7), Edge(B, C, 1)]
    assert resolve_clusters(edges, keep_policy("first")) == [
        Removed(20, "RedPajamaWikipedia", 900, 10, 10, 1, 30, -1.0),
        Removed(30, "RedPajamaC4", 900, 10, 10, 1, 20, -1.0),
        Removed(40, "RedPajamaC4", 10, 10, 10, 7, 30, -1.0),
    ]
    removed = resolve_clusters(reversed(edges), keep_policy("longest"))
    assert [r.doc_key for r in removed] == [10, 30, 40]
    assert {r.kept_key for r in removed} == {20}
    assert cluster_sizes(removed) == {4: 1}
