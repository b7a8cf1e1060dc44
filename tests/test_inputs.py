"""Input discovery and robust record reading (slimpajama.io.inputs), without Beam pipelines."""

from __future__ import annotations

import gzip
import json
import random
import zlib
from pathlib import Path

import pytest
import zstandard
from apache_beam.io.filesystems import FileSystems

from slimpajama.io import inputs
from slimpajama.io.inputs import (
    Document,
    InputError,
    InputFile,
    Issue,
    discover_inputs,
    read_input_file,
    unrecognized_files,
)


def _zstd(data: bytes) -> bytes:
    return zstandard.ZstdCompressor(level=3).compress(data)


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def _line(text: str, **meta: object) -> bytes:
    return json.dumps({"text": text, "meta": meta}).encode() + b"\n"


def _read(tmp_path: Path, relpath: str, data: bytes, **kwargs: int) -> list[Document | Issue]:
    path = tmp_path / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    f = InputFile(index=0, path=str(path), relpath=relpath, folder=relpath.split("/")[0])
    return list(read_input_file(f, **kwargs))


def _doc(
    relpath: str, line: int, text: str, set_name: str = "RedPajamaC4", **meta: object
) -> Document:
    return Document(relpath, line, set_name, text, meta)


C4 = "c4/part.jsonl"
THREE_DOCS = _line("first", url="u1") + _line("second", url="u2") + _line("third", url="u3")
EXPECTED_THREE = [
    _doc(C4, 1, "first", url="u1"),
    _doc(C4, 2, "second", url="u2"),
    _doc(C4, 3, "third", url="u3"),
]


# ----------------------------------------------------------------------------- valid records


def test_plain_records_keep_raw_text_and_meta(tmp_path: Path) -> None:
    data = (
        _line("  Caf\u00e9 &amp; \u00c3\u00a9  ", url="u", redpajama_set_name="RedPajamaC4")
        + b'{"text": "x", "meta": {"a": [1, {"b": null}]}, "extra": 5}'
    )
    assert _read(tmp_path, C4, data) == [
        _doc(C4, 1, "  Caf\u00e9 &amp; \u00c3\u00a9  ", url="u"),
        _doc(C4, 2, "x", a=[1, {"b": None}]),
    ]


def test_set_name_from_meta_overrides_folder(tmp_path: Path) -> None:
    data = _line("w", redpajama_set_name="RedPajamaWikipedia", title="T")
    assert _read(tmp_path, C4, data) == [_doc(C4, 1, "w", "RedPajamaWikipedia", title="T")]


@pytest.mark.parametrize(
    ("claimed", "shown"),
    [("RedPajamaC5", "'RedPajamaC5'"), ("c4", "'c4'"), (5, "5"), (None, "None")],
)
def test_unknown_set_name_warns_and_uses_folder(
    tmp_path: Path, claimed: object, shown: str
) -> None:
    data = _line("t", redpajama_set_name=claimed, url="u")
    assert _read(tmp_path, C4, data) == [
        Issue(C4, 1, "warning", f"unknown redpajama_set_name {shown}; using folder 'c4'"),
        _doc(C4, 1, "t", url="u"),
    ]


def test_missing_or_null_meta_warns_outside_common_crawl(tmp_path: Path) -> None:
    data = b'{"text": "a"}\n{"text": "b", "meta": null}\n{"text": "c", "id": 7}\n'
    relpath = "arxiv/arxiv_x.jsonl"
    assert _read(tmp_path, relpath, data) == [
        Issue(relpath, 1, "warning", "missing meta"),
        Document(relpath, 1, "RedPajamaArXiv", "a", {}),
        Issue(relpath, 2, "warning", "meta is null; treated as missing"),
        Document(relpath, 2, "RedPajamaArXiv", "b", {}),
        Issue(relpath, 3, "warning", "missing meta"),
        Document(relpath, 3, "RedPajamaArXiv", "c", {"id": 7}),
    ]


def test_common_crawl_top_level_fields_become_meta_without_warning(tmp_path: Path) -> None:
    relpath = "common_crawl/2019-30/en_head_0000.json.gz.dedup.classifier.jsonl.zst"
    record = {
        "text": "cc",
        "pred_label": "__label__wiki",
        "pred_label_prob": 0.5,
        "wiki_prob": 0.5,
        "source": "cc/2019-30/x",
    }
    data = _zstd(json.dumps(record).encode() + b"\n" + b'{"text": "n", "meta": null}\n')
    meta = {k: v for k, v in record.items() if k != "text"}
    assert _read(tmp_path, relpath, data) == [
        Document(relpath, 1, "RedPajamaCommonCrawl", "cc", meta),
        Document(relpath, 2, "RedPajamaCommonCrawl", "n", {}),
    ]


def test_bom_crlf_lone_cr_and_blank_lines(tmp_path: Path) -> None:
    lines = [
        b'{"text": "a\\rb", "meta": {}}',
        b"",
        b'{"text": "c\\r\\n", "meta": {}}',
        b" \t",
        b'{"text": "d", "meta": {}}',
    ]
    data = b"\xef\xbb\xbf" + b"\r\n".join(lines) + b"\r\n\r\n"
    assert _read(tmp_path, C4, data) == [
        _doc(C4, 1, "a\rb"),
        _doc(C4, 3, "c\r\n"),
        _doc(C4, 5, "d"),
        Issue(C4, 0, "file", "3 blank lines skipped"),
    ]


def test_one_blank_line_and_missing_final_newline(tmp_path: Path) -> None:
    data = b'\n{"text": "a", "meta": {}}'
    assert _read(tmp_path, C4, data) == [
        _doc(C4, 2, "a"),
        Issue(C4, 0, "file", "1 blank line skipped"),
    ]


def test_paired_surrogate_escape_is_valid(tmp_path: Path) -> None:
    data = b'{"text": "\\ud83d\\ude00 ok", "meta": {}}\n'
    assert _read(tmp_path, C4, data) == [_doc(C4, 1, "\U0001f600 ok")]


# ----------------------------------------------------------------------------- quarantine


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"not json", "invalid JSON: Expecting value at column 1"),
        (b'{"text": "a"', "invalid JSON: Expecting ',' delimiter at column 13"),
        (b'{"text": "a"} x', "invalid JSON: Extra data at column 15"),
        (
            b"\xef\xbb\xbf" + b'{"text": "BOM not at file start"}',
            "invalid JSON: UTF-8 BOM not at file start",
        ),
        (b"[" * 100_000, "invalid JSON: nested too deeply"),
        (b'["text", "array"]', "JSON value is an array, not an object"),
        (b'"just a string"', "JSON value is a string, not an object"),
        (b"42", "JSON value is a number, not an object"),
        (b"null", "JSON value is null, not an object"),
        (b'{"meta": {}, "body": "x"}', "missing text"),
        (b'{"text": null, "meta": {}}', "text is null"),
        (b'{"text": 12345, "meta": {}}', "text is a number, not a string"),
        (b'{"text": true}', "text is a boolean, not a string"),
        (b'{"text": ["a"]}', "text is an array, not a string"),
        (b'{"text": {"a": 1}}', "text is an object, not a string"),
        (b'{"text": "a", "meta": "github"}', "meta is a string, not an object"),
        (b'{"text": "a", "meta": [1]}', "meta is an array, not an object"),
        (b'{"text": "a", "meta": 0}', "meta is a number, not an object"),
        (b'{"text": "Caf\xe9"}', "invalid UTF-8 at byte 13"),
        (b'{"text": "\\ud800 lone"}', "unpaired surrogate in text or meta"),
        (b'{"text": "a", "meta": {"k": "\\uDC00"}}', "unpaired surrogate in text or meta"),
    ],
)
def test_bad_record_is_quarantined_between_valid_ones(
    tmp_path: Path, line: bytes, reason: str
) -> None:
    data = _line("before", url="u") + line + b"\n" + _line("after", url="v")
    assert _read(tmp_path, C4, data) == [
        _doc(C4, 1, "before", url="u"),
        Issue(C4, 2, "quarantined", reason, line[:1024], len(line)),
        _doc(C4, 3, "after", url="v"),
    ]


def test_line_over_max_line_bytes_is_quarantined_and_skipped(tmp_path: Path) -> None:
    long_line = _line("x" * 500)  # 516 bytes without '\n'
    data = _line("a") + long_line + _line("b") + long_line[:-1]  # last one unterminated
    size = len(long_line) - 1
    reason = f"line too long: {size} bytes > max_line_bytes 100"
    assert _read(tmp_path, C4, data, max_line_bytes=100) == [
        _doc(C4, 1, "a"),
        Issue(C4, 2, "quarantined", reason, long_line[:-1], size),
        _doc(C4, 3, "b"),
        Issue(C4, 4, "quarantined", reason, long_line[:-1], size),
    ]


def test_line_of_exactly_max_line_bytes_is_read(tmp_path: Path) -> None:
    line = _line("y" * 76)
    assert len(line) - 1 == 100
    assert _read(tmp_path, C4, line, max_line_bytes=100) == [_doc(C4, 1, "y" * 76)]


def test_long_line_spanning_chunks_keeps_first_kib(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(inputs, "READ_CHUNK_BYTES", 300)
    long_line = _line("z" * 5000)
    data = long_line + _line("ok")
    items = _read(tmp_path, C4, data, max_line_bytes=2000)
    reason = f"line too long: {len(long_line) - 1} bytes > max_line_bytes 2000"
    assert items == [Issue(C4, 1, "quarantined", reason, long_line[:1024], len(long_line) - 1), _doc(C4, 2, "ok")]


@pytest.mark.parametrize("chunk", [1, 7, 4096])
@pytest.mark.parametrize("name", ["c4/a.jsonl", "c4/a.jsonl.zst", "c4/a.jsonl.gz"])
def test_results_do_not_depend_on_read_chunk_size(
    tmp_path: Path, monkeypatch, chunk: int, name: str
) -> None:
    monkeypatch.setattr(inputs, "READ_CHUNK_BYTES", chunk)
    content = (
        b"\xef\xbb\xbf"
        + _line("\u00e9t\u00e9 \u6771\u4eac", url="u").replace(b"\n", b"\r\n")
        + b"\n"
        + b"bad\n"
        + _line("end", url="v")
    )
    data = {
        "c4/a.jsonl": content,
        "c4/a.jsonl.zst": _zstd(content),
        "c4/a.jsonl.gz": _gzip(content),
    }[name]
    assert _read(tmp_path, name, data) == [
        Document(name, 1, "RedPajamaC4", "\u00e9t\u00e9 \u6771\u4eac", {"url": "u"}),
        Issue(name, 3, "quarantined", "invalid JSON: Expecting value at column 1", b"bad", 3),
        Document(name, 4, "RedPajamaC4", "end", {"url": "v"}),
        Issue(name, 0, "file", "1 blank line skipped"),
    ]


def test_single_50_mb_line_is_one_document(tmp_path: Path) -> None:
    text = "0123456789abcdef" * (50 * 2**20 // 16)
    data = _zstd(b'{"text": "' + text.encode() + b'", "meta": {"size": "50MB"}}\n' + _line("next"))
    items = _read(tmp_path, "c4/big.jsonl.zst", data)
    assert [type(item) for item in items] == [Document, Document]
    assert items[0].line == 1 and items[0].meta == {"size": "50MB"}
    assert len(items[0].text) == 50 * 2**20 and items[0].text == text
    assert items[1] == Document("c4/big.jsonl.zst", 2, "RedPajamaC4", "next", {})


# ----------------------------------------------------------------------------- file-level events


def test_empty_file(tmp_path: Path) -> None:
    for relpath in ("c4/e.jsonl", "c4/e.jsonl.zst", "c4/e.jsonl.gz"):
        assert _read(tmp_path, relpath, b"") == [Issue(relpath, 0, "file", "empty file")]


def test_empty_zstd_frame(tmp_path: Path) -> None:
    relpath = "c4/e.jsonl.zst"
    assert _read(tmp_path, relpath, _zstd(b"")) == [Issue(relpath, 0, "file", "1 empty zstd frame")]
    assert _read(tmp_path, relpath, _zstd(b"") * 3) == [
        Issue(relpath, 0, "file", "3 empty zstd frames")
    ]


def test_empty_gzip_stream(tmp_path: Path) -> None:
    relpath = "c4/e.jsonl.gz"
    assert _read(tmp_path, relpath, _gzip(b"")) == [
        Issue(relpath, 0, "file", "gzip stream holds no data")
    ]


def test_multi_frame_zstd_with_cuts_inside_a_line_and_a_character(tmp_path: Path) -> None:
    relpath = "c4/m.jsonl.zst"
    content = _line("caf\u00e9", url="u") + _line("two") + _line("three")
    content = content.replace(b"\\u00e9", "\u00e9".encode())  # raw UTF-8 in the JSON line
    cut = content.index("\u00e9".encode()) + 1  # inside the 2-byte character
    frames = [content[:cut], b"", content[cut:40], content[40:]]
    data = b"".join(_zstd(frame) for frame in frames)
    assert _read(tmp_path, relpath, data) == [
        Document(relpath, 1, "RedPajamaC4", "caf\u00e9", {"url": "u"}),
        Document(relpath, 2, "RedPajamaC4", "two", {}),
        Document(relpath, 3, "RedPajamaC4", "three", {}),
        Issue(relpath, 0, "file", "1 empty zstd frame"),
    ]


def test_truncated_zstd_keeps_records_before_damage(tmp_path: Path) -> None:
    relpath = "common_crawl/2019-30/t.jsonl.zst"
    first = b'{"text": "one"}\n{"text": "two"}\n{"text": "thr'
    second = b'ee"}\n' + b'{"text": "lost"}\n' * 20
    frame = _zstd(second)
    data = _zstd(first) + frame[: len(frame) // 2]
    assert _read(tmp_path, relpath, data) == [
        Document(relpath, 1, "RedPajamaCommonCrawl", "one", {}),
        Document(relpath, 2, "RedPajamaCommonCrawl", "two", {}),
        Issue(
            relpath, 3, "quarantined", "incomplete line at damaged end of stream",
            b'{"text": "thr', 13,
        ),
        Issue(relpath, 0, "file", f"truncated zstd stream after {len(first)} decompressed bytes"),
    ]


def test_truncated_zstd_at_a_line_boundary_has_no_partial_record(tmp_path: Path) -> None:
    relpath = "c4/t.jsonl.zst"
    frame = _zstd(_line("lost"))
    data = _zstd(THREE_DOCS) + frame[:5]
    assert _read(tmp_path, relpath, data) == [
        *(Document(relpath, d.line, d.set_name, d.text, d.meta) for d in EXPECTED_THREE),
        Issue(
            relpath, 0, "file", f"truncated zstd stream after {len(THREE_DOCS)} decompressed bytes"
        ),
    ]


def test_corrupt_zstd_after_a_valid_frame(tmp_path: Path) -> None:
    relpath = "c4/c.jsonl.zst"
    data = _zstd(THREE_DOCS) + b"\x00\x01garbage that is not a zstd frame"
    assert _read(tmp_path, relpath, data) == [
        *(Document(relpath, d.line, d.set_name, d.text, d.meta) for d in EXPECTED_THREE),
        Issue(
            relpath, 0, "file", f"corrupt zstd stream after {len(THREE_DOCS)} decompressed bytes"
        ),
    ]


def test_truncated_gzip_keeps_what_inflates(tmp_path: Path) -> None:
    relpath = "book/b.jsonl.gz"
    rng = random.Random(5)
    content = b"".join(_line(" ".join(str(rng.random()) for _ in range(30))) for _ in range(200))
    data = _gzip(content)[: len(_gzip(content)) // 2]
    produced = zlib.decompressobj(wbits=31).decompress(data)
    complete = produced.rsplit(b"\n", 1)[0] + b"\n"
    partial = produced[len(complete) :]
    assert complete.count(b"\n") > 10 and partial
    items = _read(tmp_path, relpath, data)
    docs = [item for item in items if isinstance(item, Document)]
    assert [d.line for d in docs] == list(range(1, complete.count(b"\n") + 1))
    assert [d.text for d in docs] == [json.loads(x)["text"] for x in complete.splitlines()]
    n = complete.count(b"\n") + 1
    assert items[len(docs) :] == [
        Issue(
            relpath, n, "quarantined", "incomplete line at damaged end of stream",
            partial[:1024], len(partial),
        ),
        Issue(
            relpath, 0, "file", f"truncated gzip stream after {len(produced)} decompressed bytes"
        ),
    ]


def test_corrupt_gzip(tmp_path: Path) -> None:
    relpath = "c4/c.jsonl.gz"
    bad_block = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff" + b"\xff" * 8  # block type 3
    data = _gzip(THREE_DOCS) + bad_block
    assert _read(tmp_path, relpath, data) == [
        *(Document(relpath, d.line, d.set_name, d.text, d.meta) for d in EXPECTED_THREE),
        Issue(
            relpath, 0, "file", f"corrupt gzip stream after {len(THREE_DOCS)} decompressed bytes"
        ),
    ]


def test_multi_member_gzip(tmp_path: Path) -> None:
    relpath = "c4/m.jsonl.gz"
    data = _gzip(THREE_DOCS[:20]) + _gzip(THREE_DOCS[20:])
    assert _read(tmp_path, relpath, data) == [
        Document(relpath, d.line, d.set_name, d.text, d.meta) for d in EXPECTED_THREE
    ]


@pytest.mark.parametrize(
    ("relpath", "encode", "reason"),
    [
        ("c4/x.jsonl.zst", _gzip, "gzip data under a .zst name; read as gzip"),
        (
            "c4/x.jsonl.zst",
            lambda d: d,
            "uncompressed data under a .zst name; read as uncompressed",
        ),
        ("c4/x.jsonl.gz", _zstd, "zstd data under a .gz name; read as zstd"),
        ("c4/x.jsonl.gz", lambda d: d, "uncompressed data under a .gz name; read as uncompressed"),
        ("c4/x.jsonl", _gzip, "gzip data under a .jsonl name; read as gzip"),
        ("c4/x.jsonl", _zstd, "zstd data under a .jsonl name; read as zstd"),
    ],
)
def test_wrong_compression_is_reported_and_read(
    tmp_path: Path, relpath: str, encode, reason: str
) -> None:
    assert _read(tmp_path, relpath, encode(THREE_DOCS)) == [
        Issue(relpath, 0, "file", reason),
        *(Document(relpath, d.line, d.set_name, d.text, d.meta) for d in EXPECTED_THREE),
    ]


def test_skippable_zstd_frame_is_sniffed_as_zstd(tmp_path: Path) -> None:
    relpath = "c4/s.jsonl.zst"
    skippable = b"\x50\x2a\x4d\x18" + (4).to_bytes(4, "little") + b"meta"
    items = _read(tmp_path, relpath, skippable + _zstd(THREE_DOCS))
    assert items == [
        Document(relpath, d.line, d.set_name, d.text, d.meta) for d in EXPECTED_THREE
    ] + [Issue(relpath, 0, "file", "1 empty zstd frame")]


# ----------------------------------------------------------------------------- discovery

LAYOUT = {
    "arxiv/arxiv_0a.jsonl": b"x",
    "book/book.jsonl.gz": b"x",
    "c4/c4-train.00001-of-01024.jsonl": b"x",
    "c4/c4-train.00000-of-01024.jsonl.zst": b"x",
    "c4/nested/deeper/part.jsonl": b"x",
    "common_crawl/2023-06/en_head_0000.json.gz.dedup.classifier.jsonl.zst": b"x",
    "common_crawl/2019-30/en_head_0001.json.gz.dedup.classifier.jsonl.zst": b"x",
    "common_crawl/2019-30/en_head_0000.json.gz.dedup.classifier.jsonl.zst": b"x",
    "github/filtered_0123.sampled.jsonl": b"x",
    "stackexchange/stackexchange.jsonl": b"x",
    "wikipedia/wiki.jsonl": b"x",
    # unrecognized
    "README.md": b"x",
    "top.jsonl": b"x",
    "books/book.jsonl": b"x",
    "c4/c4-train.00002-of-01024.json": b"x",
    "c4/notes.txt": b"x",
    "c4/.hidden.jsonl": b"x",
    "common_crawl/.cache/en_head.jsonl.zst": b"x",
    "wikipedia/wiki.jsonl.bz2": b"x",
}
RECOGNIZED = sorted(list(LAYOUT)[:11])
UNRECOGNIZED = sorted(list(LAYOUT)[11:])


def _make_layout(root: Path) -> str:
    for relpath, data in LAYOUT.items():
        (root / relpath).parent.mkdir(parents=True, exist_ok=True)
        (root / relpath).write_bytes(data)
    return str(root)


def test_discover_inputs_sorted_with_indices(tmp_path: Path) -> None:
    root = _make_layout(tmp_path / "rp")
    assert discover_inputs(root) == [
        InputFile(i, f"{root}/{relpath}", relpath, relpath.split("/")[0])
        for i, relpath in enumerate(RECOGNIZED)
    ]
    assert discover_inputs(root + "/") == discover_inputs(root)
    assert unrecognized_files(root) == UNRECOGNIZED


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_discovery_does_not_depend_on_listing_order(tmp_path: Path, monkeypatch, seed: int) -> None:
    root = _make_layout(tmp_path / "rp")
    expected = discover_inputs(root)
    real_match = FileSystems.match

    def shuffled_match(patterns, *args, **kwargs):
        results = real_match(patterns, *args, **kwargs)
        for result in results:
            random.Random(seed).shuffle(result.metadata_list)
        return results

    monkeypatch.setattr(FileSystems, "match", shuffled_match)
    assert discover_inputs(root) == expected
    assert unrecognized_files(root) == UNRECOGNIZED


def test_missing_root_is_an_input_error(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope")
    with pytest.raises(InputError, match=None) as info:
        discover_inputs(missing)
    assert str(info.value) == f"input folder not found: {missing}"
    with pytest.raises(InputError):
        unrecognized_files(missing)


@pytest.mark.parametrize("files", [[], ["README.md", "c4/notes.txt", "other/x.jsonl"]])
def test_no_recognizable_files_is_an_input_error(tmp_path: Path, files: list[str]) -> None:
    root = tmp_path / "rp"
    root.mkdir()
    for relpath in files:
        (root / relpath).parent.mkdir(parents=True, exist_ok=True)
        (root / relpath).write_bytes(b"x")
    with pytest.raises(InputError) as info:
        discover_inputs(str(root))
    assert str(info.value) == (
        f"no recognizable input files under {root} (expected <source>/**/*.jsonl[.zst|.gz] with "
        "<source> one of arxiv, book, c4, common_crawl, github, stackexchange, wikipedia)"
    )
    assert unrecognized_files(str(root)) == sorted(files)


def test_a_file_that_cannot_be_opened_is_a_file_issue(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "c4" / "locked.jsonl"
    path.parent.mkdir(parents=True)
    path.write_bytes(_line("never read"))

    def refuse(*_args, **_kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(inputs.FileSystems, "open", refuse)
    (found,) = inputs.discover_inputs(str(tmp_path))
    assert list(inputs.read_input_file(found)) == [
        Issue("c4/locked.jsonl", 0, "file", "cannot open: Permission denied")
    ]
