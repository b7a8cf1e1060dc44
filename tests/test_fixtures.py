"""Bundled fixtures: reproducible generator, consistent expected.json, agreement with the reader."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path

import pytest

from slimpajama.core.sources import SET_NAMES
from slimpajama.io.inputs import (
    Document,
    Issue,
    discover_inputs,
    read_input_file,
    unrecognized_files,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
COUNT_KEYS = ("input", "kept", "short", "duplicate", "quarantined")


def _load_generator():
    spec = importlib.util.spec_from_file_location("fixtures_generate", FIXTURES / "generate.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


generate = _load_generator()


@pytest.fixture(scope="module")
def expected() -> dict:
    return json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def read_back() -> tuple[list[Document], list[Issue]]:
    """Every committed fixture file read with read_input_file."""
    documents, issues = [], []
    for f in discover_inputs(str(FIXTURES / "rp")):
        for item in read_input_file(f):
            (documents if isinstance(item, Document) else issues).append(item)
    return documents, issues


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _key(record_id: str) -> tuple[str, int]:
    relpath, line = record_id.rsplit(":", 1)
    return relpath, int(line)


def test_regenerating_gives_byte_identical_files(tmp_path: Path) -> None:
    generate.generate(tmp_path)
    fresh, committed = _tree(tmp_path / "rp"), _tree(FIXTURES / "rp")
    assert sorted(fresh) == sorted(committed)
    assert [name for name in sorted(fresh) if fresh[name] != committed[name]] == []
    assert (tmp_path / "expected.json").read_bytes() == (FIXTURES / "expected.json").read_bytes()


def test_corpus_shape(expected: dict) -> None:
    sizes = {
        f["relpath"]: (FIXTURES / "rp" / f["relpath"]).stat().st_size for f in expected["files"]
    }
    assert sum(sizes.values()) < 1.5 * 2**20
    assert {f["relpath"]: f["bytes"] for f in expected["files"]} == sizes
    assert {relpath.split("/")[0] for relpath in sizes} == set(SET_NAMES)
    snapshots = {r.split("/")[1] for r in sizes if r.startswith("common_crawl/")}
    assert snapshots == {"2019-30", "2023-06"}
    assert all(
        r.endswith(".json.gz.dedup.classifier.jsonl.zst")
        for r in sizes
        if r.startswith("common_crawl/")
    )
    suffixes = {r.rsplit(".", 1)[-1] for r in sizes if not r.startswith("common_crawl/")}
    assert suffixes == {"jsonl", "zst", "gz"}


@pytest.mark.parametrize("scope", ["global", "local"])
def test_expected_counts_are_consistent(expected: dict, scope: str) -> None:
    result = expected[scope]
    records = expected["records"]
    quarantined = {q["id"] for q in expected["quarantined"]}
    documents = {i: r for i, r in records.items() if i not in quarantined}
    short = {i for i, r in documents.items() if r["key_chars"] < expected["options"]["min_chars"]}
    removed = result["removed"]
    assert removed == sorted(removed, key=_key) and len(set(removed)) == len(removed)
    assert set(removed) <= set(documents) - short
    clustered = [i for c in result["clusters"] for i in [c["kept"], *c["removed"]]]
    assert len(clustered) == len(set(clustered))
    assert sorted(r for c in result["clusters"] for r in c["removed"]) == sorted(removed)
    for cluster in result["clusters"]:
        assert all(_key(cluster["kept"]) < _key(r) for r in cluster["removed"])
        groups = {records[i]["group"] for i in [cluster["kept"], *cluster["removed"]]}
        assert len(groups) == 1
        if scope == "local":
            names = {records[i]["set_name"] for i in [cluster["kept"], *cluster["removed"]]}
            assert len(names) == 1
    per_source = result["per_source"]
    assert list(per_source) == list(SET_NAMES.values())
    for name, counts in per_source.items():
        assert (
            counts["input"]
            == counts["kept"] + counts["short"] + counts["duplicate"] + counts["quarantined"]
        )
        mine = {i for i, r in documents.items() if r["set_name"] == name}
        assert counts["short"] == len(mine & short)
        assert counts["duplicate"] == len(mine & set(removed))
        assert counts["quarantined"] == sum(SET_NAMES[q.split("/")[0]] == name for q in quarantined)
    assert result["total"] == {k: sum(c[k] for c in per_source.values()) for k in COUNT_KEYS}
    assert result["total"]["input"] == len(records)


def test_global_and_local_removals(expected: dict) -> None:
    glob, local = set(expected["global"]["removed"]), set(expected["local"]["removed"])
    assert local < glob  # keep-first: a local non-keeper is never the global keeper
    assert len(glob) == 19 and len(local) == 14
    assert expected["global"]["total"] == {
        "input": 137,
        "kept": 98,
        "short": 11,
        "duplicate": 19,
        "quarantined": 9,
    }
    assert expected["local"]["total"] == {
        "input": 137,
        "kept": 103,
        "short": 11,
        "duplicate": 14,
        "quarantined": 9,
    }


def test_planted_pairs_and_brute_force(expected: dict) -> None:
    near = [p for p in expected["pairs"] if (p["group"] or "").startswith("near")]
    far = [p for p in expected["pairs"] if p["group"] is None]
    copies = [p for p in expected["pairs"] if p["group"] and not p["group"].startswith("near")]
    assert len(near) == 5 and all(0.97 <= p["jaccard"] < 1 for p in near)
    assert len(far) == 2 and all(p["jaccard"] <= 0.5 for p in far)
    assert copies and all(p["jaccard"] == 1.0 for p in copies)
    assert expected["brute_force"]["max_unplanted_jaccard"] < 0.6
    clusters = sorted(sorted([c["kept"], *c["removed"]]) for c in expected["global"]["clusters"])
    assert sorted(sorted(c) for c in expected["brute_force"]["clusters"]) == clusters
    kinds = Counter(r["kind"] for r in expected["records"].values())
    assert kinds["unique"] > len(expected["records"]) / 2
    for case in (
        "missing_text",
        "null_text",
        "numeric_text",
        "not_json",
        "json_array",
        "invalid_utf8",
        "meta_missing",
        "meta_null",
        "meta_not_object",
        "unknown_set_name",
        "truncated_line",
        "short_twin",
        "short_boundary",
        "long_boundary",
        "lone_cr",
        "relabelled",
    ):
        assert kinds[case] >= 1, case
    assert kinds["short_twin"] == 2


def test_reader_finds_exactly_the_expected_files(expected: dict) -> None:
    found = discover_inputs(str(FIXTURES / "rp"))
    assert [f.relpath for f in found] == [f["relpath"] for f in expected["files"]]
    assert unrecognized_files(str(FIXTURES / "rp")) == expected["unrecognized_files"]


def test_reader_reports_exactly_the_expected_issues(expected: dict, read_back) -> None:
    _, issues = read_back
    by_kind = {
        kind: [i for i in issues if i.kind == kind] for kind in ("quarantined", "warning", "file")
    }
    assert len(issues) == sum(len(v) for v in by_kind.values())
    assert sorted((f"{i.relpath}:{i.line}", i.reason) for i in by_kind["quarantined"]) == sorted(
        (q["id"], q["reason"]) for q in expected["quarantined"]
    )
    assert all(i.raw for i in by_kind["quarantined"])
    assert sorted((f"{i.relpath}:{i.line}", i.reason) for i in by_kind["warning"]) == sorted(
        (w["id"], w["reason"]) for w in expected["warnings"]
    )
    assert all(i.line == 0 for i in by_kind["file"])
    assert sorted((i.relpath, i.reason) for i in by_kind["file"]) == sorted(
        (f["relpath"], f["reason"]) for f in expected["file_issues"]
    )


def test_reader_documents_match_the_design(expected: dict, read_back) -> None:
    documents, _ = read_back
    quarantined = {q["id"] for q in expected["quarantined"]}
    designed = {i: r for i, r in expected["records"].items() if i not in quarantined}
    read = {f"{d.relpath}:{d.line}": d for d in documents}
    assert len(read) == len(documents)
    assert sorted(read, key=_key) == sorted(designed, key=_key)
    for record_id, doc in read.items():
        assert doc.set_name == designed[record_id]["set_name"], record_id
        assert len(generate.key_text(generate.fix(doc.text))) == designed[record_id]["key_chars"], (
            record_id
        )
        assert "redpajama_set_name" not in doc.meta
    inputs = Counter(d.set_name for d in documents) + Counter(
        SET_NAMES[q.split("/")[0]] for q in quarantined
    )
    assert dict(inputs) == {n: c["input"] for n, c in expected["global"]["per_source"].items()}
