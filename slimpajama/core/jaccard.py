"""Exact Jaccard similarity of two key texts' shingle sets, for verifying LSH candidates.

A shingle set is represented by the sorted unique 64-bit hashes of its shingles (the `fast`
scheme's shingle hash with a fixed seed; the same shingle definition and short-text rule as the
signatures, see `slimpajama.core.shingles`). A 64-bit collision between two distinct shingles of the
same pair has probability ~ m^2 / 2^64, negligible. Two empty sets have Jaccard 1.0 (the empty
texts are identical).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from slimpajama.core.shingles import hash_pieces, plan_chunks

JACCARD_SEED = 0
"""Seed of the shingle hash used for exact Jaccard (independent of any signature seed)."""


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values (np.unique without its overhead)."""
    values = np.sort(values)
    keep = np.ones(values.size, dtype=bool)
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def shingle_hash_sets(
    key_texts: Sequence[str], ngram: int = 13, shingle: str = "char"
) -> list[np.ndarray]:
    """Sorted unique uint64 shingle hashes of each key text, computed vectorized over the batch."""
    per_text: list[list[np.ndarray]] = [[] for _ in key_texts]
    for pieces, rows in plan_chunks(key_texts, ngram, shingle):
        hashes, counts = hash_pieces(pieces, ngram, shingle, JACCARD_SEED)
        for row, part in zip(rows.tolist(), np.split(hashes, np.cumsum(counts)[:-1]), strict=True):
            per_text[row].append(part)
    return [sorted_unique(np.concatenate(parts)) for parts in per_text]


def shingle_hashes(key_text: str, ngram: int = 13, shingle: str = "char") -> np.ndarray:
    """Sorted unique uint64 hashes of the shingle set of one key text."""
    return shingle_hash_sets([key_text], ngram, shingle)[0]


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """|a ∩ b| / |a ∪ b| of two sorted arrays of unique values; 1.0 when both are empty.

    Linear-time: a stable sort of the concatenation merges the two sorted runs, and every common
    value appears as two equal neighbours.
    """
    if not a.size and not b.size:
        return 1.0
    merged = np.sort(np.concatenate([a, b]), kind="stable")
    common = int(np.count_nonzero(merged[1:] == merged[:-1]))
    return common / (a.size + b.size - common)


def exact_jaccard(
    key_text_a: str, key_text_b: str, ngram: int = 13, shingle: str = "char"
) -> float:
    """Exact Jaccard similarity of the shingle sets of two key texts."""
    a, b = shingle_hash_sets([key_text_a, key_text_b], ngram, shingle)
    return jaccard(a, b)
