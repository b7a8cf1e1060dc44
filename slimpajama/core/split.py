"""Deterministic train / validation / test assignment of mixed documents.

A document is held out when its holdout hash (`doc_hash(seed, "holdout", relpath, line)`, 64-bit)
is below `fraction` x 2**64: the lower half of that range goes to validation, the upper half to
test. The decision is per document, not per copy, so every copy of a document lands in one split;
a held-out document is written once (its repeats would only duplicate the holdout).
"""

from __future__ import annotations

from slimpajama.core.mixture import doc_hash

HOLDOUT_FRACTION = 0.0017
"""SlimPajama's holdout: 0.17 % of documents, halved into validation and test."""


def holdout_threshold(fraction: float) -> int:
    """Hashes below this integer are held out; `fraction` in [0, 1]."""
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"holdout fraction must be in [0, 1], got {fraction}")
    return min(int(fraction * 2.0**64), 1 << 64)


def split_of(seed: int, relpath: str, line: int, threshold: int) -> str:
    """'validation', 'test' or 'train' for one document given `holdout_threshold(fraction)`."""
    value = doc_hash(seed, "holdout", relpath, line)
    if value >= threshold:
        return "train"
    return "validation" if value < threshold // 2 else "test"
