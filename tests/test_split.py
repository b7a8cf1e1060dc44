"""Deterministic holdout: hash below fraction x 2**64, lower half validation, upper half test."""

from __future__ import annotations

from collections import Counter

import pytest

from slimpajama.core.mixture import doc_hash
from slimpajama.core.split import HOLDOUT_FRACTION, holdout_threshold, split_of

IDS = [(f"train/chunk1/example_train_{f}.jsonl.zst", line)
       for f in range(10) for line in range(1, 10_001)]


def splits(seed: int, fraction: float) -> Counter:
    threshold = holdout_threshold(fraction)
    return Counter(split_of(seed, relpath, line, threshold) for relpath, line in IDS)


def test_default_holdout_counts_are_pinned():
    assert HOLDOUT_FRACTION == 0.0017
    assert holdout_threshold(HOLDOUT_FRACTION) == 31359464925306236
    assert splits(0, HOLDOUT_FRACTION) == {"train": 99838, "validation": 85, "test": 77}
    assert splits(3, HOLDOUT_FRACTION) == {"train": 99822, "validation": 89, "test": 89}


def test_split_follows_the_holdout_hash():
    threshold = holdout_threshold(0.01)
    for relpath, line in IDS[:2000]:
        value = doc_hash(5, "holdout", relpath, line)
        expected = ("train" if value >= threshold
                    else "validation" if value < threshold // 2 else "test")
        assert split_of(5, relpath, line, threshold) == expected


def test_extreme_fractions():
    assert splits(0, 0.0) == {"train": len(IDS)}
    everything = splits(0, 1.0)
    assert everything["train"] == 0
    assert everything["validation"] + everything["test"] == len(IDS)
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match="holdout fraction"):
            holdout_threshold(bad)
