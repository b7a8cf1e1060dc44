"""Candidate verification: keep an LSH candidate edge only if the exact Jaccard similarity of the
two documents' shingle sets (the same shingles MinHash saw) reaches the threshold. Pure functions;
the Beam stage only brings each star's anchor text and its partners' texts together.
"""

from __future__ import annotations

from collections.abc import Iterable

from slimpajama.core.jaccard import jaccard, shingle_hash_sets, shingle_hashes
from slimpajama.dedup.edges import Edge


def verify_star(
    anchor_key_text: str,
    partners: Iterable[tuple[Edge, str]],
    threshold: float,
    ngram: int,
    shingle: str,
) -> tuple[list[Edge], int]:
    """Edges of one anchor whose exact Jaccard ≥ threshold (with `jaccard` filled in), and the
    number rejected. `partners` pairs each edge with its other document's key text."""
    partners = sorted(partners)
    anchor = shingle_hashes(anchor_key_text, ngram, shingle)
    others = shingle_hash_sets([text for _, text in partners], ngram, shingle)
    verified = []
    for (edge, _), other in zip(partners, others, strict=True):
        similarity = jaccard(anchor, other)
        if similarity >= threshold:
            verified.append(edge._replace(jaccard=similarity))
    return verified, len(partners) - len(verified)
