"""Decontamination of train against the holdout (validation + test) documents.

Exact: a train document whose SHA-256 equals a holdout document's is removed (the reference's
rule; texts are already ftfy-normalized by dedup, so the hash is of the text as written).
Near: MinHash LSH over the holdout key texts (`slimpajama.core.keytext`); a train document sharing a
band key with a holdout document is a candidate, and is removed when the exact shingle Jaccard of
the two key texts is >= the threshold. The holdout is small (0.17 %), so the whole index travels
as one side input; train documents are looked up one by one and no train text is ever grouped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from slimpajama.core.jaccard import exact_jaccard
from slimpajama.core.keytext import key_text
from slimpajama.core.lsh import band_keys, optimal_params
from slimpajama.core.minhash import MinHashParams, signatures


def exact_digest(text: str) -> bytes:
    """SHA-256 of the UTF-8 text (32 bytes)."""
    return hashlib.sha256(text.encode("utf-8")).digest()


@dataclass(frozen=True)
class NearParams:
    """Near-duplicate rule: LSH banding from `optimal_params(threshold, num_perm)`, verified by
    exact Jaccard of the key texts' shingle sets >= `threshold`."""

    threshold: float = 0.8
    minhash: MinHashParams = field(default_factory=MinHashParams)

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError(f"near-duplicate threshold must be in (0, 1], got {self.threshold}")

    @property
    def banding(self) -> tuple[int, int]:
        """(bands, rows)."""
        return optimal_params(self.threshold, self.minhash.num_perm)


@dataclass(frozen=True)
class HoldoutIndex:
    """What train documents are checked against: holdout SHA-256 digests and, when `near` is set,
    holdout ids by band key and key texts by holdout id."""

    digests: frozenset[bytes] = frozenset()
    near: NearParams | None = None
    by_band_key: dict[int, tuple[str, ...]] = field(default_factory=dict)
    key_texts: dict[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.digests)


def band_keys_of(keys: list[str], near: NearParams) -> list[list[int]]:
    """Band keys (Python ints) of each key text."""
    return band_keys(signatures(keys, near.minhash), *near.banding).tolist()


def build_holdout_index(holdout: Iterable[tuple[str, str]], near: NearParams | None) -> HoldoutIndex:
    """Index of (holdout id, text) pairs; candidate lists are in input order."""
    pairs = list(holdout)
    digests = frozenset(exact_digest(text) for _, text in pairs)
    if near is None or not pairs:
        return HoldoutIndex(digests, near)
    key_texts = {doc_id: key_text(text) for doc_id, text in pairs}
    buckets: dict[int, list[str]] = {}
    for doc_id, keys in zip(key_texts, band_keys_of(list(key_texts.values()), near), strict=True):
        for key in keys:
            ids = buckets.setdefault(key, [])
            if doc_id not in ids:
                ids.append(doc_id)
    return HoldoutIndex(digests, near, {k: tuple(v) for k, v in buckets.items()}, key_texts)


def contaminations(index: HoldoutIndex, texts: Sequence[str]) -> list[str | None]:
    """For each text: 'exact' when it is a holdout copy, 'near' when it verifies against a holdout
    candidate, else None. The MinHash of all texts that are not exact copies is computed at once."""
    kinds: list[str | None] = ["exact" if exact_digest(text) in index.digests else None
                               for text in texts]
    if index.near is None or not index.by_band_key:
        return kinds
    pending = [i for i, kind in enumerate(kinds) if kind is None]
    keys = [key_text(texts[i]) for i in pending]
    if not keys:
        return kinds
    params = index.near.minhash
    for i, key, doc_band_keys in zip(pending, keys, band_keys_of(keys, index.near), strict=True):
        candidates = {doc_id for band_key in doc_band_keys
                      for doc_id in index.by_band_key.get(band_key, ())}
        for doc_id in sorted(candidates):
            similarity = exact_jaccard(key, index.key_texts[doc_id], params.ngram, params.shingle)
            if similarity >= index.near.threshold:
                kinds[i] = "near"
                break
    return kinds


def contamination(index: HoldoutIndex, text: str) -> str | None:
    """`contaminations` of one text."""
    return contaminations(index, [text])[0]
