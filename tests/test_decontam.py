"""Decontamination of train documents against a holdout index: exact SHA-256 and verified LSH."""

from __future__ import annotations

import hashlib
import random

import pytest

from slimpajama.core.jaccard import exact_jaccard
from slimpajama.core.keytext import key_text
from slimpajama.mix.decontam import (
    NearParams,
    build_holdout_index,
    contamination,
    contaminations,
    exact_digest,
)


def random_text(rng: random.Random, words: int) -> str:
    return " ".join("".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9)))
                    for _ in range(words))


def edited(text: str, every: int) -> str:
    """`text` with every `every`-th word replaced."""
    return " ".join("XYZZY" if i % every == 0 else w for i, w in enumerate(text.split()))


@pytest.fixture(scope="module")
def holdout() -> list[tuple[str, str]]:
    rng = random.Random(11)
    return [(f"train/chunk1/example_train_0.jsonl.zst:{i}", random_text(rng, 120)) for i in range(1, 41)]


def jaccard_of(a: str, b: str) -> float:
    return exact_jaccard(key_text(a), key_text(b))


def test_exact_digest_is_sha256_of_utf8():
    assert exact_digest("héllo") == hashlib.sha256("héllo".encode()).digest()


def test_exact_and_near_copies_are_caught(holdout):
    index = build_holdout_index(holdout, NearParams())
    assert len(index) == 40 and len(index.key_texts) == 40
    original = holdout[7][1]
    assert contamination(index, original) == "exact"
    shouting = original.upper().replace(" ", "  ") + " !!!"
    assert jaccard_of(shouting, original) == 1.0
    assert contamination(index, shouting) == "near"
    near = edited(original, 40)
    assert 0.8 <= jaccard_of(near, original) < 1.0
    assert contamination(index, near) == "near"
    assert contamination(index, random_text(random.Random(3), 120)) is None


def test_a_batch_gives_what_each_text_gives_alone(holdout):
    index = build_holdout_index(holdout, NearParams())
    rng = random.Random(5)
    texts = [holdout[3][1], edited(holdout[9][1], 40), "", "short", edited(holdout[9][1], 3),
             *(random_text(rng, rng.randint(1, 300)) for _ in range(30)), holdout[3][1].upper()]
    kinds = contaminations(index, texts)
    assert kinds == [contamination(index, text) for text in texts]
    assert kinds[:2] == ["exact", "near"] and kinds[-1] == "near" and kinds.count(None) == 33


def test_candidates_below_the_threshold_are_kept(holdout):
    original = holdout[3][1]
    edited_copy = edited(original, 12)
    similarity = jaccard_of(edited_copy, original)
    assert 0.6 < similarity < 0.8
    assert contamination(build_holdout_index(holdout, NearParams()), edited_copy) is None
    loose = build_holdout_index(holdout, NearParams(threshold=similarity - 0.05))
    assert contamination(loose, edited_copy) == "near"
    strict = build_holdout_index(holdout, NearParams(threshold=similarity + 0.01))
    assert contamination(strict, edited_copy) is None


def test_exact_only_and_empty_indexes(holdout):
    exact_only = build_holdout_index(holdout, None)
    assert contamination(exact_only, holdout[0][1]) == "exact"
    assert contamination(exact_only, edited(holdout[0][1], 40)) is None
    empty = build_holdout_index([], NearParams())
    assert len(empty) == 0 and contamination(empty, holdout[0][1]) is None


def test_near_threshold_must_be_a_fraction():
    for bad in (0.0, 1.2):
        with pytest.raises(ValueError, match="threshold"):
            NearParams(threshold=bad)
