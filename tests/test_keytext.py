"""Key text: exactly SlimPajama's lower / delete ASCII punctuation / collapse whitespace."""

from __future__ import annotations

import re
import string

import pytest

from slimpajama.core.keytext import key_text


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
