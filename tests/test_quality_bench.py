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
    FAMILY_KINDS,
    FAMILY_SIZES,
    HUB_TARGET,
    TextStream,
    audit_verified,
    bin_bounds,
    bin_of,
    cluster_of,
    dense_families,
    edit_plan,
    family_pairs,
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


def test_dense_families_share_a_header_and_sit_near_their_hub() -> None:
    families = dense_families(2, seed=0)
    assert [f.kind for f in families] == list(FAMILY_KINDS)
    assert dense_families(2, seed=0) == families
    for family in families:
        low, high = FAMILY_SIZES
        assert low <= len(family.texts) <= high and len(set(family.texts)) == len(family.texts)
        hub, *members = [key(t) for t in family.texts]
        common_head = hub[:1500]
        assert all(m.startswith(common_head) for m in members)
        if family.kind == "chrome":
            assert all(m.endswith(hub[-500:]) for m in members)
        to_hub = [exact_jaccard(hub, m) for m in members]
        assert all(HUB_TARGET[0] <= j < HUB_TARGET[1] for j in to_hub[::2])  # every other member
        assert all(0.5 <= j < 1.0 for j in to_hub)
    ids = [f"c4/f.jsonl:{i}" for i in range(len(families[1].texts))]
    pairs = family_pairs(families[1], ids, 7)
    n = len(ids)
    assert len(pairs) == n * (n - 1) // 2 and sum(p["hub"] for p in pairs) == n - 1
    assert all(p["family"] == 7 and p["kind"] == "chrome" for p in pairs)
    first = pairs[0]
    assert (first["a_id"], first["b_id"]) == (ids[0], ids[1])
    assert first["jaccard"] == exact_jaccard(key(families[1].texts[0]), key(families[1].texts[1]))
    assert first["bin"] == bin_of(first["jaccard"])
    assert (bin_of(0.49), bin_of(0.5), bin_of(0.8499), bin_of(0.85), bin_of(1.0)) == (None, 0.5, 0.8, 0.85, 1.0)


def test_score_of_a_family_uses_the_best_partner_and_only_its_documents() -> None:
    family = [  # hub h, members m1 (0.82 to h), m2 (0.78 to h, 0.6 to m1), m3 (0.4 to everything)
        {"bin": 0.8, "jaccard": 0.82, "a_id": "h", "b_id": "m1"},
        {"bin": 0.75, "jaccard": 0.78, "a_id": "h", "b_id": "m2"},
        {"bin": 0.6, "jaccard": 0.6, "a_id": "m1", "b_id": "m2"},
        {"bin": None, "jaccard": 0.4, "a_id": "h", "b_id": "m3"},
    ]
    duplicates = [row("m1", "h", "h"), row("m2", "h", "h"), row("m3", "h", "h"),
                  row("other", "x", "x")]  # not a family document: not scored here
    result = score(family, [], duplicates, threshold=0.8, predict=lambda j: j)
    assert (result["removed"], result["false_removals"]) == (3, 2)  # m2 (best 0.78) and m3
    assert list(result["bins"]) == ["0.60", "0.75", "0.80"]
    assert all(b["p_same_cluster"] == 1.0 for b in result["bins"].values())
