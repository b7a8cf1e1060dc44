"""The ASCII fast path of normalize_text is exactly ftfy.fix_text(normalization="NFC")."""

import random

import ftfy
import pytest

from slimpajama.normalize import FTFY_ASCII_TRIGGERS, needs_ftfy, normalize_text


def reference(text: str) -> str:
    return ftfy.fix_text(text, normalization="NFC")


def test_triggers_are_exactly_the_ascii_chars_ftfy_touches():
    touched = {chr(c) for c in range(128) if reference(f"ab{chr(c)}cd") != f"ab{chr(c)}cd"}
    assert touched | {"&"} == set(FTFY_ASCII_TRIGGERS)  # '&' alone is kept, '&amp;' is not
    assert reference("a &amp; b") == "a & b"


def random_ascii(rng: random.Random, n: int) -> str:
    alphabet = [chr(c) for c in range(128)]
    weights = [40 if chr(c).isalnum() or c in (32, 10) else 1 for c in range(128)]
    return "".join(rng.choices(alphabet, weights, k=n))


@pytest.mark.parametrize("seed", range(5))
def test_fast_path_equals_ftfy_on_random_ascii(seed):
    rng = random.Random(seed)
    texts = [random_ascii(rng, rng.randint(0, 3000)) for _ in range(400)]
    texts += ["<p>a &lt; b</p>\n&amp;", "line\r\nbreak\rx", "esc \x1b[31mred\x1b[0m", "\x00nul\x7f"]
    skipped = sum(not needs_ftfy(t) for t in texts)
    assert skipped > 0  # the fast path is really exercised
    for text in texts:
        assert normalize_text(text) == reference(text)


def test_non_ascii_goes_through_ftfy():
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
