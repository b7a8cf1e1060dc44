"""Exact Jaccard of shingle sets vs brute-force Python sets of shingle strings."""

from __future__ import annotations

import random

import numpy as np
import pytest

import slimpajama.core.shingles as shingles_module
from slimpajama.bench.corpus import synthetic_texts
from slimpajama.core.jaccard import exact_jaccard, jaccard, shingle_hash_sets, shingle_hashes
from slimpajama.core.keytext import key_text


def shingle_set(text: str, ngram: int, shingle: str) -> set[str]:
    if shingle == "char":
        grams = {text[i : i + ngram] for i in range(len(text) - ngram + 1)}
    else:
        words = text.split(" ") if text else []
        grams = {" ".join(words[i : i + ngram]) for i in range(len(words) - ngram + 1)}
    return grams or ({text} if text else set())


def brute_jaccard(a: str, b: str, ngram: int, shingle: str) -> float:
    sa, sb = shingle_set(a, ngram, shingle), shingle_set(b, ngram, shingle)
    return len(sa & sb) / len(sa | sb) if sa | sb else 1.0


def related_pairs(count: int, seed: int) -> list[tuple[str, str]]:
    """Overlapping slices, edited copies, short and empty texts."""
    rng = random.Random(seed)
    corpus = key_text(" ".join(synthetic_texts(300_000, seed=seed)))
    pairs = [
        ("", ""),
        ("", "abc"),
        ("short", "short"),
        ("short", "shorter"),
        ("a b", "a b c d e f"),
    ]
    for _ in range(count):
        length = rng.randint(0, 800)
        start = rng.randint(0, len(corpus) - 2 * length - 1)
        first = corpus[start : start + length]
        kind = rng.randrange(3)
        if kind == 0:  # shifted overlapping window
            shift = rng.randint(0, length + 1)
            second = corpus[start + shift : start + shift + length]
        elif kind == 1:  # edited copy
            chars = list(first)
            for _ in range(rng.randint(0, 6)):
                if chars:
                    chars[rng.randrange(len(chars))] = rng.choice("xyz é漢")
            second = "".join(chars)
        else:  # first words repeated
            second = " ".join(first.split(" ")[: rng.randint(0, 30)] * 2)
        pairs.append((first, second))
    return pairs


PAIRS = related_pairs(300, seed=2)


@pytest.mark.parametrize(("ngram", "shingle"), [(13, "char"), (5, "word"), (2, "word")])
def test_exact_jaccard_equals_brute_force(ngram: int, shingle: str) -> None:
    values = [exact_jaccard(a, b, ngram, shingle) for a, b in PAIRS]
    expected = [brute_jaccard(a, b, ngram, shingle) for a, b in PAIRS]
    assert values == pytest.approx(expected, abs=1e-12)
    assert 0.0 in expected and 1.0 in expected and any(0.2 < e < 0.9 for e in expected)


@pytest.mark.parametrize(("ngram", "shingle"), [(13, "char"), (5, "word")])
def test_shingle_hashes_are_the_sorted_unique_set(ngram: int, shingle: str, monkeypatch) -> None:
    texts = [a for a, _ in PAIRS] + ["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "x y x y x y x y x y x y"]
    batch = shingle_hash_sets(texts, ngram, shingle)
    for text, hashes in zip(texts, batch, strict=True):
        assert hashes.dtype == np.uint64
        assert (hashes[1:] > hashes[:-1]).all()  # strictly increasing: sorted and unique
        assert hashes.size == len(shingle_set(text, ngram, shingle))
        np.testing.assert_array_equal(shingle_hashes(text, ngram, shingle), hashes)
    monkeypatch.setattr(shingles_module, "CHUNK_CODE_POINTS", 29)  # long texts split into pieces
    for text, hashes in zip(texts, shingle_hash_sets(texts, ngram, shingle), strict=True):
        np.testing.assert_array_equal(hashes, batch[texts.index(text)])


def test_short_text_has_one_shingle_and_empty_has_none() -> None:
    assert shingle_hashes("").size == 0
    assert shingle_hashes("twelve chars").size == 1
    assert shingle_hashes("thirteen char").size == 1
    assert shingle_hashes("fourteen chars").size == 2
    assert shingle_hashes("one two three four", 5, "word").size == 1
    assert exact_jaccard("abc", "abd") == 0.0
    assert exact_jaccard("abc", "abc") == 1.0


def test_jaccard_of_arrays() -> None:
    a = np.array([1, 5, 9, 12], dtype=np.uint64)
    b = np.array([2, 5, 9, 13, 20], dtype=np.uint64)
    assert jaccard(a, b) == 2 / 7
    assert jaccard(b, a) == 2 / 7
    assert jaccard(a, a) == 1.0
    empty = np.empty(0, dtype=np.uint64)
    assert jaccard(empty, empty) == 1.0
    assert jaccard(a, empty) == 0.0
    big = np.array([0, (1 << 64) - 1], dtype=np.uint64)
    assert jaccard(big, np.array([(1 << 64) - 1], dtype=np.uint64)) == 0.5
