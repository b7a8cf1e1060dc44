"""Key text: exactly SlimPajama's lower / delete ASCII punctuation / collapse whitespace."""

from __future__ import annotations

import re
import string

import pytest

from slimpajama.bench.corpus import SOURCES, source_documents
from slimpajama.core.keytext import ASCII_WHITESPACE, NON_ASCII_WHITESPACE, key_text
from slimpajama.core.normalize import normalize_text


def slimpajama_key_text(text: str) -> str:
    """The reference code, verbatim."""
    s = text.lower()
    s = s.translate(str.maketrans("", "", string.punctuation))
    return re.sub(r"\s+", " ", s.strip())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello,  World!\n\tFoo", "hello world foo"),
        ("  leading and trailing \r\n", "leading and trailing"),
        (
            "a-b_c(d)[e]{f}<g>h@i#j$k%l^m&n*o+p=q|r\\s/t:u;v\"w'x`y~z?.,!",
            "abcdefghijklmnopqrstuvwxyz",
        ),
        (
            "«Guillemets» — em dash … ellipsis ‘quotes’",
            "«guillemets» — em dash … ellipsis ‘quotes’",
        ),
        ("no\u00a0break\u3000ideographic\u2028line", "no break ideographic line"),
        ("ÀÉÎ ÕÜ Straße ΣΊΣΥΦΟΣ", "àéî õü straße σίσυφος"),
        ("!!! ... ???", ""),
        ("x ! y", "x y"),
        ("", ""),
        ("\t\n ", ""),
    ],
)
def test_key_text_examples(text: str, expected: str) -> None:
    assert key_text(text) == expected


def test_key_text_matches_reference_code_on_varied_texts() -> None:
    texts = [
        "def f(x):\n\treturn x + 1  # comment!\n",
        "机器学习是人工智能的一个分支。它很有用！",
        "emoji 👍🏽 family 👨‍👩‍👧‍👦, flag 🇫🇷; done.",
        "İstanbul ǅemal ﬁ ligature ΆΈΉ",
        "a\x0bb\x0cc\x1cd\x1de\x1ef\x85g",
        "   multiple     spaces\n\n\nand\t\ttabs   ",
        "".join(chr(c) for c in range(0x20, 0x250)),
    ]
    for text in texts:
        assert key_text(text) == slimpajama_key_text(text)
    assert key_text(texts[2]) == "emoji 👍🏽 family 👨‍👩‍👧‍👦 flag 🇫🇷 done"


def test_whitespace_and_punctuation_of_every_code_point() -> None:
    every = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    pieces = [every[i : i + 5000] for i in range(0, len(every), 5000)]
    spaced = [f"a{c}b{c}{c}!{c}c." for c in every if c.isspace() or not c.isprintable()][:400]
    for text in pieces + spaced + [every]:
        assert key_text(text) == slimpajama_key_text(text)


def split_join_key_text(text: str) -> str:
    """The previous implementation (punctuation deleted, then " ".join(split())), verbatim."""
    lowered = text.lower()
    if lowered.isascii():
        lowered = lowered.translate(str.maketrans("", "", string.punctuation))
    else:
        lowered = (
            lowered.encode("utf-8", "surrogatepass")
            .translate(None, string.punctuation.encode("ascii"))
            .decode("utf-8", "surrogatepass")
        )
    return " ".join(lowered.split())


def test_whitespace_tables_are_every_whitespace_code_point() -> None:
    every = [chr(c) for c in range(0x110000)]
    assert ASCII_WHITESPACE + NON_ASCII_WHITESPACE == "".join(c for c in every if c.isspace())
    assert ASCII_WHITESPACE + NON_ASCII_WHITESPACE == "".join(re.findall(r"\s", "".join(every)))
    assert ASCII_WHITESPACE.isascii() and not any(c.isascii() for c in NON_ASCII_WHITESPACE)


WHITESPACE = ASCII_WHITESPACE + NON_ASCII_WHITESPACE


@pytest.mark.parametrize("space", list(WHITESPACE))
def test_runs_of_every_whitespace_character(space: str) -> None:
    for ascii_only in (True, False):
        word = "Ab" if ascii_only else "Äb"
        for run in range(1, 70):
            gap = space * run
            for text in (gap + word + gap + "!" + gap + word + gap,
                         word + gap + "," + gap + ";" + word, gap, gap + "." + gap,
                         word + " " + gap + "\t" + word + "\u3000" + gap):
                assert key_text(text) == slimpajama_key_text(text), (hex(ord(space)), run, text)


@pytest.mark.parametrize(
    "text",
    [
        "a\u00a0\u00a0b \u3000 c\u2028\u2029d\x85e",
        "\u3000lead and trail\u3000",
        "punctuation ! between . spaces ? \u2003 ; here",
        "lone \ud800 surrogate  \udc00 and \udfff\u2028\ud83d",
        "\ud800" * 3 + "  " * 5 + "\u00a0" * 7,
        "İstanbul \u0130\u0130  KELVİN \u212a",  # lower() grows the string
        "\u180e\u200b\u2060\ufeff format characters, not whitespace\u200b\u200b",
        "tabs\t\t\tand\x1c\x1d\x1e\x1fseparators\x0b\x0c\r\n",
        "\xc2 and \xe2 and \u0100\u2000 lookalike lead bytes \u20ac\u2030",
        "   " * 1000 + "x" + "\u3000" * 1000,
    ],
)
def test_adversarial_texts_match_the_reference(text: str) -> None:
    assert key_text(text) == slimpajama_key_text(text) == split_join_key_text(text)


def test_realistic_corpus_matches_the_previous_implementation() -> None:
    checked = 0
    for source in SOURCES:
        for raw in source_documents(source, 300_000, seed=5):
            for text in (raw, normalize_text(raw)):
                assert key_text(text) == split_join_key_text(text)
                checked += 1
    assert checked > 800
