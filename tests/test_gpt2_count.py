"""GPT2TokenCounter must equal len(encode_ordinary(text)) exactly, for every text and cache state."""

from __future__ import annotations

import random

import numpy as np
import pytest
import tiktoken

from slimpajama.bench.corpus import realistic_corpus, synthetic_texts
from slimpajama.io.gpt2_count import (
    LETTER,
    NUMBER,
    OTHER,
    SPACE,
    GPT2TokenCounter,
    PieceTable,
    class_runs_blob,
    code_point_classes,
)
from slimpajama.io.tokenizer import GPT2_PAT_STR, gpt2_encoding

ALL_CODE_POINTS = np.setdiff1d(np.arange(0x110000, dtype=np.uint32),
                               np.arange(0xD800, 0xE000, dtype=np.uint32))
"""Every code point a Python str can encode (lone surrogates are tested apart)."""

WHITESPACE = ["\t", "\n", "\x0b", "\x0c", "\r", " ", "\r\n", "\x85", "\xa0", "\u1680", "\u2000",
              "\u200a", "\u2028", "\u2029", "\u202f", "\u205f", "\u3000"]
NOT_WHITESPACE = ["\x1c", "\x1f", "\u200b", "\u180e", "\ufeff"]  # str.isspace() or ZW, not \s
FOLLOWERS = ["a", "Z", "é", "9", "\u0661", "!", ".", "'", "'s", "'ll", "'S", "", "\u0301", "日", "😀"]


@pytest.fixture(scope="module")
def encoding() -> tiktoken.Encoding:
    return gpt2_encoding()


@pytest.fixture(scope="module")
def counter() -> GPT2TokenCounter:
    return GPT2TokenCounter()


def expected(encoding: tiktoken.Encoding, texts: list[str]) -> list[int]:
    return [len(encoding.encode_ordinary(text)) for text in texts]


def assert_exact(counter: GPT2TokenCounter, encoding: tiktoken.Encoding, texts: list[str]) -> None:
    want = expected(encoding, texts)
    got = counter.count_tokens(texts).tolist()
    bad = [(text[:80], w, g) for text, w, g in zip(texts, want, got, strict=True) if w != g]
    assert not bad, f"{len(bad)} wrong counts, e.g. {bad[:5]}"


def _joined_from_code_points(rows: np.ndarray) -> str:
    return rows.astype("<u4").tobytes().decode("utf-32-le")


def _shares_piece(prefix: str, before: str, after: str) -> np.ndarray:
    """bool per ALL_CODE_POINTS: does `prefix` share a GPT2_PAT_STR piece with the code point c in
    before + prefix + c + after? Observed with tiktoken's own regex: an encoding with the same
    pattern whose only merges are prefix + any byte, so a merged token starts at the prefix exactly
    when the prefix and c's first byte are in one piece."""
    head = prefix.encode()
    ranks = {bytes([b]): b for b in range(256)}
    ranks.update({head + bytes([b]): 256 + b for b in range(256)})
    probe = tiktoken.Encoding(name="piece-probe", pat_str=GPT2_PAT_STR, mergeable_ranks=ranks,
                              special_tokens={})
    fixed = [ord(ch) for ch in before + prefix]
    tail = [ord(ch) for ch in after]
    rows = np.empty((ALL_CODE_POINTS.size, len(fixed) + 1 + len(tail)), dtype=np.uint32)
    rows[:, : len(fixed)] = fixed
    rows[:, len(fixed)] = ALL_CODE_POINTS
    rows[:, len(fixed) + 1 :] = tail
    code_bytes = (1 + (ALL_CODE_POINTS >= 0x80) + (ALL_CODE_POINTS >= 0x800)
                  + (ALL_CODE_POINTS >= 0x10000)).astype(np.int64)
    row_bytes = code_bytes + len((before + prefix + after).encode())
    prefix_at = np.cumsum(row_bytes) - row_bytes + len(before.encode())
    tokens = np.asarray(probe.encode_ordinary(_joined_from_code_points(rows)))
    token_bytes = np.where(tokens >= 256, 2, 1)
    merged_at = (np.cumsum(token_bytes) - token_bytes)[tokens >= 256]
    row = np.searchsorted(prefix_at, merged_at)
    assert np.array_equal(prefix_at[row], merged_at), "a merge away from the prefix"
    shares = np.zeros(ALL_CODE_POINTS.size, dtype=bool)
    shares[row] = True
    return shares


def test_class_table_matches_tiktoken_regex_on_every_code_point() -> None:
    letter = _shares_piece("a", " ", "")  # " ac": one piece iff c is \p{L}
    number = _shares_piece("1", " ", "")
    space = _shares_piece("\t", "x", "\tx")  # "\tc\t" + x: "\tc" is a piece iff c is \s
    observed = np.full(0x110000, OTHER, dtype=np.uint8)
    for cls, mask in ((LETTER, letter), (NUMBER, number), (SPACE, space)):
        observed[ALL_CODE_POINTS[mask]] = cls
    assert int((letter.astype(int) + number + space).max()) == 1
    other = _shares_piece("!", " ", "")  # the rest is [^\s\p{L}\p{N}]
    assert np.array_equal(other, observed[ALL_CODE_POINTS] == OTHER)
    table = code_point_classes()
    wrong = ALL_CODE_POINTS[table[ALL_CODE_POINTS] != observed[ALL_CODE_POINTS]]
    assert wrong.size == 0, (f"{wrong.size} code points misclassified, e.g. {wrong[:10]}; "
                             f"new _CLASS_RUNS: {class_runs_blob(observed)}")


@pytest.mark.parametrize("context", ["a{}1", " {}{}'s", "\n{}  x", "!{}\u0301"])
def test_every_code_point_in_context(counter: GPT2TokenCounter, encoding: tiktoken.Encoding,
                                     context: str) -> None:
    chars = [chr(c) for c in ALL_CODE_POINTS.tolist()]
    texts = ["".join(context.format(c, c) for c in chars[i : i + 97])
             for i in range(0, len(chars), 97)]
    assert_exact(counter, encoding, texts)


def test_realistic_corpus_per_document(counter: GPT2TokenCounter,
                                       encoding: tiktoken.Encoding) -> None:
    corpus = realistic_corpus(3, seed=0)
    for texts in corpus.values():
        assert_exact(counter, encoding, texts)
        assert [counter(text) for text in texts[:50]] == expected(encoding, texts[:50])


def test_synthetic_texts(counter: GPT2TokenCounter, encoding: tiktoken.Encoding) -> None:
    assert_exact(counter, encoding, synthetic_texts(1_000_000, seed=3))


def adversarial_texts() -> list[str]:
    texts = ["", " ", "a", "'", "'s", "<|endoftext|>", "x<|endoftext|>y", "\x00", "\x00\x01\x7f",
             "don't", "'s at start", "it 's", "''s", "'S", "'ll'", "x'd'", "'re's", "1's", "'t'",
             "'ve", "'m", "'l", "'lL", "'dd", "a'sb", "!'s", "?'ll", "'\n's", "\t's", "\u00a0's",
             "'", "''", "x'", "x''", "'s'", "'s's", "é's", "日's", "😀's", "'ʼs", "`s", "\u2019s",
             "a" * 100_000, " " * 100_000, " " * 100_000 + "x", "x" + " " * 100_000,
             "1" * 50_000 + "a", "!" * 60_000, "'s" * 30_000, "\n" * 70_000 + "z",
             "supercalifragilisticexpialidocious", " antidisestablishmentarianism",
             "ünïcödé-wörds-æøå-ŁÓDŹ", "Привет, мир! Длинные русские слова", "日本語のテキスト、とても長い文章です。",
             "😀🎉🚀🌍🔥✨📚🤖" * 5, "👨‍👩‍👧‍👦 family", "🇫🇷🇩🇪", "e\u0301\u0301 a\u0300", "\u0915\u094d\u0937",
             "\u0660\u0661\u0662 \u0966\u0967 ١٢٣", "𝐀𝐁𝐂 𝑥𝑦 𐐀𐐁", "\U00020000\U0002a6d6 x", "Ⅻ ½ ²³ ①",
             "a\ud800b", "\udfff", "x \ud83d y", "\ufffd", "\uffff\U0010ffff", "\u0378 unassigned",
             "http://example.com/a_very_long_path/with-many-pieces?q=1&r=2", "    def f(x):\n        return x",
             "a\r\nb\r\n\r\n", "end \n", "end\n ", "end  ", " \n \n", "\t\t\tx", " \t x", "x \t", "\x0b\x0c",
             ]
    kinds = WHITESPACE + NOT_WHITESPACE
    for kind in kinds:
        for run in (1, 2, 3):
            for follower in FOLLOWERS + [k for k in kinds[:8]]:
                for lead in ("", "a", "'", " "):
                    texts.append(lead + kind * run + follower)
                texts.append("x" + kind * run + " " + follower)
    return texts


def test_adversarial(counter: GPT2TokenCounter, encoding: tiktoken.Encoding) -> None:
    texts = adversarial_texts()
    assert_exact(counter, encoding, texts)
    want = expected(encoding, texts)
    assert [counter(text) for text in texts] == want
    assert [int(counter.count_tokens([text])[0]) for text in texts] == want  # one text per batch


def test_long_pieces(counter: GPT2TokenCounter, encoding: tiktoken.Encoding) -> None:
    rnd = random.Random(5)
    alphabet = "abcdefghijklmnopqrstuvwxyzéß日"
    texts = [" " + "".join(rnd.choice(alphabet) for _ in range(n)) for n in range(1, 40)
             for _ in range(20)]
    assert_exact(counter, encoding, texts)
    tiny = GPT2TokenCounter(encoding, table_bits=7, max_long_pieces=5)  # every table overflows
    assert_exact(tiny, encoding, texts)
    assert [tiny(text) for text in texts] == expected(encoding, texts)


def test_seeded_fuzz(encoding: tiktoken.Encoding) -> None:
    rnd = random.Random(13)
    alphabet = (["a", "b", "s", "t", "l", "e", "v", "r", "d", "m", "S", "1", "2", "'", "!", ".",
                 " ", " ", "  ", "\t", "\n", "\r\n", "\xa0", "\u3000", "\x85", "\x00", "é", "日",
                 "😀", "\u0301", "\u0661", "'s", "'ll", "'re", "\ud800"])
    texts = ["".join(rnd.choice(alphabet) for _ in range(rnd.randrange(0, 30))) for _ in range(6000)]
    for table_bits in (21, 6):  # a tiny table is cleared over and over
        counter = GPT2TokenCounter(encoding, table_bits=table_bits, max_long_pieces=3)
        assert_exact(counter, encoding, texts)


def test_batch_equals_single_and_cache_state_never_matters(encoding: tiktoken.Encoding) -> None:
    texts = [text for texts in realistic_corpus(1, seed=1).values() for text in texts[:40]]
    texts += adversarial_texts()[:300]
    want = expected(encoding, texts)
    fresh = GPT2TokenCounter(encoding)
    assert fresh.count_tokens(texts).tolist() == want  # cold
    assert fresh.count_tokens(texts).tolist() == want  # warm
    assert [fresh(text) for text in texts] == want
    assert fresh.count_tokens(texts[::-1]).tolist() == want[::-1]
    tiny = GPT2TokenCounter(encoding, table_bits=8, max_long_pieces=2)  # evicts constantly
    assert [tiny(text) for text in texts] == want
    assert tiny.count_tokens(texts).tolist() == want
    tiny.clear()
    assert tiny.count_tokens(texts).tolist() == want
    assert fresh.count_tokens([]).tolist() == []


def test_piece_table_generations() -> None:
    table = PieceTable(key_words=2, bits=4)  # 16 slots, 8 keys per generation

    def keys(first: int, n: int) -> list[np.ndarray]:
        low = np.arange(first, first + n, dtype=np.uint64) * np.uint64(0x10001)
        return [low, np.full(n, 5 << 56, dtype=np.uint64)]  # "length 5"

    counts = np.arange(1, 9, dtype=np.uint8)
    table.insert(keys(0, 8), counts)
    assert table.lookup(keys(0, 8)).tolist() == counts.tolist()
    assert table.lookup(keys(100, 3)).tolist() == [0, 0, 0]
    table.insert(keys(8, 8), counts + 10)  # over half: 0..7 become the previous generation
    assert table.filled == 8
    assert table.lookup(keys(0, 16)).tolist() == [*counts.tolist(), *(counts + 10).tolist()]
    # promoting 0..7 (hits in the previous generation) filled the current one: 8..15 went back
    table.insert(keys(16, 8), counts + 20)  # ... and now out
    found = table.lookup(keys(0, 24)).tolist()
    assert found == [*counts.tolist(), *[0] * 8, *(counts + 20).tolist()]
    table.insert(keys(30, 8), counts)
    table.insert(keys(40, 8), counts)  # two rotations later, 0..23 are all gone
    assert table.lookup(keys(0, 24)).tolist() == [0] * 24
