"""Mixture files, token counters, and the weight / whole-copies / hash-cut selection rule."""

from __future__ import annotations

import json
import math
import pickle

import numpy as np
import pytest

from slimpajama.core.mixture import (
    N_BUCKETS,
    Mixture,
    SourceHistogram,
    Target,
    doc_hash,
    fractional_cut,
    load_mixture,
    mixture_names,
    parse_mixture,
    plan_mix,
    selection_bucket,
)
from slimpajama.core.sources import SET_NAMES
from slimpajama.mix.counters import batch_token_counter

DOCS_PER_SOURCE = 10_000
MEAN_TOKENS = {
    "RedPajamaCommonCrawl": 200, "RedPajamaC4": 250, "RedPajamaGithub": 400, "RedPajamaBook": 1000,
    "RedPajamaArXiv": 800, "RedPajamaWikipedia": 300, "RedPajamaStackExchange": 150,
}
"""Available tokens per source differ so that weights range from 0.13 to 8.1 under slimpajama-627b."""


@pytest.fixture(scope="module")
def corpus() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per source: (selection buckets, token counts) of 10,000 documents with stable ids."""
    rng = np.random.default_rng(5)
    docs = {}
    for s, (name, mean) in enumerate(sorted(MEAN_TOKENS.items())):
        relpath = f"train/chunk1/example_train_{s}.jsonl.zst"
        buckets = np.array([selection_bucket(0, relpath, line)
                            for line in range(1, DOCS_PER_SOURCE + 1)])
        tokens = rng.integers(1, 2 * mean, DOCS_PER_SOURCE)
        docs[name] = (buckets, tokens)
    return docs


def histograms(corpus: dict[str, tuple[np.ndarray, np.ndarray]]) -> dict[str, SourceHistogram]:
    return {name: SourceHistogram.from_docs(b, t, 3 * t) for name, (b, t) in corpus.items()}


def check_plan(plan, corpus) -> dict[str, np.ndarray]:
    """Assert the selection invariants; returns copies per document per source."""
    all_copies = {}
    for name, (buckets, tokens) in corpus.items():
        source = plan.sources[name]
        copies = np.array([plan.copies(name, int(b)) for b in buckets])
        assert copies.max() <= math.ceil(source.weight)
        assert copies.min() >= math.floor(source.weight)
        if source.weight >= 1:
            assert copies.min() >= 1
        assert int((copies * tokens).sum()) == source.mixed.tokens
        assert int((copies * 3 * tokens).sum()) == source.mixed.nbytes
        assert int(copies.sum()) == source.mixed.docs
        assert source.repeats == {int(k): int(v) for k, v in zip(*np.unique(copies, return_counts=True), strict=True)}
        worst_bucket = np.bincount(buckets, tokens, N_BUCKETS).max()
        assert abs(source.mixed.tokens - source.target_tokens) <= worst_bucket / 2
        all_copies[name] = copies
    return all_copies


def test_bundled_mixtures_load_with_published_shares():
    assert mixture_names() == ["natural", "redpajama-1t", "slimpajama-627b"]
    slim = load_mixture("slimpajama-627b")
    assert slim.shares is not None and set(slim.shares) == set(SET_NAMES.values())
    assert slim.shares["RedPajamaCommonCrawl"] == pytest.approx(0.522, abs=1e-12)
    assert slim.shares["RedPajamaStackExchange"] == pytest.approx(0.033, abs=1e-12)
    assert math.fsum(slim.shares.values()) == pytest.approx(1.0, abs=1e-12)
    red = load_mixture("redpajama-1t")
    assert red.shares["RedPajamaCommonCrawl"] == pytest.approx(0.726, abs=1e-12)
    assert load_mixture("natural").shares is None


def test_user_mixture_file_is_normalized(tmp_path):
    path = tmp_path / "mine.json"
    path.write_text(json.dumps({"shares": {"RedPajamaC4": 3, "RedPajamaBook": 1, "RedPajamaGithub": 0}}))
    mixture = load_mixture(str(path))
    assert mixture == Mixture("mine", "", {"RedPajamaBook": 0.25, "RedPajamaC4": 0.75})


@pytest.mark.parametrize("data, message", [
    ([1], "JSON object"),
    ({"name": "x"}, "'shares' required"),
    ({"shares": "natural", "sharez": 1}, "unknown \\['sharez'\\]"),
    ({"shares": {"c4": 1.0}}, "unknown set names \\['c4'\\]"),
    ({"shares": {"RedPajamaC4": -1}}, "finite and >= 0"),
    ({"shares": {"RedPajamaC4": True}}, "must be a number"),
    ({"shares": {"RedPajamaC4": 0}}, "sum to 0"),
    ({"shares": "all"}, "\"natural\" or a non-empty object"),
])
def test_invalid_mixtures_are_rejected(data, message):
    with pytest.raises(ValueError, match=message):
        parse_mixture(data, "bad.json")


def test_unknown_mixture_name():
    with pytest.raises(ValueError, match="unknown mixture 'nope'"):
        load_mixture("nope")


def test_doc_hash_is_pinned_and_seeded():
    relpath = "train/chunk1/example_train_0.jsonl.zst"
    assert doc_hash(0, "select", relpath, 1) == 9159279084141133075
    assert doc_hash(7, "select", relpath, 1) == 17698872257485534586
    assert selection_bucket(0, relpath, 1) == 9159279084141133075 >> 48 == 32540
    assert doc_hash(0, "holdout", relpath, 1) != doc_hash(0, "select", relpath, 1)


def test_token_counters():
    assert batch_token_counter("bytes")(["héllo", ""]) == [6, 0]
    with pytest.raises(ValueError, match="unknown token counter"):
        batch_token_counter("words")


def test_gpt2_counter():
    pytest.importorskip("slimpajama.io.tokenizer")
    assert batch_token_counter("gpt2")(["Hello world"]) == [2]


def test_target_needs_exactly_one_positive_size():
    assert Target(tokens=10).total_tokens(99) == 10
    assert Target(epochs=2.5).total_tokens(100) == 250.0
    for bad in ({}, {"tokens": 1, "epochs": 1.0}, {"epochs": 0.0}, {"tokens": -3}):
        with pytest.raises(ValueError):
            Target(**bad)


def test_histogram_pickles_only_occupied_buckets():
    histogram = SourceHistogram.from_docs([1, 5, 5, N_BUCKETS - 1], [3, 4, 5, 6], [7, 8, 9, 10])
    data = pickle.dumps(histogram)
    assert len(data) < 1000
    copy = pickle.loads(data)
    for name in ("tokens", "nbytes", "docs"):
        assert np.array_equal(getattr(copy, name), getattr(histogram, name))
    assert copy.below(6) == (12, 24, 3) and copy.below(N_BUCKETS) == (18, 34, 4)


def test_fractional_cut_picks_closest_smallest():
    tokens = np.array([0, 5, 0, 5, 10])  # cumulative 0 0 5 5 10 20
    assert fractional_cut(tokens, 0.0) == 0
    assert fractional_cut(tokens, 5.0) == 2
    assert fractional_cut(tokens, 2.5) == 0  # tie between 0 and 5 tokens: fewer
    assert fractional_cut(tokens, 7.6) == 4
    assert fractional_cut(tokens, 16.0) == 5
    assert fractional_cut(tokens, 99.0) == 5


def test_slimpajama_shares_reached_on_70k_docs(corpus):
    plan = plan_mix(load_mixture("slimpajama-627b"), histograms(corpus), Target(epochs=1.0))
    weights = {name: round(p.weight, 2) for name, p in plan.sources.items()}
    assert weights == {"RedPajamaArXiv": 0.18, "RedPajamaBook": 0.13, "RedPajamaC4": 3.31,
                       "RedPajamaCommonCrawl": 8.01, "RedPajamaGithub": 0.4,
                       "RedPajamaStackExchange": 0.68, "RedPajamaWikipedia": 0.39}
    copies = check_plan(plan, corpus)
    assert set(copies["RedPajamaCommonCrawl"].tolist()) == {8, 9}
    total = plan.mixed_total().tokens
    for name, source in plan.sources.items():
        assert abs(100 * source.mixed.tokens / total - 100 * source.share) < 0.01, name


def test_token_target_and_other_seed(corpus):
    other = {}
    for name, (_, tokens) in corpus.items():
        s = sorted(MEAN_TOKENS).index(name)
        relpath = f"train/chunk1/example_train_{s}.jsonl.zst"
        buckets = np.array([selection_bucket(9, relpath, line) for line in range(1, len(tokens) + 1)])
        other[name] = (buckets, tokens)
    plan = plan_mix(load_mixture("redpajama-1t"), histograms(other), Target(tokens=5_000_000))
    check_plan(plan, other)
    assert plan.mixed_total().tokens == pytest.approx(5_000_000, abs=1_000)
    for source in plan.sources.values():
        assert abs(100 * source.mixed.tokens / plan.mixed_total().tokens - 100 * source.share) < 0.1


def test_natural_epochs_are_exact(corpus):
    hists = histograms(corpus)
    one = plan_mix(load_mixture("natural"), hists, Target(epochs=1.0))
    for source in one.sources.values():
        assert source.weight == 1.0 and source.mixed == source.available
        assert source.repeats == {1: DOCS_PER_SOURCE}
    two_and_half = plan_mix(load_mixture("natural"), hists, Target(epochs=2.5))
    copies = check_plan(two_and_half, corpus)
    assert all(set(c.tolist()) == {2, 3} for c in copies.values())


def test_missing_and_dropped_sources(corpus):
    hists = histograms(corpus)
    without_books = {k: v for k, v in hists.items() if k != "RedPajamaBook"}
    with pytest.raises(ValueError, match="needs \\['RedPajamaBook'\\]"):
        plan_mix(load_mixture("slimpajama-627b"), without_books, Target(epochs=1.0))
    only_two = Mixture("two", "", {"RedPajamaC4": 0.5, "RedPajamaGithub": 0.5})
    plan = plan_mix(only_two, hists, Target(epochs=1.0))
    assert plan.sources["RedPajamaBook"].mixed.docs == 0
    assert plan.copies("RedPajamaBook", 0) == 0 and plan.copies("NotASource", 0) == 0
    c4, github = plan.sources["RedPajamaC4"].mixed.tokens, plan.sources["RedPajamaGithub"].mixed.tokens
    assert abs(c4 - github) <= 2 * 2 * MEAN_TOKENS["RedPajamaGithub"]
