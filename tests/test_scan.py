"""scan_file without Beam: exact events, counts, staged lines and band keys for one file."""

import json

import numpy as np

from slimpajama.core.keytext import key_text
from slimpajama.core.lsh import band_keys
from slimpajama.core.minhash import MinHashParams, signatures
from slimpajama.dedup.config import DedupConfig
from slimpajama.dedup.scan import (
    SET_INDEX,
    doc_key,
    parse_staged_line,
    scan_file,
    split_doc_key,
    staged_line,
)
from slimpajama.io.inputs import InputFile, Issue
from slimpajama.io.release import encode_record

LONG = "The quick brown fox jumps over the lazy dog near the riverbank. " * 5
OTHER = "Completely different words describe a sunny afternoon in the mountains. " * 5


def test_scan_events_in_input_order(tmp_path):
    path = tmp_path / "c4" / "part.jsonl"
    path.parent.mkdir()
    lines = [
        json.dumps({"text": LONG, "meta": {"url": "a"}}),
        "not json",
        json.dumps({"text": "too short"}),
        json.dumps({"text": "caf\u0065\u0301 " + OTHER, "meta": {"redpajama_set_name": "RedPajamaWikipedia"}}),
    ]
    path.write_text("\n".join(lines) + "\n")
    f = InputFile(index=3, path=str(path), relpath="c4/part.jsonl", folder="c4")
    cfg = DedupConfig(input=str(tmp_path), output=str(tmp_path / "out"), batch_docs=1)
    events = list(scan_file(f, cfg))
    assert [tag for tag, _ in events] == [
        "staged", "signed", "issue", "issue", "short", "staged", "signed", "counts",
    ]
    assert events[2][1] == Issue("c4/part.jsonl", 2, "quarantined",
                                 "invalid JSON: Expecting value at column 1", b"not json", 8)
    assert events[3][1] == Issue("c4/part.jsonl", 3, "warning", "missing meta")
    assert events[4][1] == (doc_key(3, 3), len(key_text("too short")))
    fixed = "caf\u00e9 " + OTHER  # ftfy NFC
    line, set_index, nbytes, release = parse_staged_line(events[5][1])
    assert (line, set_index, nbytes) == (4, SET_INDEX["RedPajamaWikipedia"], len(fixed.encode()))
    assert release == encode_record(fixed, "RedPajamaWikipedia", {})
    signed = events[6][1]
    expected_bands = band_keys(signatures([key_text(fixed)], MinHashParams()), 9, 13)
    assert signed.doc_keys.dtype == np.uint64 and signed.doc_keys.tolist() == [doc_key(3, 4)]
    assert signed.set_index.tolist() == [SET_INDEX["RedPajamaWikipedia"]]
    assert signed.nbytes.tolist() == [nbytes]
    assert signed.band_keys.shape == (1, 9) and np.array_equal(signed.band_keys, expected_bands)
    assert split_doc_key(int(signed.doc_keys[0])) == (3, 4)
    assert events[1][1].doc_keys.tolist() == [doc_key(3, 1)]
    counts = events[-1][1]
    assert counts["RedPajamaC4"]["docs_in"] == 3 and counts["RedPajamaC4"]["short"] == 1
    assert counts["RedPajamaC4"]["quarantined"] == 1 and counts["RedPajamaC4"]["quarantined_bytes"] == 8
    assert counts["RedPajamaWikipedia"] == {**dict.fromkeys(counts["RedPajamaWikipedia"], 0),
                                            "docs_in": 1, "bytes_in": nbytes}


def test_batch_size_does_not_change_events(tmp_path):
    path = tmp_path / "book" / "b.jsonl"
    path.parent.mkdir()
    path.write_text("".join(json.dumps({"text": f"{i} {LONG}"}) + "\n" for i in range(7)))
    f = InputFile(index=0, path=str(path), relpath="book/b.jsonl", folder="book")
    def by_tag(batch_docs):
        """Each tag's events in order (issues are emitted at once, documents per batch)."""
        grouped = {}
        for tag, value in scan_file(f, DedupConfig(input="i", output="o", batch_docs=batch_docs)):
            grouped.setdefault(tag, []).append(value)
        return grouped

    runs = [by_tag(n) for n in (1, 3, 512)]
    assert [len(run["signed"]) for run in runs] == [7, 3, 1]  # one SignedBatch per batch
    assert len(runs[0]["issue"]) == 7  # 7 "missing meta" warnings
    batches = [run.pop("signed") for run in runs]
    signed = [{field: np.concatenate([getattr(b, field) for b in run]).tolist()
               for field in ("doc_keys", "set_index", "nbytes", "band_keys")} for run in batches]
    assert signed[0]["doc_keys"] == [doc_key(0, line) for line in range(1, 8)]
    assert signed[0] == signed[1] == signed[2]
    assert runs[0] == runs[1] == runs[2]


def test_staged_line_round_trip():
    release = encode_record("a\tb\nc", "RedPajamaC4", {"k": "v"})
    assert parse_staged_line(staged_line(17, 2, 5, release)) == (17, 2, 5, release)
