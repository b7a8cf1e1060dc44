"""Clusters without a single-worker step: `DistributedClusters` turns candidate edges into removed
documents with alternating large-star / small-star rounds (slimpajama.core.star_rounds) and a keeper
choice per component, all keyed by node or root. Same `Removed` records as the union-find path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import apache_beam as beam

from slimpajama.core.keep import Member, choose_keeper
from slimpajama.core.star_rounds import large_star, small_star, star_root, undirected
from slimpajama.dedup.edges import Edge, Removed


class ComponentsNotConverged(RuntimeError):
    """The star rounds did not settle every component; no output may be written."""


def _step(step: Callable[[int, Any], list[tuple[int, int]]]) -> Callable[[tuple[int, Any]], list]:
    return lambda item: step(item[0], item[1])


def endpoint_facts(edge: Edge) -> Iterator[tuple[int, tuple[Member, tuple[int, int, float]]]]:
    """For both endpoints: (doc key, (member, (band, partner key, jaccard)))."""
    yield edge.anchor.doc_key, (edge.anchor, (edge.band, edge.other.doc_key, edge.jaccard))
    yield edge.other.doc_key, (edge.other, (edge.band, edge.anchor.doc_key, edge.jaccard))


def node_summary(item: tuple[int, dict[str, list]], rounds: int) -> tuple[int, tuple[Member, tuple]]:
    """(root, (member, first match)): the first match is the smallest (band, partner, jaccard).
    Raises ComponentsNotConverged for a node the star rounds left unsettled."""
    node, joined = item
    (root,) = joined["root"]
    if root is None:
        raise ComponentsNotConverged(
            f"connected components did not converge in {rounds} rounds (document key {node} is "
            f"unsettled); rerun with --component-rounds {2 * rounds}"
        )
    facts = joined["facts"]
    return root, (facts[0][0], min(match for _, match in facts))


def removed_of_component(
    item: tuple[int, Any], policy: Callable[[Member], tuple]
) -> list[Removed]:
    """Every non-kept member of one component (root = its smallest document key)."""
    root, summaries = item
    summaries = sorted(summaries)
    kept = choose_keeper([member for member, _ in summaries], policy)
    return [
        Removed(m.doc_key, m.set_name, m.nbytes, root, kept.doc_key, *match)
        for m, match in summaries
        if m.doc_key != kept.doc_key
    ]


class DistributedClusters(beam.PTransform):
    """Edges -> removed documents. The run fails (ComponentsNotConverged) rather than emit a
    wrong result when `rounds` star rounds do not settle every component."""

    def __init__(self, policy: Callable[[Member], tuple], rounds: int) -> None:
        super().__init__()
        self._policy, self._rounds = policy, rounds

    def expand(self, edges: beam.PCollection) -> beam.PCollection:
        pairs = edges | "Pairs" >> beam.Map(lambda e: (e.anchor.doc_key, e.other.doc_key))
        for r in range(self._rounds):
            for name, step in (("large", large_star), ("small", small_star)):
                pairs = (
                    pairs
                    | f"Round {r} {name}: both ways" >> beam.FlatMap(undirected)
                    | f"Round {r} {name}: neighbours" >> beam.GroupByKey()
                    | f"Round {r} {name}: star" >> beam.FlatMap(_step(step))
                    | f"Round {r} {name}: distinct" >> beam.Distinct()
                )
        roots = (
            pairs
            | "Final: both ways" >> beam.FlatMap(undirected)
            | "Final: neighbours" >> beam.GroupByKey()
            | "Final: root" >> beam.Map(lambda item: (item[0], star_root(item[0], item[1])))
        )
        return (
            {"root": roots, "facts": edges | "Endpoint facts" >> beam.FlatMap(endpoint_facts)}
            | "Join roots and facts" >> beam.CoGroupByKey()
            | "Node summaries" >> beam.Map(node_summary, self._rounds)
            | "Group by root" >> beam.GroupByKey()
            | "Keep one per component" >> beam.FlatMap(removed_of_component, self._policy)
        )
