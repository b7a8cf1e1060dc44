"""The real `slimpajama dedup` CLI on the bundled fixtures: exact counts, ids, clusters and bytes."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from slimpajama.cli import main
from slimpajama.core.union_find import connected_components
from slimpajama.dedup.pipeline import commit_part
from slimpajama.dedup.units import AUDIT_FILES_PER_PART
from slimpajama.io.release import list_release_files, read_release_file

pytestmark = pytest.mark.beam

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "rp"
EXPECTED = json.loads((ROOT / "fixtures" / "expected.json").read_text())
FILE_INDEX = {f["relpath"]: i for i, f in enumerate(EXPECTED["files"])}  # sorted relpath order


def dedup(*args: str) -> tuple[int, str]:
    """Run the CLI in-process; (exit status, combined output)."""
    result = CliRunner().invoke(main, ["dedup", *args], catch_exceptions=False)
    return result.exit_code, result.output


def dedup_subprocess(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "slimpajama.cli", "dedup", *args], capture_output=True, text=True,
        env={**os.environ, **(env or {})}, cwd=ROOT, timeout=600,
    )


def output_bytes(out: Path) -> dict[str, bytes]:
    """Every output file's bytes; report.json without its run-specific section and paths
    (report.html shows them too: it is left out, test_report_html checks it)."""
    files = {}
    for path in sorted(out.rglob("*")):
        if path.is_file() and path.name != "report.html":
            files[str(path.relative_to(out))] = path.read_bytes()
    report = json.loads(files.pop("report.json"))
    report.pop("run")
    for key in ("input", "output"):
        report["options"].pop(key)
    files["report.json"] = json.dumps(report, sort_keys=True).encode()
    return files


@pytest.fixture(scope="module")
def global_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("global") / "sp"
    status, output = dedup("--input", str(FIXTURES), "--output", str(out))
    assert status == 0, output
    return out


def check_against_expected(out: Path, scope: str) -> None:
    expected = EXPECTED[scope]
    report = json.loads((out / "report.json").read_text())
    assert report["accounting"] == {"ok": True, "errors": []}
    got = {
        name: {"input": row["docs_in"], "kept": row["kept"], "short": row["short"],
               "duplicate": row["duplicate"], "quarantined": row["quarantined"]}
        for name, row in report["sources"].items() if name != "total"
    }
    assert got == expected["per_source"]
    rows = audit_rows(out, "duplicates")
    assert [r["id"] for r in rows] == sorted(expected["removed"], key=_id_order)
    assert parts_of(out, "duplicates", "id") == by_part(expected["removed"])
    clusters = {}
    for r in rows:
        clusters.setdefault(r["kept_id"], []).append(r["id"])
    assert clusters == {c["kept"]: sorted(c["removed"], key=_id_order) for c in expected["clusters"]}
    kept = [r for f in list_release_files(str(out), "train") for r in read_release_file(f)]
    assert len(kept) == expected["total"]["kept"]


def _id_order(doc_id: str) -> tuple[str, int]:
    relpath, line = doc_id.rsplit(":", 1)
    return relpath, int(line)


def audit_rows(out: Path, folder: str) -> list[dict]:
    """The rows of an audit folder's parquet parts, in part order."""
    return [r for path in sorted((out / folder).glob("part-*.parquet")) for r in pq.read_table(path).to_pylist()]


def parts_of(out: Path, folder: str, column: str) -> dict[str, list]:
    """{part file name: its `column` values in file order}."""
    return {path.name: pq.read_table(path).column(column).to_pylist()
            for path in sorted((out / folder).glob("part-*.parquet"))}


def by_part(ids: list[str], suffix: str = "parquet") -> dict[str, list[str]]:
    """Where ids must be: part NNNNN holds the ids of input files 4·NNNNN.. 4·NNNNN+3, sorted."""
    parts: dict[str, list[str]] = {}
    for doc_id in sorted(ids, key=_id_order):
        part = FILE_INDEX[doc_id.rsplit(":", 1)[0]] // AUDIT_FILES_PER_PART
        parts.setdefault(f"part-{part:05d}.{suffix}", []).append(doc_id)
    return dict(sorted(parts.items()))


def test_global_scope_removes_exactly_the_expected_documents(global_run):
    check_against_expected(global_run, "global")


def test_local_scope_removes_exactly_the_expected_documents(tmp_path):
    status, output = dedup("--input", str(FIXTURES), "--output", str(tmp_path / "sp"), "--scope", "local")
    assert status == 0, output
    check_against_expected(tmp_path / "sp", "local")


def test_quarantine_lists_every_bad_record_with_its_reason(global_run):
    parts = {path.name: [json.loads(line) for line in path.open()]
             for path in sorted((global_run / "quarantine").glob("*"))}
    issues = [issue for part in parts.values() for issue in part]
    quarantined = {i["id"]: i["reason"] for i in issues if i["kind"] == "quarantined"}
    assert quarantined == {q["id"]: q["reason"] for q in EXPECTED["quarantined"]}
    every_id = [q["id"] for q in EXPECTED["quarantined"]] + [w["id"] for w in EXPECTED["warnings"]] + [
        f"{f['relpath']}:0" for f in EXPECTED["file_issues"]]
    assert {name: [i["id"] for i in part] for name, part in parts.items()} == by_part(every_id, "jsonl")
    for part in parts.values():
        assert part == sorted(part, key=lambda i: (i["relpath"], i["line"], i["kind"], i["reason"]))
    report = json.loads((global_run / "report.json").read_text())
    assert report["issues"]["by_kind"] == {
        "file": len(EXPECTED["file_issues"]), "quarantined": len(EXPECTED["quarantined"]),
        "warning": len(EXPECTED["warnings"]),
    }
    assert report["unrecognized_files"] == EXPECTED["unrecognized_files"]


def test_release_records_carry_set_name_and_original_metadata(global_run):
    first = next(read_release_file(list_release_files(str(global_run), "train")[0]))
    assert list(first) == ["text", "meta"]
    assert list(first["meta"])[0] == "redpajama_set_name"
    assert not (global_run / "_work").exists() and not Path(f"{global_run}.partial").exists()


def test_short_and_edge_parts_hold_exactly_the_expected_rows(global_run):
    records = EXPECTED["records"]
    quarantined = {q["id"] for q in EXPECTED["quarantined"]}
    short = {i: r["key_chars"] for i, r in records.items() if i not in quarantined and r["key_chars"] < 200}
    assert parts_of(global_run, "short", "id") == by_part(list(short))
    assert {r["id"]: r["key_chars"] for r in audit_rows(global_run, "short")} == short
    edges = audit_rows(global_run, "edges")
    assert parts_of(global_run, "edges", "a_id") == by_part([e["a_id"] for e in edges])
    assert all(_id_order(e["a_id"]) < _id_order(e["b_id"]) and e["jaccard"] is None for e in edges)
    clusters = {}
    for root, node in ((r, n) for n, r in connected_components((e["a_id"], e["b_id"]) for e in edges).items()):
        clusters.setdefault(root, set()).add(node)
    expected = [{c["kept"], *c["removed"]} for c in EXPECTED["global"]["clusters"]]
    assert sorted(map(sorted, clusters.values())) == sorted(map(sorted, expected))
    assert len(edges) == 19  # a spanning forest of the 19 removed documents' clusters here


def test_a_part_is_committed_whole_by_rename(tmp_path):
    for data in (b"first", b"second"):  # a retried writer replaces the part
        commit_part(str(tmp_path), "edges/part-00007.parquet", data)
    assert (tmp_path / "edges" / "part-00007.parquet").read_bytes() == b"second"
    assert [p.name for p in (tmp_path / "edges").iterdir()] == ["part-00007.parquet"]
    assert list((tmp_path / "_work" / "parts").iterdir()) == []  # no temporary left behind


@pytest.mark.parametrize("workers", [
    ["--direct_running_mode", "multi_processing", "--direct_num_workers", "1"],
    ["--direct_running_mode", "multi_processing", "--direct_num_workers", "2"],
    ["--direct_num_workers", "1"],  # in-memory runner, scan and write inline
    ["--direct_num_workers", "3"],  # in-memory runner, scan and write in a pool of 3 processes
])
def test_same_bytes_in_multiprocess_mode_other_hash_seed_and_file_order(global_run, tmp_path, workers):
    shuffled = tmp_path / "rp"
    files = sorted(p for p in FIXTURES.rglob("*") if p.is_file())
    for path in reversed(files):  # different creation order => different directory listing order
        target = shuffled / path.relative_to(FIXTURES)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    out = tmp_path / "sp"
    done = dedup_subprocess(
        "--input", str(shuffled), "--output", str(out), *workers,
        env={"PYTHONHASHSEED": "12345"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert output_bytes(out) == output_bytes(global_run)


def test_portable_runner_gives_the_same_bytes(global_run, tmp_path):
    out = tmp_path / "sp"
    status, output = dedup(
        "--input", str(FIXTURES), "--output", str(out), "--runner", "PortableRunner",
        "--job_endpoint", "embed", "--environment_type", "LOOPBACK",
    )
    assert status == 0, output
    assert output_bytes(out) == output_bytes(global_run)


def test_strict_exits_1_after_writing_the_report(tmp_path):
    status, output = dedup("--input", str(FIXTURES), "--output", str(tmp_path / "sp"), "--strict")
    assert status == 1
    assert "--strict: 9 records quarantined" in output
    assert (tmp_path / "sp" / "report.json").exists()


@pytest.mark.parametrize(
    "make_args, message",
    [
        (lambda t: ["--input", str(t / "missing"), "--output", str(t / "o")], "input folder does not exist"),
        (lambda t: ["--input", str(t), "--output", str(t / "o")], "no recognizable input files"),
        (lambda t: ["--input", str(FIXTURES), "--output", str(FIXTURES / "c4" / "out")], "is inside --input"),
        (lambda t: ["--input", str(FIXTURES), "--output", str(t), "--scope", "local"], "is not empty"),
        (lambda t: ["--input", str(FIXTURES), "--output", str(t / "o"), "--bands", "20", "--rows", "13"], "> --num-perm 128"),
        (lambda t: ["--input", str(FIXTURES), "--output", str(t / "o"), "--recipe", "nope"], "unknown recipe 'nope'"),
        (lambda t: ["--input", str(FIXTURES), "--output", str(t / "o"), "--veriffy"], "unknown option --veriffy"),
        (lambda t: ["--input", str(FIXTURES), "--output", str(t / "o"), "--preset", "slimpajama", "--recipe", "local"], "exclude each other"),
    ],
)
def test_user_errors_are_one_line_with_status_2(tmp_path, make_args, message):
    (tmp_path / "stray.txt").write_text("not an input")
    status, output = dedup(*make_args(tmp_path))
    assert status == 2
    assert output.count("\n") == 1 and message in output and "Traceback" not in output


def test_a_single_50_mb_line_is_a_document_like_any_other(tmp_path):
    words = [f"word{i}" for i in range(20000)]
    rng = random.Random(0)
    big = " ".join(rng.choice(words) for _ in range(5_500_000))[:50_000_000]
    source = tmp_path / "rp" / "c4" / "c4-train.00000-of-01024.jsonl"
    source.parent.mkdir(parents=True)
    with source.open("w") as fh:
        for text in ("a normal document " * 20, big, big):
            fh.write(json.dumps({"text": text, "meta": {}}) + "\n")
    assert source.stat().st_size > 100_000_000
    status, output = dedup("--input", str(tmp_path / "rp"), "--output", str(tmp_path / "sp"))
    assert status == 0, output
    rows = audit_rows(tmp_path / "sp", "duplicates")
    assert [(r["id"], r["kept_id"], r["bytes"]) for r in rows] == [
        ("c4/c4-train.00000-of-01024.jsonl:3", "c4/c4-train.00000-of-01024.jsonl:2", 50_000_000)
    ]


def test_source_priority_keeps_the_wikipedia_copy_and_removes_the_c4_one(tmp_path):
    status, output = dedup("--input", str(FIXTURES), "--output", str(tmp_path / "sp"),
                           "--keep", "source-priority")
    assert status == 0, output
    rows = audit_rows(tmp_path / "sp", "duplicates")
    wiki, c4 = "wikipedia/wiki.jsonl:3", "c4/c4-train.00000-of-01024.jsonl:4"
    expected = (set(EXPECTED["global"]["removed"]) - {wiki}) | {c4}
    assert {r["id"] for r in rows} == expected
    assert {r["kept_id"] for r in rows if r["cluster_id"] == c4} == {wiki}


@pytest.mark.parametrize("components", [["--components", "union-find"], ["--components", "distributed"],
                                        ["--recipe", "BUDGET0"], ["--verify"]])
def test_every_components_path_gives_the_same_bytes(global_run, tmp_path, components, monkeypatch):
    """auto (the default) runs the array union-find on a local runner; union-find forces it,
    distributed forces the star rounds, and so does auto with an edge budget of 0 on a runner
    taken for a distributed one (the run-time switch by edge count)."""
    if components == ["--recipe", "BUDGET0"]:
        monkeypatch.setattr("slimpajama.dedup.pipeline.is_local_runner", lambda options: False)
        recipe = tmp_path / "budget0.json"
        recipe.write_text(json.dumps({"component_edge_budget": 0}))
        components = ["--recipe", str(recipe)]
    if components == ["--verify"]:  # verified edges through both paths
        baseline = tmp_path / "verified"
        assert dedup("--input", str(FIXTURES), "--output", str(baseline), "--verify")[0] == 0
        global_run = baseline
        components = ["--verify", "--components", "distributed"]
    out = tmp_path / "sp"
    status, output = dedup("--input", str(FIXTURES), "--output", str(out), *components)
    assert status == 0, output
    expected = output_bytes(global_run)
    got = output_bytes(out)
    assert [name for name in got if name.startswith("train/") and got[name] != expected[name]] == []
    report_keys = ("components", "component_rounds", "component_edge_budget", "recipe")
    for files in (expected, got):  # the option itself is recorded; everything else must match
        report = json.loads(files["report.json"])
        for key in report_keys:
            report["options"].pop(key)
        files["report.json"] = json.dumps(report, sort_keys=True).encode()
    assert got == expected


def test_unconverged_components_exit_4_with_one_line(tmp_path, monkeypatch):
    import slimpajama.dedup.run

    def wrapped_failure(cfg, options, progress=None, processes=1):
        raise RuntimeError(
            "Traceback ...\nslimpajama.clusters_beam.ComponentsNotConverged: connected components did "
            "not converge in 1 rounds (document key 7 is unsettled); rerun with --component-rounds 2"
            " [while running 'Node summaries']"
        )

    monkeypatch.setattr(slimpajama.dedup.run, "launch", wrapped_failure)
    status, output = dedup("--input", str(FIXTURES), "--output", str(tmp_path / "sp"),
                           "--components", "distributed", "--component-rounds", "1")
    assert status == 4
    assert output == (
        "slimpajama: error: connected components did not converge in 1 rounds (document key 7 is "
        f"unsettled); rerun with --component-rounds 2; nothing was written to {tmp_path / 'sp'}\n"
    )
    assert not (tmp_path / "sp").exists()


def test_dedup_then_mix_in_one_command(tmp_path):
    out = tmp_path / "mix"
    status, output = dedup("--input", str(FIXTURES), "--output", str(out), "--mixture", "slimpajama-627b",
                           "--holdout", "0.1")
    assert status == 0, output
    dedup_report = json.loads((tmp_path / "mix-dedup" / "report.json").read_text())
    assert dedup_report["sources"]["total"]["kept"] == EXPECTED["global"]["total"]["kept"]
    mix_report = json.loads((out / "report.json").read_text())
    assert mix_report["mixture"] == "slimpajama-627b"
    assert {name: row["target_share"] for name, row in mix_report["sources"].items()} == {
        "RedPajamaArXiv": 4.6, "RedPajamaBook": 4.2, "RedPajamaC4": 26.7, "RedPajamaCommonCrawl": 52.2,
        "RedPajamaGithub": 5.2, "RedPajamaStackExchange": 3.3, "RedPajamaWikipedia": 3.8,
    }
    docs = {split: sum(1 for f in list_release_files(str(out), split) for _ in read_release_file(f))
            for split in ("train", "validation", "test")}
    assert docs == {split: sum(row[split]["docs"] for row in mix_report["sources"].values())
                    for split in docs}
    assert docs["validation"] + docs["test"] > 0 and docs["train"] > 50
    assert "shares of" in output and f"wrote {out}" in output


def test_mix_and_tokenize_do_not_depend_on_the_hash_seed(global_run, tmp_path):
    def chain(name: str, seed: str) -> tuple[dict[str, bytes], dict[str, bytes]]:
        env = {**os.environ, "PYTHONHASHSEED": seed}
        mix, tok = tmp_path / f"mix-{name}", tmp_path / f"tok-{name}"
        for args in (["mix", "--input", str(global_run), "--mixture", "slimpajama-627b", "--output",
                      str(mix), "--holdout", "0.1"],
                     ["tokenize", "--input", str(mix), "--output", str(tok)]):
            done = subprocess.run([sys.executable, "-m", "slimpajama.cli", *args], env=env, cwd=ROOT,
                                  capture_output=True, text=True, timeout=600)
            assert done.returncode == 0, done.stderr[-2000:]
        return ({str(p.relative_to(mix)): p.read_bytes() for p in sorted(mix.rglob("*")) if p.is_file()},
                {str(p.relative_to(tok)): p.read_bytes() for p in sorted(tok.rglob("*")) if p.is_file()})

    first, second = chain("a", "1"), chain("b", "98765")
    for files_a, files_b in zip(first, second, strict=True):
        for files in (files_a, files_b):  # the output path itself is recorded; blank it
            for name in ("report.json", "manifest.json"):
                if name in files:
                    files[name] = json.dumps(
                        {k: v for k, v in json.loads(files[name]).items() if k not in ("input", "output")},
                        sort_keys=True,
                    ).encode()
        assert files_a == files_b
    assert any(name.endswith(".bin") for name in first[1])
