"""The resume contract's refusal rules: same command, options, version and input listing, or refuse."""

from __future__ import annotations

import os

import pytest

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
