"""normalize_text is exactly ftfy.fix_text(text, normalization="NFC"), fast paths included."""

import random

import ftfy
import pytest
from ftfy.badness import is_bad

from slimpajama.core.normalize import (
    FTFY_ASCII_TRIGGERS,
    MOJIBAKE_CHARS,
    MOJIBAKE_SINGLES,
    needs_ftfy,
    normalize_text,
    segment_is_fixed_point,
)


def reference(text: str) -> str:
    return ftfy.fix_text(text, normalization="NFC")


def test_ascii_triggers_are_exactly_the_ascii_chars_ftfy_touches():
    touched = {chr(c) for c in range(128) if reference(f"ab{chr(c)}cd") != f"ab{chr(c)}cd"}
    assert touched | {"&"} == set(FTFY_ASCII_TRIGGERS)  # '&' alone is kept, '&amp;' is not
    assert reference("a &amp; b") == "a & b"


def test_badness_needs_two_adjacent_regex_chars_or_a_single_listed_one():
    """Exhaustive over one badness-regex character in every short ASCII context: only the
    listed singles can make ftfy see mojibake on their own."""
    contexts = ["", " ", "a", ".", "é"]
    for char in sorted(set(map(chr, range(0x80, 0x3000))) | MOJIBAKE_CHARS):
        for left in contexts:
            for right in contexts:
                text = f"{left}{char}{right}"
                if is_bad(text):
                    adjacent = any(a in MOJIBAKE_CHARS and b in MOJIBAKE_CHARS for a, b in zip(text, text[1:], strict=False))
                    assert char in MOJIBAKE_SINGLES or adjacent, repr(text)


def varied_texts(seed: int, count: int) -> list[str]:
    """ASCII, accents (composed and decomposed), CJK, emoji, curly quotes, mojibake, entities,
    controls, full-width, ligatures, CRLF, and random mixes of all of them."""
    rng = random.Random(seed)
    pieces = [
        "plain words ", "café ", "cafe\u0301 ", "Ä Ö Ü ß ", "日本語のテキスト ", "😀🚀 ", "“quoted” ",
        "it’s ", "sÃ³lo ", "Ã©tÃ© ", "â€œmojibakeâ€\x9d ", "&amp; &lt;tag&gt; ", "&hellip; ", "<b>x</b> ",
        "\r\n", "\n", "\t", "\x1b[31mred\x1b[0m ", "\x00\x07", "ＬＯＵＤ ", "ﬂuﬃ ", "œuvre ", "Œ ",
        "× ² ", "Ã ", "Â ", "naïve résumé ", "Привет ", "ВЂ ", "\u2028", "\x85", "\u00a0", "\u00ad",
        "ā€ ", "β€™ ", "√± ", "à² ", "°C ", "1/2 ½ ", "ㄱ ㅏ ", "한국어 ", "\ufeff", "\ud83d ",
    ]
    texts = []
    for _ in range(count):
        n = rng.randint(0, 40)
        texts.append("".join(rng.choice(pieces) for _ in range(n)))
    return texts


@pytest.mark.parametrize("seed", range(4))
def test_equals_ftfy_on_a_varied_corpus(seed):
    texts = varied_texts(seed, 600)
    texts += [" ".join(random.Random(seed).choices(["é", "a", "b", "“", "ü", " "], k=4000))]
    fixed_points = sum(segment_is_fixed_point(t) for t in texts)
    assert 0 < fixed_points < len(texts)  # both paths are exercised
    for text in texts:
        assert normalize_text(text) == reference(text), repr(text[:200])


def test_equals_ftfy_on_random_ascii():
    rng = random.Random(3)
    alphabet = [chr(c) for c in range(128)]
    weights = [40 if chr(c).isalnum() or c in (32, 10) else 1 for c in range(128)]
    texts = ["".join(rng.choices(alphabet, weights, k=rng.randint(0, 2000))) for _ in range(300)]
    assert any(not needs_ftfy(t) for t in texts)
    for text in texts:
        assert normalize_text(text) == reference(text)


def test_html_auto_mode_is_switched_off_after_a_tag_as_in_ftfy():
    text = "a &amp; b\n<p>x</p>\nc &amp; d\n"
    assert normalize_text(text) == reference(text) == "a & b\n<p>x</p>\nc &amp; d\n"


def test_known_fixes():
    cases = {
        "caf\u0065\u0301": "caf\u00e9",  # NFD -> NFC
        "sÃ³": "só",  # mojibake
        "\u201cquoted\u201d": '"quoted"',
        "ﬂubber": "flubber",
        "ＬＯＵＤ": "LOUD",
    }
    for raw, fixed in cases.items():
        assert needs_ftfy(raw)
        assert normalize_text(raw) == fixed == reference(raw)
