"""Records parsed by orjson give exactly what the stdlib `json` path gives: the same documents
(values and types), issues and reasons; lines orjson could read differently go to `json`."""

from __future__ import annotations

import json
import random

import pytest

from slimpajama.io import inputs
from slimpajama.io.exact_json import orjson_if_exact
from slimpajama.io.inputs import parse_record


def stdlib_parse(monkeypatch: pytest.MonkeyPatch, content: bytes, folder: str) -> str:
    """repr of parse_record's result with orjson switched off (the previous code path)."""
    with monkeypatch.context() as patched:
        patched.setattr(inputs, "orjson_if_exact", lambda _content: None)
        return repr(parse_record("src/f.jsonl", 7, content, folder))


def assert_same(monkeypatch: pytest.MonkeyPatch, content: bytes, folder: str = "c4") -> None:
    """repr tells 1 from 1.0 and True, -0.0 from 0.0, and shows the key order."""
    assert repr(parse_record("src/f.jsonl", 7, content, folder)) == stdlib_parse(
        monkeypatch, content, folder)


NESTED_60 = b'{"text": "x", "meta": {"a": ' + b"[" * 58 + b"1" + b"]" * 58 + b"}}"
DIGITS_5000 = b'{"text": "t", "meta": {"digits": ' + b"1" * 5000 + b"}}"
NESTED_70 = b'{"text": "x", "meta": {"a": ' + b"[" * 68 + b"1" + b"]" * 68 + b"}}"

READ_BY_ORJSON = [
    b'{"text": "plain", "meta": {"url": "https://a/b", "n": 3}}',
    b'{"text": "esc \\" \\\\ \\/ \\b\\f\\n\\r\\t \\u00e9 \\u2028 \\ud83d\\ude00", "meta": {}}',
    b'{"text": "raw \xc3\xa9 \xe2\x80\xa8 \x7f \xf0\x9f\x98\x80 \xef\xbb\xbf mid-line BOM"}',
    b'{"text": "t", "meta": {"i64": -9223372036854775808, "u64": 18446744073709551615}}',
    b'{"text": "t", "meta": {"f": 0.1, "neg0": -0.0, "int0": -0, "e": 1E2, "tiny": 1e-400}}',
    b'{"text": "t", "meta": {"sub": 4.9e-324, "big": 9.2e18, "max": 9223372036854774784.0}}',
    b'{"text": "first", "meta": {"a": 1, "b": 2, "a": 3}, "text": "second"}',
    b'{"text": "cc", "pred_label": "__label__wiki", "pred_label_prob": 0.87, "source": "cc"}',
    b'{"text": "t", "meta": {"redpajama_set_name": "RedPajamaBook", "x": [true, false, null]}}',
    b'  {"text": "surrounding whitespace"}  \t',
    b'{"text": "t", "meta": null}',
    b'{"text": "pairs \\uD83D\\uDE00 \\udbff\\udfff \\ud800\\udc00"}',
    b'{"text": 5}',
    b'["not", "an", "object"]',
    NESTED_60,
]

LEFT_TO_JSON = [
    b'{"text": "t", "meta": {"big": 18446744073709551616}}',
    b'{"text": "t", "meta": {"neg": -9223372036854775809}}',
    b'{"text": "t", "meta": {"huge": 123456789012345678901234567890}}',
    b'{"text": "t", "meta": {"whole": 1e19}}',
    b'{"text": "t", "meta": {"inf": 1e400}}',
    b'{"text": "t", "meta": {"x": NaN, "y": Infinity, "z": -Infinity}}',
    b'{"text": "lone \\ud800 high"}',
    b'{"text": "lone \\udfff low"}',
    b'{"text": "t", "meta": {"k": "reversed \\udc00\\ud800"}}',
    b'{"text": "raw\ttab and \x01 control"}',
    b'{"text": "invalid \xff UTF-8"}',
    b'{"text": "encoded surrogate \xed\xa0\x80"}',
    b'\xef\xbb\xbf{"text": "BOM"}',
    b'{"text": "trailing comma",}',
    b'{"text": "t"} extra',
    b"{'text': 'single quotes'}",
    b'{"text": "t", "meta": {"lead": 01}}',
    NESTED_70,
    b'{"text": "t", "meta": ' + b"[" * 2000 + b"]" * 2000 + b"}",
    b'{"text": "high then letter \\ud800\\u0041"}',
    b'{"text": "lone high before a pair \\ud800\\ud800\\udc00"}',
    b'{"text": "upper-case lone \\uDC00"}',
    b'{"text": "high then escaped backslash \\ud800\\\\udc00"}',
]


@pytest.mark.parametrize("content", READ_BY_ORJSON)
def test_lines_orjson_reads_give_the_stdlib_result(monkeypatch, content: bytes) -> None:
    assert orjson_if_exact(content) is not None
    for folder in ("c4", "common_crawl"):
        assert_same(monkeypatch, content, folder)


@pytest.mark.parametrize("content", LEFT_TO_JSON)
def test_lines_orjson_could_read_differently_are_left_to_json(monkeypatch, content: bytes) -> None:
    assert orjson_if_exact(content) is None
    assert_same(monkeypatch, content)


def test_big_integer_past_4300_digits_raises_as_before() -> None:
    assert orjson_if_exact(DIGITS_5000) is None
    with pytest.raises(ValueError, match="4300 digits"):
        parse_record("src/f.jsonl", 7, DIGITS_5000, "c4")


def test_left_to_json_keeps_the_reasons() -> None:
    issues = [[(i.kind, i.reason) for i in parse_record("f", 1, c, "c4")[1]]
              for c in LEFT_TO_JSON]
    surrogate = [("quarantined", "unpaired surrogate in text or meta")]
    assert issues == [
        [], [], [], [], [], [], surrogate, surrogate, surrogate,
        [("warning", "missing meta")],
        [("quarantined", "invalid UTF-8 at byte 18")],
        [("quarantined", "invalid UTF-8 at byte 28")],
        [("quarantined", "invalid JSON: UTF-8 BOM not at file start")],
        [("quarantined",
          "invalid JSON: Expecting property name enclosed in double quotes at column 27")],
        [("quarantined", "invalid JSON: Extra data at column 15")],
        [("quarantined",
          "invalid JSON: Expecting property name enclosed in double quotes at column 2")],
        [("quarantined", "invalid JSON: Expecting ',' delimiter at column 33")],
        [],
        [("quarantined", "invalid JSON: nested too deeply")],
        surrogate, surrogate, surrogate, surrogate,
    ]


def _float_literal(rnd: random.Random) -> str:
    digits = "".join(rnd.choice("0123456789") for _ in range(rnd.randint(1, 25))).lstrip("0")
    mantissa = digits or "0"
    if rnd.random() < 0.7:
        cut = rnd.randint(1, len(mantissa))
        mantissa = mantissa[:cut] + "." + (mantissa[cut:] or "0")
    exponent = f"{rnd.choice('eE')}{rnd.choice(['', '+', '-'])}{rnd.randint(0, 330)}"
    sign = rnd.choice(["", "-"])
    return sign + mantissa + (exponent if rnd.random() < 0.6 else "")


HARD_FLOATS = [
    "2.2250738585072011e-308", "2.2250738585072012e-308", "4.9406564584124654e-324",
    "2.4703282292062327e-324", "2.4703282292062328e-324", "1.7976931348623158e308",
    "9007199254740993", "9007199254740993.0", "0.1000000000000000055511151231257827",
    "1.00000000000000011102230246251565404236316680908203125",
    "1.00000000000000011102230246251565404236316680908203124",
    "7.038531e-26", "8.9255e-18", "1448997445238699", "9223372036854775807.5", "-0e0", "0e-999",
]


def test_float_literals_read_like_the_stdlib() -> None:
    rnd = random.Random(13)
    literals = HARD_FLOATS + [_float_literal(rnd) for _ in range(30000)]
    read = 0
    for literal in literals:
        content = b'{"text": "t", "meta": {"x": %s}}' % literal.encode()
        record = orjson_if_exact(content)
        if record is not None:
            assert repr(record) == repr(json.loads(content)), literal
            read += 1
    assert read > 17000


def _random_value(rnd: random.Random, depth: int) -> object:
    kind = rnd.randrange(9 if depth < 4 else 6)
    if kind == 0:
        return rnd.choice([None, True, False])
    if kind == 1:
        return rnd.choice([0, -1, 2**63 - 1, -(2**63), 2**64 - 1, 2**64, -(2**63) - 1, 10**25])
    if kind == 2:
        return rnd.choice([0.5, -0.0, 1e-7, 1e19, 123.456, 2.0**70, float("nan"), float("inf")])
    if kind in (3, 4, 5):
        alphabet = ['a', ' ', '"', '\\', '\n', '\t', '\x00', '\x7f', 'é', '\u2028', '😀', '\ud800',
                    '\udfff', '\ufeff', '/']
        return "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 8)))
    if kind in (6, 7):
        return {str(_random_value(rnd, 9))[:4]: _random_value(rnd, depth + 1)
                for _ in range(rnd.randint(0, 4))}
    return [_random_value(rnd, depth + 1) for _ in range(rnd.randint(0, 4))]


def _random_line(rnd: random.Random) -> bytes:
    record = {"text": _random_value(rnd, 3) if rnd.random() < 0.2 else _random_value(rnd, 9)}
    if rnd.random() < 0.8:
        record["meta"] = _random_value(rnd, 1) if rnd.random() < 0.2 else {
            "k": _random_value(rnd, 1), "redpajama_set_name": rnd.choice(["RedPajamaC4", 3])}
    text = json.dumps(record, ensure_ascii=rnd.random() < 0.5,
                      separators=rnd.choice([(",", ":"), (", ", ": ")]))
    if rnd.random() < 0.3:  # a duplicate key
        text = text[:-1] + (', "text": "dup"}' if len(text) > 2 else '"text": "dup"}')
    line = text.encode("utf-8", "surrogatepass")
    for _ in range(rnd.choice([0, 0, 1, 2])):  # byte damage
        at = rnd.randrange(len(line))
        line = line[:at] + bytes([rnd.randrange(256)]) + line[at + 1 :]
    return line


def test_random_and_damaged_lines_give_the_stdlib_result(monkeypatch) -> None:
    rnd = random.Random(7)
    via_orjson = 0
    for _ in range(6000):
        line = _random_line(rnd)
        if not line.strip() or line.endswith(b"\r"):
            continue
        try:
            expected = stdlib_parse(monkeypatch, line, "c4")
        except ValueError:  # an integer past 4300 digits after damage: json raises, unchanged
            continue
        assert repr(parse_record("src/f.jsonl", 7, line, "c4")) == expected, line
        via_orjson += orjson_if_exact(line) is not None
    assert via_orjson > 1400
