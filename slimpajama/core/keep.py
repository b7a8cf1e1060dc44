"""Which document of a duplicate cluster is kept (`--keep`); every policy is a total order.

A policy maps a member to a sort key; the member with the smallest key is kept. Ties always fall
back to the smallest document key (= smallest (relpath, line)), so the choice is deterministic.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

from slimpajama.core.sources import SET_NAMES


class Member(NamedTuple):
    """What the keeper decision may look at: document key, published UTF-8 bytes, set name."""

    doc_key: int
    nbytes: int
    set_name: str


KEEP_POLICIES: tuple[str, ...] = ("first", "longest", "source-priority")

DEFAULT_SOURCE_PRIORITY: tuple[str, ...] = (
    "RedPajamaWikipedia",
    "RedPajamaBook",
    "RedPajamaArXiv",
    "RedPajamaStackExchange",
    "RedPajamaGithub",
    "RedPajamaC4",
    "RedPajamaCommonCrawl",
)
"""Curated sources first, web crawl last: a copy of a Wikipedia article found in C4 keeps the
Wikipedia one."""


def keep_policy(
    name: str, source_priority: Sequence[str] = DEFAULT_SOURCE_PRIORITY
) -> Callable[[Member], tuple]:
    """The sort key of policy `name`: 'first' (smallest key), 'longest' (most bytes) or
    'source-priority' (earliest set name in `source_priority`, unknown names last)."""
    if name == "first":
        return lambda m: (m.doc_key,)
    if name == "longest":
        return lambda m: (-m.nbytes, m.doc_key)
    if name == "source-priority":
        unknown = [s for s in source_priority if s not in SET_NAMES.values()]
        if unknown:
            raise ValueError(f"unknown set names in source priority: {unknown}")
        rank = {set_name: i for i, set_name in enumerate(source_priority)}
        return lambda m: (rank.get(m.set_name, len(rank)), m.doc_key)
    raise ValueError(f"unknown keep policy {name!r}; expected one of {KEEP_POLICIES}")


def choose_keeper(members: Sequence[Member], policy: Callable[[Member], tuple]) -> Member:
    """The member a policy keeps (members must be non-empty)."""
    return min(members, key=policy)
