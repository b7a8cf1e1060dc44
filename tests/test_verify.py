"""--verify keeps a candidate edge only at exact Jaccard >= threshold; --recall picks bands;
the audit columns record band, partner and verified Jaccard."""

from __future__ import annotations

import json
import random

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from slimpajama.cli import main
from slimpajama.core.jaccard import exact_jaccard
from slimpajama.core.keytext import key_text
from slimpajama.dedup.config import ConfigError, DedupConfig

WORDS = [f"w{i}x" for i in range(5000)]


def text_at_jaccard(base: str, low: float, high: float, seed: int) -> tuple[str, float]:
    """A copy of `base` with words replaced one by one until its exact char-13 Jaccard to `base`
    falls into [low, high)."""
    rng = random.Random(seed)
    words = base.split(" ")
    for _ in range(len(words)):
        words[rng.randrange(len(words))] = rng.choice(WORDS)
        candidate = " ".join(words)
        j = exact_jaccard(key_text(base), key_text(candidate))
        if low <= j < high:
            return candidate, j
        if j < low:
            words = base.split(" ")  # overshot: start again from the base
    raise AssertionError("no text in the Jaccard band")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    rng = random.Random(0)
    base = " ".join(rng.choice(WORDS) for _ in range(400))
    near, j_near = text_at_jaccard(base, 0.80, 0.82, 1)
    far, j_far = text_at_jaccard(base, 0.45, 0.55, 2)
    root = tmp_path_factory.mktemp("verify") / "rp"
    (root / "c4").mkdir(parents=True)
    unrelated = " ".join(rng.choice(WORDS) for _ in range(400))
    lines = [json.dumps({"text": t, "meta": {}}) for t in (base, near, far, unrelated)]
    (root / "c4" / "c4-train.00000-of-01024.jsonl").write_text("\n".join(lines) + "\n")
    return root, j_near


def run(root, out, *args):
    result = CliRunner().invoke(main, ["dedup", "--input", str(root), "--output", str(out), *args],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return pq.read_table(out / "duplicates").to_pylist(), json.loads((out / "report.json").read_text())


ID = "c4/c4-train.00000-of-01024.jsonl:{}"


def test_verify_rejects_a_false_candidate_and_keeps_a_true_pair_at_081(corpus, tmp_path):
    root, j_near = corpus
    # 128 one-row bands make almost every pair with J ~ 0.5 a candidate
    rows, report = run(root, tmp_path / "v", "--bands", "128", "--rows", "1", "--verify")
    assert [r["id"] for r in rows] == [ID.format(2)]
    assert rows[0]["kept_id"] == rows[0]["matched_id"] == ID.format(1)
    assert rows[0]["jaccard"] == pytest.approx(j_near, abs=1e-6) and 0.80 <= rows[0]["jaccard"] < 0.82
    verification = report["verification"]
    assert verification["verified"] == 1 and verification["rejected"] >= 1
    assert verification["candidates"] == verification["verified"] + verification["rejected"]
    edges = pq.read_table(tmp_path / "v" / "edges").to_pylist()
    assert [(e["a_id"], e["b_id"]) for e in edges] == [(ID.format(1), ID.format(2))]


def test_without_verify_the_false_candidate_is_removed(corpus, tmp_path):
    root, _ = corpus
    rows, report = run(root, tmp_path / "nv", "--bands", "128", "--rows", "1")
    assert [r["id"] for r in rows] == [ID.format(2), ID.format(3)]
    assert all(r["jaccard"] is None for r in rows)
    assert report["verification"] is None


def test_recall_chooses_bands_and_reports_the_s_curve(corpus, tmp_path):
    root, _ = corpus
    rows, report = run(root, tmp_path / "r", "--verify", "--recall", "0.99")
    assert (report["lsh"]["bands"], report["lsh"]["rows"]) == (16, 6)
    assert report["lsh"]["chosen_by"] == "recall" and report["lsh"]["recall_at_threshold"] >= 0.99
    assert [r["id"] for r in rows] == [ID.format(2)]


def test_recall_without_verify_is_refused():
    with pytest.raises(ConfigError, match="--recall needs --verify"):
        DedupConfig(input="i", output="o", recall=0.99)
