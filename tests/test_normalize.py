"""normalize_text is exactly ftfy.fix_text(text, normalization="NFC"), fast paths included."""

import json
import random
import re
import unicodedata
from pathlib import Path

import ftfy
import pytest
from ftfy.badness import BADNESS_RE, MOJIBAKE_CATEGORIES, is_bad
from ftfy.chardata import CONTROL_CHARS, LIGATURES, WIDTH_MAP

import slimpajama.core.normalize as normalize
from slimpajama.bench.corpus import SOURCES, source_documents
from slimpajama.core.normalize import (
    DENSE_TEXT_ANCHORS,
    FIXER_TRIGGERS,
    FTFY_ASCII_TRIGGERS,
    MOJIBAKE_ANCHORS,
    fix_block,
    ftfy_is_proven,
    needs_ftfy,
    normalize_text,
)

FTFY_CASES = Path(__file__).parent / "data" / "ftfy_cases.json"


def reference(text: str) -> str:
    return ftfy.fix_text(text, normalization="NFC")


def assert_same(texts):
    for text in texts:
        assert normalize_text(text) == reference(text), repr(text[:300])


_CATEGORY_RE = re.compile("[" + "".join(MOJIBAKE_CATEGORIES.values()) + "]")
BADNESS_CHARS = sorted(
    {chr(c) for c in range(0x80, 0x10000) if _CATEGORY_RE.match(chr(c))}
    | {c for c in BADNESS_RE.pattern if ord(c) > 127}
    | set().union(*(b | c | a for b, c, a in MOJIBAKE_ANCHORS + DENSE_TEXT_ANCHORS))
)
"""Every non-ASCII character the badness regex names, its category ranges expanded."""


def test_installed_ftfy_is_a_proven_version_and_the_guard_works(monkeypatch):
    assert ftfy_is_proven(ftfy.__version__)  # else the fast path is off and these tests prove little
    assert not ftfy_is_proven("6.3.0") and not ftfy_is_proven("6.2.3") and not ftfy_is_proven("7.0.0")
    calls = []
    monkeypatch.setattr(normalize, "_FAST_PATH", False)
    monkeypatch.setattr(normalize.ftfy, "fix_text", lambda text, **kw: calls.append(kw) or "FTFY")
    assert normalize_text("“quoted”") == "FTFY" and calls == [{"normalization": "NFC"}]
    assert normalize_text("plain ascii") == "plain ascii"  # ftfy provably returns ASCII text as is


def test_ascii_triggers_are_exactly_the_ascii_chars_ftfy_touches():
    touched = {chr(c) for c in range(128) if reference(f"ab{chr(c)}cd") != f"ab{chr(c)}cd"}
    assert touched | {"&"} == set(FTFY_ASCII_TRIGGERS)  # '&' alone is kept, '&amp;' is not
    assert reference("a &amp; b") == "a & b"


def test_each_fixer_changes_nothing_without_its_characters():
    """What `_apply_fixers` relies on to skip a fixer."""
    everything = "".join(map(chr, range(0x110000)))
    for name, _, chars in normalize._FIXERS:
        others = everything.translate(dict.fromkeys(map(ord, chars)))
        assert ftfy.FIXERS[name](others) == others, name
        assert chars <= FIXER_TRIGGERS


def test_one_anchor_per_badness_alternative():
    (_, (_, alternatives)), = normalize._parser.parse(BADNESS_RE.pattern, BADNESS_RE.flags)
    assert len(MOJIBAKE_ANCHORS) == len(DENSE_TEXT_ANCHORS) == len(alternatives) == 37
    assert normalize._WINDOW == 7


def may_be_bad(text: str) -> bool:
    """`_bad_position` >= 0 by both of its ways (all dense-text anchors, or the present anchors)."""
    special = {c for c in text if not (c.isascii() and c.isprintable()) and c not in "\t\n"}
    assert normalize._special_chars(text) in (None, special)
    by_dense_anchors = normalize._bad_position(text, None)
    by_present_anchors = normalize._bad_position(text, special)
    assert (by_dense_anchors >= 0) == (by_present_anchors >= 0), repr(text)
    return by_dense_anchors >= 0


def mojibake_soup(rng: random.Random, n: int) -> str:
    alphabet = BADNESS_CHARS + list("aeiouAEZ .,!?'\"") + ["é", "ö", "д", "Ж", "β", "日"]
    return "".join(rng.choice(alphabet) for _ in range(n))


def test_mojibake_check_is_exact_on_single_segments():
    """On one segment `_bad_position` finds a character iff ftfy's is_bad: anchors are complete
    (every badness match contains one) and each is verified by the regex itself."""
    rng = random.Random(5)
    texts = [mojibake_soup(rng, rng.randint(1, 12)) for _ in range(40_000)]
    texts += [f"{a}{b}" for a in BADNESS_CHARS for b in rng.sample(BADNESS_CHARS, 40)]
    texts += [f"{c}{d}" for c in BADNESS_CHARS for d in " a.é\n"] + [f"x{c} " for c in BADNESS_CHARS]
    assert sum(map(is_bad, texts)) > 1000
    for text in texts:
        assert may_be_bad(text) == is_bad(text), repr(text)


def test_mojibake_check_finds_bad_segments_inside_blocks():
    rng = random.Random(6)
    for _ in range(3000):
        segments = [mojibake_soup(rng, rng.randint(0, 8)) + "\n" for _ in range(rng.randint(1, 4))]
        segments += rng.choice([["Ã bc"], ["Â x"], [""]])
        rng.shuffle(segments)
        block = "".join(segments)
        if any(is_bad(s) for s in segments):
            assert may_be_bad(block), repr(block)


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
        "\n", "\n", "— ", "– ", "…", "“", "”", "‘", "’", "ŉ", "＆ａｍｐ；", "&amp\u037e", "\u037e",
        "\u2126", "A\u030a", "\u0301", "\r", "\u2029", "«", "»", "€", "£", "™", "é”", "”“", "Ł",
    ]
    texts = []
    for _ in range(count):
        n = rng.randint(0, 40)
        texts.append("".join(rng.choice(pieces) for _ in range(n)))
    return texts


@pytest.mark.parametrize("seed", range(4))
def test_equals_ftfy_on_a_varied_corpus(seed):
    texts = varied_texts(seed, 800)
    texts += [" ".join(random.Random(seed).choices(["é", "a", "b", "“", "ü", " ", "\n"], k=4000))]
    proven = sum(fix_block(t) is not None for t in texts)
    assert 0 < proven < len(texts)  # both paths are exercised
    assert_same(texts)


def test_equals_ftfy_on_a_realistic_corpus():
    texts = [t for source in SOURCES for t in source_documents(source, 100_000, seed=11)]
    expected = [reference(t) for t in texts]
    assert 0.1 * len(texts) < sum(e != t for e, t in zip(expected, texts, strict=True)) < len(texts)
    assert [normalize_text(t) for t in texts] == expected


def test_equals_ftfy_on_random_ascii():
    rng = random.Random(3)
    alphabet = [chr(c) for c in range(128)]
    weights = [40 if chr(c).isalnum() or c in (32, 10) else 1 for c in range(128)]
    texts = ["".join(rng.choices(alphabet, weights, k=rng.randint(0, 2000))) for _ in range(300)]
    assert any(not needs_ftfy(t) for t in texts)
    assert_same(texts)


def test_equals_ftfy_on_ftfy_own_test_cases():
    cases = json.loads(FTFY_CASES.read_text(encoding="utf-8"))["cases"]
    assert len(cases) == 161
    originals = [case["original"] for case in cases]
    assert sum(reference(t) != t for t in originals) > 80
    assert_same(originals)
    assert_same(["\n".join(originals), "“x”\n".join(originals), "<p>\n".join(originals)])


ADVERSARIAL_CHARS = sorted(
    FIXER_TRIGGERS | set(BADNESS_CHARS) | set(map(chr, CONTROL_CHARS)) | set(map(chr, LIGATURES))
    | set(map(chr, WIDTH_MAP)) | set("\r\n\t\x0c\x0b\u2028\u2029\x85\ufeff\x00\x1a&<;#")
    | set(map(chr, (0xD800, 0xDBFF, 0xDC00, 0xDFFF))) | {"\u037e", "\u0387", "\u1fef", "\u212a", "\u2126"}
)


def test_equals_ftfy_on_realistic_documents_with_adversarial_insertions():
    rng = random.Random(12)
    inserts = ADVERSARIAL_CHARS + ["\n", "<", "&amp;", "&#x2019;", "Ã©", "â€™", "Â ", "\nÃ ", "“"]
    texts = []
    for source in SOURCES:
        for doc in source_documents(source, 60_000, seed=12):
            chars = list(doc[:5000])
            for _ in range(rng.randint(1, 8)):
                chars.insert(rng.randrange(len(chars) + 1), rng.choice(inserts))
            texts.append("".join(chars))
    assert len(texts) > 100
    assert_same(texts)


@pytest.mark.parametrize("context", ["{}", "ab{}cd", "é{}\n{}x", "“{}”", "Ã{} ", "{}\r\n&amp;{}", "&amp{}"])
def test_every_char_a_fixer_or_the_badness_regex_names(context):
    texts = [context.format(c, c) for c in ADVERSARIAL_CHARS]
    assert_same(texts)
    assert_same(["\n".join(texts), "".join(texts)])


def test_line_breaks_controls_surrogates_and_bom():
    texts = [
        "a\r\nb\r\n", "a\rb\rc", "\r", "\r\n", "\n\r", "a\u2028b\u2029c", "x\x85y", "\x85",
        "lone \ud83d surrogate", "pair \ud83d\ude00 ok", "\udc00\ud800", "nul\x00here", "\x07\x08\x7f",
        "\ufeffBOM at start", "mid\ufeffBOM", "\x1b[1;31mbold\x1b[0m", "\x1b]not ansi", "tab\tff\x0c",
        "“\r\n”", "Ã\r\nÂ \n", "\nÃ ", "x\nÂ y\n", "Ã ", "é\r\nÃ©",
    ]
    assert_same(texts)


def test_html_auto_mode_is_switched_off_after_a_tag_as_in_ftfy():
    texts = [
        "a &amp; b\n<p>x</p>\nc &amp; d\n",
        "&amp; <b>\n&amp;",
        "one\ntwo &eacute;\nthree < four &amp;\nfive &amp;",
        "＆ａｍｐ； fullwidth\n", "&amp\u037e NFC makes the semicolon\n",
        "<\n＆ａｍｐ；", "＜p＞ &amp;\n&amp;",
    ]
    assert normalize_text(texts[0]) == "a & b\n<p>x</p>\nc &amp; d\n"
    assert_same(texts)


def test_segments_longer_than_max_decode_length(monkeypatch):
    """ftfy cuts lines longer than max_decode_length; checked at a small length against ftfy
    configured the same way, and once at the real length."""
    monkeypatch.setattr(normalize, "MAX_SEGMENT", 7)
    monkeypatch.setattr(normalize, "FTFY_CONFIG", normalize.FTFY_CONFIG._replace(max_decode_length=7))
    for text in varied_texts(2, 300) + ["abcdefg\nhijklmn\n", "abcdefgh", "a\nbcdefghijkl\n"]:
        expected = ftfy.fix_text(text, normalization="NFC", max_decode_length=7)
        assert normalize_text(text) == expected, repr(text)
    monkeypatch.undo()
    line = "a" * 999_999 + "e\u0301“b”"  # ftfy cuts between 'e' and its accent: no composition
    texts = [line, "intro\n" + line, line + "\nÃ©tÃ© line\n<p>\n&amp;", "&amp;\n" + line + "&amp;"]
    assert reference(line).startswith("a" * 999_999 + "e\u0301")
    assert_same(texts)


def test_nfc_is_separable_at_line_breaks():
    """A block is normalized whole: NFC never composes or reorders across a '\\n'."""
    marks = [chr(c) for c in range(0x300, 0x370)] + ["\u0338", "\u3099", "\u1161", "\u11a8"]
    for mark in marks:
        for base in ("e", "\u1100", "\uac00", "\n", "a\u0323"):
            text = f"{base}\n{mark}{base}{mark}"
            head, tail = text.split("\n", 1)
            assert unicodedata.normalize("NFC", text) == (
                unicodedata.normalize("NFC", head + "\n") + unicodedata.normalize("NFC", tail)
            )


def test_known_fixes():
    cases = {
        "caf\u0065\u0301": "caf\u00e9",  # NFD -> NFC
        "sÃ³": "só",  # mojibake
        "\u201cquoted\u201d": '"quoted"',
        "ﬂubber": "flubber",
        "ＬＯＵＤ": "LOUD",
        "ŉ": "'n",  # ligature, then the quote it gives is uncurled
    }
    for raw, fixed in cases.items():
        assert needs_ftfy(raw)
        assert normalize_text(raw) == fixed == reference(raw)
