"""Pure parts of the dedup quality benchmark: planted pairs, corpus layout, scoring."""

from __future__ import annotations

import json

import numpy as np
import pytest
import zstandard

from slimpajama.bench.quality import (
    BINS,
    COPY_KIND,
    EDIT_KINDS,
    TextStream,
    audit_verified,
    bin_bounds,
    cluster_of,
    edit_plan,
    in_bin,
    make_pair,
    planted_pairs,
    s_curve,
    score,
    within_sampling_error,
    write_corpus,
)
from slimpajama.core.jaccard import exact_jaccard
from slimpajama.core.keytext import key_text
from slimpajama.core.normalize import normalize_text


def key(text: str) -> str:
    return key_text(normalize_text(text))


def test_bins_are_left_closed_and_bin_one_is_exact() -> None:
    assert len(BINS) == 11 and BINS[0] == 0.5 and BINS[-1] == 1.0
    assert bin_bounds(0.8) == (0.8, 0.85) and bin_bounds(0.95) == (0.95, 1.0)
    assert in_bin(0.8, 0.8) and not in_bin(0.85, 0.8) and in_bin(0.85, 0.85)
    assert in_bin(0.9999, 0.95) and not in_bin(1.0, 0.95)
    assert in_bin(1.0, 1.0) and not in_bin(0.9999, 1.0)
    assert round(s_curve(0.8, 9, 13), 4) == 0.3988 and round(s_curve(0.9, 9, 13), 4) == 0.9286


@pytest.mark.parametrize("kind", EDIT_KINDS)
@pytest.mark.parametrize("bin_", [0.5, 0.8, 0.9])
def test_each_edit_kind_hits_the_requested_bin(kind: str, bin_: float) -> None:
    stream, donor = TextStream(7, 0), TextStream(7, 1)
    base = stream.next_base()
    while len(base) < 8_000:  # long enough for every kind to reach every bin
        base = stream.next_base()
    pair = make_pair(base, kind, bin_, np.random.default_rng(5), donor)
    low, high = bin_bounds(bin_)
    assert pair.a == base and pair.b != base and pair.kind == kind and pair.strength > 0
    assert pair.jaccard == exact_jaccard(key(pair.a), key(pair.b))
    assert low <= pair.jaccard < high


def test_copy_pairs_differ_in_bytes_but_not_in_key_text() -> None:
    base = TextStream(7, 0).next_base()
    pair = make_pair(base, COPY_KIND, 1.0, np.random.default_rng(1), TextStream(7, 1))
    assert pair.b != pair.a and key(pair.b) == key(pair.a) and pair.jaccard == 1.0


def test_edit_plans_do_what_they_say() -> None:
    text = TextStream(3, 0).next_base()
    words = text.split(" ")
    rng = np.random.default_rng(0)
    truncate = edit_plan("truncate", text, rng, TextStream(3, 1))
    assert truncate.units == len(words) - 1 and truncate.apply(0) == text
    cut = truncate.apply(10).split(" ")
    assert len(cut) == len(words) - 10 and cut in (words[10:], words[:-10])
    substitute = edit_plan("substitute", text, rng, TextStream(3, 1))
    changed = substitute.apply(25).split(" ")
    assert len(changed) == len(words)
    assert 0 < sum(x != y for x, y in zip(changed, words, strict=True)) <= 25
    stream = TextStream(3, 2)
    paragraphs = stream.next_base().split("\n\n")
    while len(paragraphs) < 4:
        paragraphs = stream.next_base().split("\n\n")
    reorder = edit_plan("reorder", "\n\n".join(paragraphs), rng, TextStream(3, 1))
    shuffled = reorder.apply(len(paragraphs) - 1)  # every shuffle step, no substitution yet
    assert sorted(shuffled.split("\n\n")) == sorted(paragraphs)
    assert shuffled.split("\n\n") != paragraphs
    assert reorder.units > len(paragraphs) - 1  # then word substitutions
    boilerplate = edit_plan("boilerplate", text, rng, TextStream(3, 1))
    padded = boilerplate.apply(2)
    assert len(padded) > len(text) and padded.count("\n\n") == text.count("\n\n") + 4


def test_generation_is_deterministic_and_pairs_are_in_their_bins() -> None:
    first, rejected = planted_pairs(2, seed=3)
    again, rejected_again = planted_pairs(2, seed=3)
    other, _ = planted_pairs(2, seed=4)
    assert first == again and rejected == rejected_again
    assert [p.b for p in other] != [p.b for p in first]
    assert [(p.bin, p.kind) for p in first] == [
        (b, k) for b in BINS for k in ((COPY_KIND,) * 2 if b == 1.0 else EDIT_KINDS[:2])
    ]
    assert all(in_bin(p.jaccard, p.bin) for p in first)
    assert len({p.a for p in first}) == len(first)  # every pair has its own base text


def test_write_corpus_ids_point_at_the_right_lines(tmp_path) -> None:
    texts = [f"document number {i} " + "x" * (i % 7) for i in range(60)]
    ids = write_corpus(tmp_path, texts, seed=2)
    assert len(set(ids)) == 60
    for text, doc_id in zip(texts, ids, strict=True):
        relpath, line = doc_id.rsplit(":", 1)
        data = (tmp_path / relpath).read_bytes()
        if relpath.endswith(".zst"):
            assert relpath.startswith("common_crawl/")
            data = zstandard.ZstdDecompressor().stream_reader(data).read()
        record = json.loads(data.decode().split("\n")[int(line) - 1])
        assert record == {"text": text, "meta": {}}
    assert write_corpus(tmp_path / "again", texts, seed=2) == ids


PAIRS = [  # hand-made ground truth: bins, exact J and ids
    {"bin": 0.8, "jaccard": 0.82, "a_id": "c4/f.jsonl:1", "b_id": "wikipedia/w.jsonl:1"},
    {"bin": 0.8, "jaccard": 0.81, "a_id": "c4/f.jsonl:2", "b_id": "c4/f.jsonl:3"},
    {"bin": 0.8, "jaccard": 0.84, "a_id": "c4/f.jsonl:11", "b_id": "c4/f.jsonl:12"},
    {"bin": 0.5, "jaccard": 0.52, "a_id": "c4/f.jsonl:4", "b_id": "c4/f.jsonl:5"},
    {"bin": 0.5, "jaccard": 0.53, "a_id": "c4/f.jsonl:6", "b_id": "c4/f.jsonl:7"},
    {"bin": 1.0, "jaccard": 1.0, "a_id": "c4/f.jsonl:8", "b_id": "c4/f.jsonl:9"},
]
SINGLETONS = ["c4/f.jsonl:20", "c4/f.jsonl:21", "c4/f.jsonl:22"]


def row(doc: str, cluster: str, kept: str, **extra: object) -> dict:
    return {"id": doc, "cluster_id": cluster, "kept_id": kept, **extra}


DUPLICATES = [
    row("wikipedia/w.jsonl:1", "c4/f.jsonl:1", "c4/f.jsonl:1"),  # pair 0 joined
    row("c4/f.jsonl:11", "c4/f.jsonl:11", "c4/f.jsonl:12"),  # pair 2: the keeper is not the root
    row("c4/f.jsonl:5", "c4/f.jsonl:4", "c4/f.jsonl:4"),  # pair 3 joined at J 0.52: false
    row("c4/f.jsonl:6", "c4/f.jsonl:20", "c4/f.jsonl:20"),  # pair 4's a joins a singleton: false
    row("c4/f.jsonl:8", "c4/f.jsonl:21", "c4/f.jsonl:21"),  # pair 5, both into singleton 21
    row("c4/f.jsonl:9", "c4/f.jsonl:21", "c4/f.jsonl:21"),
    row("c4/f.jsonl:22", "c4/f.jsonl:20", "c4/f.jsonl:20"),  # singleton removed: false
]


def test_cluster_of_maps_removed_and_kept_members() -> None:
    clusters = cluster_of(DUPLICATES)
    assert clusters["c4/f.jsonl:12"] == "c4/f.jsonl:11" == clusters["c4/f.jsonl:11"]
    assert clusters["c4/f.jsonl:1"] == "c4/f.jsonl:1" and "c4/f.jsonl:2" not in clusters
    assert len(clusters) == 12


def test_score_on_a_hand_made_duplicates_table() -> None:
    result = score(PAIRS, SINGLETONS, DUPLICATES, threshold=0.8, predict=lambda j: j)
    assert (result["removed"], result["false_removals"], result["singletons_removed"]) == (7, 3, 1)
    bins = result["bins"]
    assert list(bins) == ["0.50", "0.80", "1.00"]
    assert {k: bins["0.80"][k] for k in ("pairs", "same_cluster", "removed", "false_removals")} \
        == {"pairs": 3, "same_cluster": 2, "removed": 2, "false_removals": 0}
    assert bins["0.80"]["p_same_cluster"] == 0.6667 and bins["0.80"]["mean_j"] == 0.8233
    assert bins["0.80"]["predicted_mean"] == 0.8233 == bins["0.80"]["predicted_at_mean_j"]
    assert {k: bins["0.50"][k] for k in ("pairs", "same_cluster", "removed", "false_removals")} \
        == {"pairs": 2, "same_cluster": 1, "removed": 2, "false_removals": 2}
    assert (bins["1.00"]["same_cluster"], bins["1.00"]["removed"], bins["1.00"]["false_removals"]) \
        == (1, 2, 0)
    assert (bins["0.50"]["min_j"], bins["0.50"]["max_j"]) == (0.52, 0.53)


def test_within_sampling_error_is_three_sigma_plus_half_a_count() -> None:
    probabilities = [0.9] * 100  # mean 90, sigma 3: accepted |hits - 90| <= 9.5
    assert within_sampling_error(99, probabilities) and within_sampling_error(81, probabilities)
    assert not within_sampling_error(100, probabilities)
    assert not within_sampling_error(80, probabilities)
    assert within_sampling_error(0, [0.0] * 50) and not within_sampling_error(1, [0.0] * 50)


def test_audit_of_verified_rows() -> None:
    rows = [
        row("wikipedia/w.jsonl:1", "c4/f.jsonl:1", "c4/f.jsonl:1",
            matched_id="c4/f.jsonl:1", jaccard=0.8200004),  # within the 6-decimal rounding
        row("c4/f.jsonl:11", "c4/f.jsonl:11", "c4/f.jsonl:12",
            matched_id="c4/f.jsonl:12", jaccard=0.839999),  # disagrees with the planted 0.84
        row("c4/f.jsonl:22", "c4/f.jsonl:20", "c4/f.jsonl:20",
            matched_id="c4/f.jsonl:20", jaccard=0.79),  # below threshold
        row("c4/f.jsonl:9", "c4/f.jsonl:21", "c4/f.jsonl:21", matched_id=None, jaccard=None),
    ]
    assert audit_verified(PAIRS, rows, 0.8) == {
        "removed_without_verified_partner": 2,
        "matched_through_planted_partner": 2,
        "jaccard_disagreements": 1,
    }
