"""The resume contract's refusal rules: same command, options, version and input listing, or refuse."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_dedup_pipeline import output_bytes

from slimpajama import __version__
from slimpajama.resume import (
    ResumeRefused,
    check_resumable,
    fingerprint,
    input_listing,
    write_fingerprint,
)


@pytest.fixture()
def inputs(tmp_path):
    root = tmp_path / "rp"
    (root / "c4").mkdir(parents=True)
    for name, body in (("a.jsonl", b'{"text": "x"}\n'), ("b.jsonl", b"")):
        (root / "c4" / name).write_bytes(body)
        os.utime(root / "c4" / name, (1_700_000_000, 1_700_000_000))
    return {f"c4/{n}": str(root / "c4" / n) for n in ("b.jsonl", "a.jsonl")}


def test_listing_is_sorted_with_sizes_and_mtimes(inputs):
    assert input_listing(inputs) == [["c4/a.jsonl", 14, 1_700_000_000.0], ["c4/b.jsonl", 0, 1_700_000_000.0]]


def test_same_run_resumes_and_every_difference_is_refused_in_one_line(inputs, tmp_path):
    work = str(tmp_path / "work")
    run = fingerprint("dedup", {"threshold": 0.8, "bands": 9}, input_listing(inputs))
    assert run["version"] == __version__
    write_fingerprint(work, run)
    check_resumable(work, fingerprint("dedup", {"bands": 9, "threshold": 0.8}, input_listing(inputs)))

    refusals = {
        "options": fingerprint("dedup", {"threshold": 0.7, "bands": 9}, input_listing(inputs)),
        "command": fingerprint("mix", {"threshold": 0.8, "bands": 9}, input_listing(inputs)),
        "version": {**run, "version": "9.9.9"},
    }
    messages = {}
    for key, other in refusals.items():
        with pytest.raises(ResumeRefused) as refused:
            check_resumable(work, other)
        messages[key] = str(refused.value)
    os.utime(inputs["c4/b.jsonl"], (1_700_000_001, 1_700_000_001))
    with pytest.raises(ResumeRefused) as refused:
        check_resumable(work, fingerprint("dedup", {"threshold": 0.8, "bands": 9}, input_listing(inputs)))
    messages["inputs"] = str(refused.value)
    assert messages == {
        "options": "cannot resume: the options differ from the interrupted run's (threshold)",
        "command": "cannot resume: the command differs from the interrupted run's",
        "version": f"cannot resume: the package version differs from the interrupted run's ({__version__} -> 9.9.9)",
        "inputs": "cannot resume: the input listing differs from the interrupted run's (c4/b.jsonl)",
    }


def test_nothing_to_resume(tmp_path):
    with pytest.raises(ResumeRefused, match="nothing to resume"):
        check_resumable(str(tmp_path), fingerprint("dedup", {}, []))


# ------------------------------------------------------------------ the commands, end to end

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "rp"


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "slimpajama.cli", *args], capture_output=True,
                          text=True, cwd=ROOT, env={**os.environ, **(env or {})}, timeout=600)


def stderr_lines(done: subprocess.CompletedProcess) -> list[str]:
    """Our stderr lines (Beam's own warnings left out)."""
    return [line for line in done.stderr.splitlines() if not line.startswith(("WARNING", "INFO"))]


@pytest.mark.beam
@pytest.mark.slow
def test_dedup_killed_mid_scan_resumes_to_the_same_bytes_and_refuses_other_options(tmp_path):
    fresh, resumed = tmp_path / "fresh", tmp_path / "resumed"
    assert cli("dedup", "--input", str(FIXTURES), "--output", str(fresh), "-q").returncode == 0

    killed = cli("dedup", "--input", str(FIXTURES), "--output", str(resumed), "-q",
                 "--direct_num_workers", "1",  # scan in this process: it dies after exactly 5 files
                 env={"SLIMPAJAMA_ABORT_AFTER_UNITS": "5"})
    assert killed.returncode == 137  # died like kill -9 after committing its 5th scanned file
    partial = tmp_path / "resumed.partial" / "_work"
    assert len(os.listdir(partial / "progress" / "scan")) == 5

    refused = cli("dedup", "--input", str(FIXTURES), "--output", str(resumed), "--resume", "--min-chars", "100")
    assert refused.returncode == 2
    assert stderr_lines(refused) == [
        "slimpajama: error: cannot resume: the options differ from the interrupted run's (min_chars)"]

    done = cli("dedup", "--input", str(FIXTURES), "--output", str(resumed), "--resume", "-q")
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads((resumed / "report.json").read_text())["run"]["resumed_files"] == 5
    assert output_bytes(resumed) == output_bytes(fresh)


@pytest.mark.beam
def test_dedup_prints_progress_lines_on_stderr_and_quiet_prints_none(tmp_path):
    done = cli("dedup", "--input", str(FIXTURES), "--output", str(tmp_path / "a"),
               env={"SLIMPAJAMA_PROGRESS_INTERVAL": "600"})
    assert done.returncode == 0
    progress = re.compile(r"^(\w+): files (\d+)/(\d+), ([\d,]+) docs, ([\d,]+) MB, \d+\.\d MB/s, ETA (\d\d:\d\d)$")
    lines = [line for line in stderr_lines(done)]
    assert [progress.sub(r"\1 \2/\3 \4 \5 \6", line) for line in lines[:2] + lines[3:5]] == [
        "scan: started, 16 files", "scan 16/16 137 0 00:00",
        "write: started, 16 files", "write 16/16 98 0 00:00"]
    assert re.fullmatch(r"scan: done in \d\d:\d\d", lines[2])
    assert re.fullmatch(r"write: done in \d\d:\d\d", lines[5]) and len(lines) == 6
    assert "scan:" not in done.stdout  # stdout keeps only the table
    quiet = cli("dedup", "--input", str(FIXTURES), "--output", str(tmp_path / "b"), "--quiet")
    assert quiet.returncode == 0 and stderr_lines(quiet) == []


def tree_bytes(out: Path) -> dict[str, bytes]:
    """Every file's bytes, report.html left out (it shows paths)."""
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.name != "report.html"}


@pytest.fixture(scope="module")
def dedup_output(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("resume") / "sp"
    assert cli("dedup", "--input", str(FIXTURES), "--output", str(out), "-q").returncode == 0
    return out


@pytest.mark.beam
@pytest.mark.slow
def test_mix_then_tokenize_killed_mid_run_resume_to_the_same_bytes(dedup_output, tmp_path):
    mix_args = ["--mixture", "slimpajama-627b", "--holdout", "0.1", "--counter", "bytes", "-q"]
    fresh = tmp_path / "fresh"
    assert cli("mix", "--input", str(dedup_output), "--output", str(fresh), *mix_args).returncode == 0
    resumed = tmp_path / "resumed"
    killed = cli("mix", "--input", str(dedup_output), "--output", str(resumed), *mix_args,
                 "--direct_num_workers", "1",  # scan in this process: it dies after exactly 3 files
                 env={"SLIMPAJAMA_ABORT_AFTER_UNITS": "3"})
    assert killed.returncode == 137
    assert len(os.listdir(tmp_path / "resumed.tmp" / "progress" / "scan")) == 3
    refused = cli("mix", "--input", str(dedup_output), "--output", str(resumed), *mix_args[:-1],
                  "--seed", "5", "--resume")
    assert refused.returncode == 2
    assert stderr_lines(refused) == [
        "slimpajama: error: cannot resume: the options differ from the interrupted run's (seed)"]
    done = cli("mix", "--input", str(dedup_output), "--output", str(resumed), *mix_args, "--resume")
    assert done.returncode == 0, done.stderr[-2000:]
    assert tree_bytes(resumed) == tree_bytes(fresh) and not (tmp_path / "resumed.tmp").exists()

    tok_fresh, tok_resumed = tmp_path / "tok-fresh", tmp_path / "tok-resumed"
    assert cli("tokenize", "--input", str(fresh), "--output", str(tok_fresh), "-q").returncode == 0
    killed = cli("tokenize", "--input", str(fresh), "--output", str(tok_resumed), "-q",
                 "--direct_num_workers", "1",  # tokenize in this process: it dies after exactly 1 file
                 env={"SLIMPAJAMA_ABORT_AFTER_UNITS": "1"})
    assert killed.returncode == 137
    assert len(os.listdir(tmp_path / "tok-resumed.tmp" / "progress" / "tokenize")) == 1
    nothing = cli("tokenize", "--input", str(fresh), "--output", str(tmp_path / "other"), "--resume")
    assert nothing.returncode == 2 and "nothing to resume" in stderr_lines(nothing)[-1]
    done = cli("tokenize", "--input", str(fresh), "--output", str(tok_resumed), "--resume", "-q")
    assert done.returncode == 0, done.stderr[-2000:]
    assert tree_bytes(tok_resumed) == tree_bytes(tok_fresh)


def test_common_folder_of_local_and_remote_paths():
    from slimpajama.resume import common_folder

    assert common_folder(["gs://b/rp/c4/1.jsonl", "gs://b/rp/book/2.jsonl.zst"]) == "gs://b/rp"
    assert common_folder(["/data/rp/c4/1.jsonl"]) == "/data/rp/c4"
    assert common_folder(["rp/x/1.jsonl", "rp/xy/2.jsonl"]) == "rp"  # whole names, not prefixes
    assert common_folder(["1.jsonl", "2.jsonl"]) == ""


def test_input_listing_is_one_listing_not_one_request_per_file(monkeypatch):
    from apache_beam.io.filesystems import FileSystems

    from slimpajama.io.inputs import discover_inputs
    from slimpajama.resume import input_listing

    files = discover_inputs(str(FIXTURES))
    expected = [[f.relpath, os.path.getsize(f.path), os.path.getmtime(f.path)] for f in files]
    patterns = []
    match = FileSystems.match
    monkeypatch.setattr(FileSystems, "match", lambda p, *a, **k: patterns.append(p) or match(p, *a, **k))
    assert input_listing({f.relpath: f.path for f in files}) == expected and len(files) == 16
    assert patterns == [[os.path.join(str(FIXTURES), "**")]]
