"""Release-line encoding: `encode_record` (orjson for the text) is byte-identical to the stdlib
`json.dumps({"text": ..., "meta": ...}, ensure_ascii=False) + "\\n"` it replaces."""

from __future__ import annotations

import json
from typing import Any

import pytest

from slimpajama.bench.corpus import SOURCES, source_documents
from slimpajama.core.normalize import normalize_text
from slimpajama.io.release import encode_record


def stdlib_record(text: str, set_name: str, meta: dict[str, Any] | None = None) -> bytes:
    """The previous implementation, verbatim."""
    full_meta = {"redpajama_set_name": set_name}
    for key, value in (meta or {}).items():
        if key != "redpajama_set_name":
            full_meta[key] = value
    return (json.dumps({"text": text, "meta": full_meta}, ensure_ascii=False) + "\n").encode()


EVERY_SCALAR = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]


@pytest.mark.slow
def test_every_code_point_alone_and_embedded_encodes_like_the_stdlib() -> None:
    alone = [hex(ord(c)) for c in EVERY_SCALAR
             if encode_record(c, "RedPajamaC4") != stdlib_record(c, "RedPajamaC4")]
    assert alone == []
    embedded = [
        hex(ord(block[0]))
        for block in ("".join(EVERY_SCALAR[i : i + 256]) for i in range(0, len(EVERY_SCALAR), 256))
        for text in ("a" + "a".join(block) + "b", "\\".join(block) + '"')
        if encode_record(text, "RedPajamaC4") != stdlib_record(text, "RedPajamaC4")
    ]
    assert embedded == []
    every = "".join(EVERY_SCALAR)
    assert encode_record(every, "RedPajamaBook") == stdlib_record(every, "RedPajamaBook")


@pytest.mark.parametrize(
    "text",
    ["", "plain", "quote \" backslash \\ slash /", "\x00\x01\x1f\x7f\x80\x9f", "\u2028\u2029",
     "\b\f\n\r\t", "\\u0000 \\n", "emoji 😀👍🏽", "\ufeff BOM \ufffe \uffff \U0010ffff"],
)
def test_special_strings_encode_like_the_stdlib(text: str) -> None:
    assert encode_record(text, "RedPajamaGithub") == stdlib_record(text, "RedPajamaGithub")


@pytest.mark.parametrize(
    "meta",
    [
        None,
        {},
        {"redpajama_set_name": "ignored", "url": "https://x/é", "n": 2**70, "f": 0.1,
         "neg0": -0.0, "big": 1e300, "nan": float("nan"), "inf": float("-inf"),
         "nested": {"a": [1, "\u2028", None, True]}, "\x00key": "ctrl\x1f"},
    ],
)
def test_meta_encodes_like_the_stdlib(meta: dict[str, Any] | None) -> None:
    assert encode_record("text\n", "RedPajamaArXiv", meta) == stdlib_record(
        "text\n", "RedPajamaArXiv", meta)


@pytest.mark.parametrize(
    ("text", "meta"),
    [("lone \ud800 high", None), ("lone \udfff low", {}), ("ok", {"k": "\udc80"}),
     ("\udc00\ud800 reversed pair", None)],
)
def test_lone_surrogates_raise_like_the_stdlib(text: str, meta: dict[str, Any] | None) -> None:
    with pytest.raises(UnicodeEncodeError):
        stdlib_record(text, "RedPajamaC4", meta)
    with pytest.raises(UnicodeEncodeError):
        encode_record(text, "RedPajamaC4", meta)


def test_realistic_corpus_texts_encode_like_the_stdlib() -> None:
    checked = 0
    for source in SOURCES:
        for raw in source_documents(source, 300_000, seed=3):
            for text in (raw, normalize_text(raw)):
                assert encode_record(text, "RedPajamaC4", {"i": checked}) == stdlib_record(
                    text, "RedPajamaC4", {"i": checked})
                checked += 1
    assert checked > 800


def test_release_text_reads_back_the_text_whatever_the_meta():
    from slimpajama.io.release import release_text

    texts = ["plain", "quote \" backslash \\ tab \t nl \n", "é 中文 \u2028 \x7f \x00", ""]
    metas = [None, {"big": 2**70, "nan": float("nan")}, {"nested": {"a": [1, 2.5, None]}}]
    for text in texts:
        for meta in metas:
            assert release_text(encode_record(text, "RedPajamaC4", meta)) == text
