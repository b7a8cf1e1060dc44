"""--verify in dense families: members of one bucket at J >= threshold to each other but below it
to the bucket's anchor (its smallest id) were never compared by star verification; now they are
joined (unit test of `verify_buckets`, then end to end through the CLI)."""

from __future__ import annotations

import itertools
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from slimpajama.cli import main
from slimpajama.core.jaccard import exact_jaccard
from slimpajama.core.keep import Member
from slimpajama.core.keytext import key_text
from slimpajama.core.lsh import band_keys
from slimpajama.core.minhash import signatures
from slimpajama.core.normalize import normalize_text
from slimpajama.core.union_find import UnionFind, connected_components
from slimpajama.dedup.config import DedupConfig
from slimpajama.dedup.edges import Edge
from slimpajama.dedup.verify import VerifyCounts, verify_buckets

THRESHOLD = 0.8
ROOT = Path(__file__).resolve().parent.parent


def words(rng: random.Random, count: int) -> str:
    return " ".join("".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 9)))
                    for _ in range(count))


def licence_family(seed: int, spokes: int = 8) -> list[str]:
    """`spokes` documents sharing a 300-word header with long bodies of their own (J 0.6-0.7 to
    everything), then y (a mid-size body) and the hub x (header + 3 words): J(x, y) ≈ 0.82 is the
    only pair at >= 0.8, and both are at < 0.8 to every spoke."""
    rng = random.Random(seed)
    header = words(rng, 300)
    docs = [f"{header}\n\n{words(rng, 130)}" for _ in range(spokes)]
    docs.append(f"{header}\n\n{words(rng, 60)}")  # y
    docs.append(f"{header}\n\n{words(rng, 3)}")  # x, the hub
    return docs


SEED = 16
"""A family whose every LSH bucket holding x and y (16 x 6 bands) is anchored at a spoke."""


def keys_of(texts: list[str]) -> list[str]:
    return [key_text(normalize_text(t)) for t in texts]


def member(key: int) -> Member:
    return Member(key, 100, "RedPajamaC4")


# ---------------------------------------------------------------- pure function


def test_the_pair_rejected_by_the_anchor_is_compared_and_joined() -> None:
    family = licence_family(SEED)
    a, y, x = keys_of([family[0], family[-2], family[-1]])
    z = keys_of(licence_family(SEED + 1)[:1])[0]  # another family: unrelated
    assert exact_jaccard(a, x) < THRESHOLD and exact_jaccard(a, y) < THRESHOLD
    assert exact_jaccard(x, y) >= THRESHOLD
    texts = {1: a, 2: x, 3: y, 4: z}
    bucket = (member(1), member(2), member(3), member(4))
    edges, counts = verify_buckets([(5, bucket), (2, bucket)], texts, THRESHOLD, 13, "char")
    assert edges == [Edge(member(2), member(3), 2, exact_jaccard(x, y))]
    # one distinct bucket (smallest band 2): the star 1-2, 1-3, 1-4 (all rejected), then 3 meets
    # {2} (joined), then 4 meets {2, 3} (both rejected); a (long body) against x (the hub) and the
    # unrelated z against x are rejected by their set sizes alone
    assert counts == VerifyCounts(buckets=1, star_pairs=3, candidates=6, size_bounded=2, verified=1,
                                  edges=1)
    star_edges, star_counts = verify_buckets([(2, bucket)], texts, THRESHOLD, 13, "char",
                                             max_extra_rounds=0)
    assert star_edges == []  # what star verification found: nothing
    assert (star_counts.candidates, star_counts.capped_buckets, star_counts.unresolved_pairs) == (3, 1, 3)


def test_a_hub_late_in_id_order_joins_its_members() -> None:
    rng = random.Random(3)
    header = words(rng, 300)
    docs = [f"{header}\n\n{words(rng, 200)}"]  # 1: far from everything (J ≈ 0.6)
    docs += [f"{header}\n\n{words(rng, 60)}" for _ in range(3)]  # 2-4: J ≈ 0.83 to the hub
    docs += [f"{header}\n\n{words(rng, 2)}"]  # 5: the hub
    docs += [f"{header}\n\n{words(rng, 60)}" for _ in range(4)]  # 6-9: J ≈ 0.83 to the hub
    texts = dict(enumerate(keys_of(docs), start=1))
    hub = 5
    near = [k for k in texts if k not in (1, hub)]
    assert all(exact_jaccard(texts[k], texts[hub]) >= THRESHOLD for k in near)
    assert exact_jaccard(texts[1], texts[hub]) < THRESHOLD
    assert all(exact_jaccard(texts[u], texts[v]) < THRESHOLD
               for u, v in itertools.combinations([1, *near], 2))
    bucket = tuple(member(k) for k in range(1, 10))
    edges, counts = verify_buckets([(0, bucket)], texts, THRESHOLD, 13, "char")
    assert sorted((e.anchor.doc_key, e.other.doc_key) for e in edges) == [
        (2, 5), (3, 5), (4, 5), (5, 6), (5, 7), (5, 8), (5, 9)]
    # star from 1: 8 rejected; 3 meets {2}, 4 meets {2}, {3}: 3 rejected; the hub joins {2}, {3},
    # {4}: 3; then 6-9 each try the hub first: 4
    assert (counts.star_pairs, counts.candidates, counts.verified, counts.capped_buckets) == (8, 18, 7, 0)
    star_edges, _ = verify_buckets([(0, bucket)], texts, THRESHOLD, 13, "char", max_extra_rounds=0)
    assert star_edges == []


@pytest.mark.parametrize("seed", range(6))
def test_clusters_are_the_components_of_all_bucket_pairs_at_threshold(seed: int) -> None:
    """Random overlapping buckets over a dense family: the emitted edges connect exactly the
    components of the graph of every same-bucket pair with exact J >= threshold."""
    rng = random.Random(seed)
    header = words(rng, 250)
    docs = [f"{header}\n\n{words(rng, rng.choice([2, 30, 50, 70, 110]))}" for _ in range(14)]
    keys = rng.sample(range(1, 1000), len(docs))
    texts = dict(zip(keys, keys_of(docs), strict=True))
    buckets = []
    for band in range(8):
        chosen = sorted(rng.sample(keys, rng.randint(2, len(keys))))
        buckets.append((band, tuple(member(k) for k in chosen)))
    by_anchor: dict[int, list] = {}
    for band, bucket in buckets:
        by_anchor.setdefault(bucket[0].doc_key, []).append((band, bucket))
    edges = []
    for group in by_anchor.values():
        found, counts = verify_buckets(group, texts, THRESHOLD, 13, "char")
        assert counts.capped_buckets == 0 and counts.edges == len(found)
        roots = connected_components((e.anchor.doc_key, e.other.doc_key) for e in found)
        assert len(found) == len(roots) - len(set(roots.values()))  # a forest: no redundant edge
        edges += found
    assert all(e.jaccard == exact_jaccard(texts[e.anchor.doc_key], texts[e.other.doc_key]) >= THRESHOLD
               for e in edges)
    expected = UnionFind()
    for _, bucket in buckets:
        for u, v in itertools.combinations([m.doc_key for m in bucket], 2):
            if exact_jaccard(texts[u], texts[v]) >= THRESHOLD:
                expected.union(u, v)
    got = connected_components((e.anchor.doc_key, e.other.doc_key) for e in edges)
    assert {k: got.get(k, k) for k in keys} == {k: expected.find(k) for k in keys}


def test_the_cap_bounds_the_work_and_counts_what_it_left() -> None:
    rng = random.Random(5)
    header = words(rng, 100)
    docs = [f"{header}\n\n{words(rng, 200)}" for _ in range(12)]  # all pairs far apart
    texts = dict(enumerate(keys_of(docs), start=1))
    bucket = tuple(member(k) for k in range(1, 13))
    _, full = verify_buckets([(0, bucket)], texts, THRESHOLD, 13, "char")
    assert (full.candidates, full.capped_buckets, full.unresolved_pairs) == (66, 0, 0)
    _, capped = verify_buckets([(0, bucket)], texts, THRESHOLD, 13, "char", max_extra_rounds=2)
    assert capped.candidates == 11 + 2 * 11 and capped.capped_buckets == 1
    assert capped.unresolved_pairs == 66 - capped.candidates


# ---------------------------------------------------------------- end to end

C4 = "c4/c4-train.00000-of-01024.jsonl"


@pytest.mark.beam
def test_cli_joins_the_pair_star_verification_missed(tmp_path) -> None:
    docs = licence_family(SEED)
    keys = keys_of(docs)
    x, y = len(docs), len(docs) - 1  # 1-based lines: y on line 9, the hub x on line 10
    j_xy = exact_jaccard(keys[y - 1], keys[x - 1])
    pairs = {(i, j): exact_jaccard(keys[i - 1], keys[j - 1]) for i, j in itertools.combinations(range(1, x + 1), 2)}
    assert [p for p, j in pairs.items() if j >= THRESHOLD] == [(y, x)]

    # the buckets the CLI will see (same normalization, signatures and 16 x 6 bands), verified
    # star-only: every bucket holding x and y is anchored at a spoke, so the pair is never joined
    cfg = DedupConfig(input="i", output="o", verify=True, recall=0.99)
    bands, rows = cfg.band_rows
    by_key: dict[tuple[int, int], list[int]] = {}
    for line, doc_bands in enumerate(band_keys(signatures(keys, cfg.minhash_params()), bands, rows).tolist(), 1):
        for band, key in enumerate(doc_bands):
            by_key.setdefault((band, key), []).append(line)
    shared = [(band, lines) for (band, _), lines in by_key.items() if x in lines and y in lines]
    assert shared and all(lines[0] < y for _, lines in shared)
    by_anchor: dict[int, list] = {}
    for (band, _), lines in by_key.items():
        if len(lines) > 1:
            by_anchor.setdefault(lines[0], []).append((band, tuple(member(k) for k in lines)))
    texts = dict(enumerate(keys, start=1))
    star = [e for group in by_anchor.values()
            for e in verify_buckets(group, texts, THRESHOLD, 13, "char", max_extra_rounds=0)[0]]
    assert star == []

    root = tmp_path / "rp"
    (root / "c4").mkdir(parents=True)
    (root / "c4" / "c4-train.00000-of-01024.jsonl").write_text(
        "".join(json.dumps({"text": d, "meta": {}}) + "\n" for d in docs))
    out = tmp_path / "sp"
    result = CliRunner().invoke(main, ["dedup", "--input", str(root), "--output", str(out), "--verify",
                                       "--recall", "0.99"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    rows_ = pq.read_table(out / "duplicates").to_pylist()
    assert [(r["id"], r["cluster_id"], r["kept_id"], r["matched_id"]) for r in rows_] == [
        (f"{C4}:{x}", f"{C4}:{y}", f"{C4}:{y}", f"{C4}:{y}")]
    assert rows_[0]["jaccard"] == pytest.approx(j_xy, abs=1e-6)
    edges = pq.read_table(out / "edges").to_pylist()
    assert [(e["a_id"], e["b_id"]) for e in edges] == [(f"{C4}:{y}", f"{C4}:{x}")]
    verification = json.loads((out / "report.json").read_text())["verification"]
    # counts are summed over anchor groups: the pair is verified once in each group that holds it
    assert verification["verified"] == verification["edges"] >= 1
    assert verification["candidates"] > verification["star_pairs"]
    assert verification["candidates"] == verification["verified"] + verification["rejected"]
    assert (verification["capped_buckets"], verification["unresolved_pairs"]) == (0, 0)


def part_bytes(folder: Path) -> dict[str, bytes]:
    """Name -> bytes of every part file of an audit folder."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.beam
@pytest.mark.slow
def test_verified_families_give_the_same_bytes_with_two_worker_processes(tmp_path) -> None:
    docs = [d for seed in (SEED, 22, 23) for d in licence_family(seed)]
    random.Random(1).shuffle(docs)
    root = tmp_path / "rp"
    for folder, name, part in (("c4", "c4-train.00000-of-01024.jsonl", docs[::2]),
                               ("wikipedia", "wiki.jsonl", docs[1::2])):
        (root / folder).mkdir(parents=True)
        (root / folder / name).write_text("".join(json.dumps({"text": d, "meta": {}}) + "\n" for d in part))
    outputs = {}
    for name, extra, env in (("one", [], {}),
                             ("two", ["--direct_running_mode", "multi_processing", "--direct_num_workers", "2"],
                              {"PYTHONHASHSEED": "12345"})):
        out = tmp_path / name
        done = subprocess.run(
            [sys.executable, "-m", "slimpajama.cli", "dedup", "--input", str(root), "--output", str(out),
             "--verify", "--recall", "0.99", *extra],
            capture_output=True, text=True, env={**os.environ, **env}, cwd=ROOT, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
        report = json.loads((out / "report.json").read_text())
        outputs[name] = (part_bytes(out / "duplicates"), part_bytes(out / "edges"), report["verification"])
    assert outputs["one"] == outputs["two"]
    assert len(pq.read_table(tmp_path / "one" / "duplicates")) == 3  # each family's (x, y)
