"""`slimpajama explain` on the fixtures' dedup output, and the path search it uses."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from slimpajama.cli import main
from slimpajama.dedup.explain import _rows, edge_path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "rp"
C4 = "c4/c4-train.00000-of-01024.jsonl"


@pytest.fixture(scope="module")
def verified_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("explain") / "sp"
    result = CliRunner().invoke(main, ["dedup", "--input", str(FIXTURES), "--output", str(out), "--verify"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out


def explain(out: Path, doc_id: str) -> tuple[int, list[str]]:
    result = CliRunner().invoke(main, ["explain", str(out), doc_id])
    return result.exit_code, result.output.splitlines()


@pytest.mark.beam
def test_removed_document_shows_cluster_keeper_and_path(verified_run):
    assert explain(verified_run, "wikipedia/wiki.jsonl:3") == (0, [
        "wikipedia/wiki.jsonl:3: REMOVED as a duplicate (RedPajamaWikipedia, 1590 bytes)",
        f"  cluster {C4}:4 (4 documents), kept: {C4}:4 (--keep first)",
        f"  first matched {C4}:4 in band 0, exact Jaccard 1.0000",
        "  path to the kept document:",
        f"    wikipedia/wiki.jsonl:3 -> {C4}:4: band 0, Jaccard 1.0000",
    ])


@pytest.mark.beam
def test_kept_short_quarantined_and_unknown(verified_run):
    status, lines = explain(verified_run, f"{C4}:4")
    assert status == 0 and lines[0] == f"{C4}:4: KEPT as the representative of cluster {C4}:4 (--keep first)"
    assert "  removed in its favour: wikipedia/wiki.jsonl:3" in lines and len(lines) == 4
    arxiv = "arxiv/arxiv_7de74abd-db77-9c65-1a26-62c1ead6b924.jsonl"
    assert explain(verified_run, f"{arxiv}:5") == (0, [f"{arxiv}:5: QUARANTINED: missing text"])
    assert explain(verified_run, f"{arxiv}:8") == (
        0, [f"{arxiv}:8: SHORT: key text of 112 characters < --min-chars 200"])
    status, lines = explain(verified_run, "garbage")
    assert status == 2 and lines == ["slimpajama: error: not a document id (expected relpath:line): garbage"]


def test_edge_path_is_the_shortest_chain():
    def edge(a, b, band):
        return {"a_id": a, "b_id": b, "band": band, "jaccard": None}

    edges = [edge("a", "b", 1), edge("b", "c", 2), edge("c", "d", 3), edge("a", "x", 4), edge("x", "d", 5)]
    assert [(n, e["band"]) for n, e in edge_path(edges, "a", "d")] == [("x", 4), ("d", 5)]
    assert [(n, e["band"]) for n, e in edge_path(edges, "b", "d")] == [("c", 2), ("d", 3)]
    assert edge_path(edges, "d", "d") == []


@pytest.mark.beam
def test_rows_are_read_by_filter_across_part_files(verified_run):
    assert len(list((verified_run / "duplicates").glob("part-*.parquet"))) > 1  # a cluster spans parts
    rows = _rows(str(verified_run), "duplicates", "cluster_id", [f"{C4}:4"])
    cc = "json.gz.dedup.classifier.jsonl.zst:4"
    assert [(r["id"], r["kept_id"]) for r in rows] == [
        (f"common_crawl/2019-30/en_head_0000.{cc}", f"{C4}:4"),
        (f"common_crawl/2023-06/en_head_0000.{cc}", f"{C4}:4"),
        ("wikipedia/wiki.jsonl:3", f"{C4}:4"),
    ]
    assert _rows(str(verified_run), "short", "id", ["wikipedia/wiki.jsonl:3"]) == []
    assert _rows(str(verified_run / "missing"), "edges", "a_id", ["x"]) == []
