"""GPT2TokenCounter must equal len(encode_ordinary(text)) exactly, and GPT2TokenEncoder's ids
encode_ordinary(text) itself, for every text and cache state."""

from __future__ import annotations

import importlib.metadata
import random
import warnings

import numpy as np
import pytest
import tiktoken

from slimpajama.bench.corpus import realistic_corpus, synthetic_texts
from slimpajama.io import gpt2_count
from slimpajama.io.gpt2_count import (
    CLASS_TABLE_TIKTOKEN,
    LETTER,
    NUMBER,
    OTHER,
    PIECE_PATTERN,
    SPACE,
    GPT2TokenCounter,
    GPT2TokenEncoder,
    PieceTable,
    class_runs_blob,
    code_point_classes,
    encodable_code_points,
    observed_code_point_classes,
    shared_counter,
    shared_encoder,
    shares_piece,
    stored_code_point_classes,
)
from slimpajama.io.tokenizer import GPT2_PAT_STR, gpt2_encoding

ALL_CODE_POINTS = encodable_code_points()
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


def test_class_table_matches_tiktoken_regex_on_every_code_point(
        monkeypatch: pytest.MonkeyPatch) -> None:
    observed = observed_code_point_classes()
    code_points = encodable_code_points()
    other = shares_piece("!", " ", "")  # " !" + c is one piece iff c is [^\s\p{L}\p{N}]
    assert np.array_equal(other, observed[code_points] == OTHER)
    if importlib.metadata.version("tiktoken") == CLASS_TABLE_TIKTOKEN:  # else not used
        stored = stored_code_point_classes()
        wrong = code_points[stored[code_points] != observed[code_points]]
        assert wrong.size == 0, (f"{wrong.size} code points misclassified, e.g. {wrong[:10]}; "
                                 f"new _CLASS_RUNS: {class_runs_blob(observed)}")
    assert np.array_equal(code_point_classes(), observed)  # whatever tiktoken is installed


def test_another_tiktoken_version_gets_its_observed_table_kept_on_disk(
        monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    observed = stored_code_point_classes().copy()
    observed[0x41] = OTHER  # a table that differs from the stored one
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(gpt2_count, "CLASS_TABLE_TIKTOKEN", "0.0.0")
    monkeypatch.setattr(gpt2_count, "observed_code_point_classes", lambda: observed.copy())
    version = importlib.metadata.version("tiktoken")
    kept = tmp_path / "slimpajama" / f"gpt2-code-point-classes-tiktoken-{version}.txt"
    code_point_classes.cache_clear()
    try:
        with pytest.warns(UserWarning, match="observing its regex classes"):
            assert np.array_equal(code_point_classes(), observed)
        assert kept.read_text() == class_runs_blob(observed)
        code_point_classes.cache_clear()
        monkeypatch.setattr(gpt2_count, "observed_code_point_classes", lambda: 1 / 0)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert np.array_equal(code_point_classes(), observed)  # read back, not observed
        kept.write_text("not a table")
        code_point_classes.cache_clear()
        monkeypatch.setattr(gpt2_count, "observed_code_point_classes", lambda: observed.copy())
        with pytest.warns(UserWarning, match="observing"):
            assert np.array_equal(code_point_classes(), observed)
    finally:
        code_point_classes.cache_clear()


def test_counter_implements_the_gpt2_pattern_only(encoding: tiktoken.Encoding) -> None:
    assert PIECE_PATTERN == GPT2_PAT_STR == encoding._pat_str
    other = tiktoken.Encoding(name="other", pat_str=r"\S+|\s+", special_tokens={},
                              mergeable_ranks={bytes([b]): b for b in range(256)})
    with pytest.raises(ValueError, match="is not"):
        GPT2TokenCounter(other)


def test_observed_classes_of_known_code_points() -> None:
    classes = code_point_classes()
    for text, cls in (("aZé\u00aa\u01c5\u02b0\u4e00\U00020000\U0001d400", LETTER),
                      ("09\u00b2\u00bd\u0660\u2160\u2460", NUMBER),
                      ("\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2028\u2029\u202f\u3000",
                       SPACE),
                      ("'!.\x00\x1c\x1f\u0301\u200b\u180e\ufeff\U0001f600\ue000\U0010ffff",
                       OTHER)):
        assert [int(classes[ord(ch)]) for ch in text] == [cls] * len(text), text


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
    assert shared_counter() is shared_counter()
    assert shared_counter().count_tokens(texts).tolist() == want


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


@pytest.fixture(scope="module")
def encoder() -> GPT2TokenEncoder:
    return GPT2TokenEncoder()


def assert_encoded(encoder: GPT2TokenEncoder, encoding: tiktoken.Encoding,
                   texts: list[str]) -> None:
    """encode_batch(texts) == encode_ordinary of each text: same ids, same order, same counts."""
    ids, counts = encoder.encode_batch(texts)
    assert ids.dtype == np.uint32 and counts.dtype == np.int64
    assert counts.size == len(texts) and int(counts.sum()) == ids.size
    ends = np.cumsum(counts).tolist()
    bad = []
    for text, start, end in zip(texts, [0, *ends[:-1]], ends, strict=True):
        want = encoding.encode_ordinary(text)
        if ids[start:end].tolist() != want:
            bad.append((text[:60], want[:8], ids[start:end][:8].tolist()))
    assert not bad, f"{len(bad)} of {len(texts)} texts encoded wrong, e.g. {bad[:3]}"


def test_encode_realistic_corpus_per_document(encoder: GPT2TokenEncoder,
                                              encoding: tiktoken.Encoding) -> None:
    for texts in realistic_corpus(3, seed=0).values():
        assert_encoded(encoder, encoding, texts)


def test_encode_synthetic_and_adversarial(encoder: GPT2TokenEncoder,
                                          encoding: tiktoken.Encoding) -> None:
    assert_encoded(encoder, encoding, synthetic_texts(1_000_000, seed=3))
    texts = adversarial_texts()
    assert_encoded(encoder, encoding, texts)
    for text in texts[::7]:  # one text per batch
        assert_encoded(encoder, encoding, [text])
    assert encoder.count_tokens(texts).tolist() == expected(encoding, texts)


def test_encode_every_code_point_in_context(encoding: tiktoken.Encoding) -> None:
    chars = [chr(c) for c in ALL_CODE_POINTS.tolist()]
    encoder = GPT2TokenEncoder(encoding)
    for context in ("a{}1", " {}{}'s", "\n{}  x", "!{}\u0301"):
        texts = ["".join(context.format(c, c) for c in chars[i : i + 97])
                 for i in range(0, len(chars), 97)]
        want = [encoding.encode_to_numpy(text) for text in texts]  # = encode_ordinary here
        ids, counts = encoder.encode_batch(texts)
        assert np.array_equal(ids, np.concatenate(want))
        assert counts.tolist() == [len(text_ids) for text_ids in want]


def test_encode_seeded_fuzz_and_long_pieces(encoding: tiktoken.Encoding) -> None:
    rnd = random.Random(17)
    alphabet = (["a", "b", "s", "t", "l", "e", "v", "r", "d", "m", "S", "1", "2", "'", "!", ".",
                 " ", " ", "  ", "\t", "\n", "\r\n", "\xa0", "\u3000", "\x85", "\x00", "é", "日",
                 "😀", "\u0301", "\u0661", "'s", "'ll", "'re", "\ud800", "xyzzyplugh", " ünïcödé"])
    texts = ["".join(rnd.choice(alphabet) for _ in range(rnd.randrange(0, 30))) for _ in range(6000)]
    texts += [" " + "".join(rnd.choice("abcdefghijklmnopqrstuvwxyzéß日😀") for _ in range(n))
              for n in range(1, 60) for _ in range(10)]
    rnd.shuffle(texts)
    for table_bits in (21, 6):  # a tiny table rotates its generations over and over
        encoder = GPT2TokenEncoder(encoding, table_bits=table_bits, max_long_pieces=3)
        assert_encoded(encoder, encoding, texts)
        assert_encoded(encoder, encoding, texts)


def test_encode_batch_equals_single_and_cache_state_never_matters(
        encoding: tiktoken.Encoding) -> None:
    texts = [text for texts in realistic_corpus(1, seed=1).values() for text in texts[:40]]
    texts += adversarial_texts()[:300]
    want_ids = [encoding.encode_ordinary(text) for text in texts]
    flat = [i for ids in want_ids for i in ids]
    fresh = GPT2TokenEncoder(encoding)
    for _ in ("cold", "warm"):
        ids, counts = fresh.encode_batch(texts)
        assert ids.tolist() == flat
        assert counts.tolist() == [len(ids) for ids in want_ids]
    assert [fresh.encode_batch([text])[0].tolist() for text in texts] == want_ids
    assert fresh.encode_batch(texts[::-1])[0].tolist() == [i for ids in want_ids[::-1] for i in ids]
    for table_bits in (4, 8):  # evicts constantly
        tiny = GPT2TokenEncoder(encoding, table_bits=table_bits, max_long_pieces=2)
        assert [tiny.encode_batch([text])[0].tolist() for text in texts] == want_ids
        assert tiny.encode_batch(texts)[0].tolist() == flat
        assert tiny.count_tokens(texts).tolist() == [len(ids) for ids in want_ids]
        tiny.clear()
        assert tiny.encode_batch(texts)[0].tolist() == flat
    ids, counts = fresh.encode_batch([])
    assert ids.tolist() == [] and counts.tolist() == []
    assert fresh.encode_batch(["", "", ""])[1].tolist() == [0, 0, 0]
    assert shared_encoder() is shared_encoder()
    assert shared_encoder().encode_batch(texts)[0].tolist() == flat
    assert shared_encoder().cache_bytes() <= 150_000_000


def looked_up(table: PieceTable, keys: list[np.ndarray]) -> tuple[list[int], list[int]]:
    """(counts, ids of the found keys back to back) from `table.lookup(keys, with_ids=True)`."""
    counts, first, multi, rest = table.lookup(keys, with_ids=True)
    assert multi.tolist() == np.flatnonzero(counts > 1).tolist()
    rest_ends = np.cumsum(counts[multi].astype(np.int64) - 1).tolist()
    assert rest.size == (rest_ends[-1] if rest_ends else 0)
    rest_of = dict(zip(multi.tolist(), np.split(rest, rest_ends[:-1]), strict=True))
    ids: list[int] = []
    for key, count in enumerate(counts.tolist()):
        if count:
            ids += [int(first[key]), *rest_of.get(key, np.zeros(0, np.uint16)).tolist()]
    return counts.tolist(), ids


def test_piece_table_keeps_ids_across_generations() -> None:
    table = PieceTable(key_words=2, bits=4, ids_per_key=2)  # 8 keys or 16 ids per generation

    def keys(first: int, n: int) -> list[np.ndarray]:
        low = np.arange(first, first + n, dtype=np.uint64) * np.uint64(0x10001)
        return [low, np.full(n, 5 << 56, dtype=np.uint64)]

    def ids_of(first: int, n: int) -> list[int]:  # key k has 3 ids: 100k, 100k + 1, 100k + 2
        return [100 * k + j for k in range(first, first + n) for j in range(3)]

    three = np.full(4, 3, dtype=np.uint8)
    table.insert(keys(0, 4), three, np.array(ids_of(0, 4), dtype=np.uint16))
    assert table.ids_used == 12
    assert looked_up(table, keys(0, 4)) == ([3] * 4, ids_of(0, 4))
    table.insert(keys(4, 2), three[:2], np.array(ids_of(4, 2), dtype=np.uint16))  # store full
    assert (table.filled, table.ids_used) == (2, 6)
    # keys 0..3 are found in the previous generation and promoted (6 + 12 > 16 ids: 4, 5 become
    # the previous generation), keys 10, 11 nowhere
    with_absent = [np.r_[known, absent] for known, absent in zip(keys(0, 6), keys(10, 2), strict=True)]
    assert looked_up(table, with_absent) == ([3] * 6 + [0, 0], ids_of(0, 6))
    assert looked_up(table, keys(0, 6)) == ([3] * 6, ids_of(0, 6))
    assert table.lookup(keys(0, 6)).tolist() == [3] * 6
    one = np.ones(2, dtype=np.uint8)  # keys of one id and of none (absent) together
    table.insert(keys(20, 1), one[:1], np.array([7], dtype=np.uint16))
    assert looked_up(table, [np.r_[a, b, c] for a, b, c in zip(keys(20, 1), keys(21, 1), keys(0, 1),
                                                             strict=True)]) == ([1, 0, 3], [7, *ids_of(0, 1)])
    with pytest.raises(ValueError, match="ids must be given"):
        table.insert(keys(30, 1), three[:1])


def test_long_piece_cache_is_bounded_in_bytes(encoding: tiktoken.Encoding,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    encoder = GPT2TokenEncoder(encoding, table_bits=8)
    fixed = encoder.cache_bytes()
    huge = "x" + "ab" * 300_000  # one piece of 600,001 bytes: encoded, never cached
    ids, counts = encoder.encode_batch([huge, huge])
    assert counts.tolist() == [len(encoding.encode_ordinary(huge))] * 2
    assert ids.tolist() == encoding.encode_ordinary(huge) * 2
    assert encoder.cache_bytes() == fixed
    monkeypatch.setattr(gpt2_count, "LONG_CACHE_BYTES", 2_000)
    rng = random.Random(5)
    texts = [" ".join("".join(rng.choice("abcdefgh") for _ in range(rng.randint(31, 300)))
                      for _ in range(4)) for _ in range(60)]
    ids, counts = encoder.encode_batch(texts)
    assert counts.tolist() == [len(encoding.encode_ordinary(t)) for t in texts]
    assert ids.tolist() == [i for t in texts for i in encoding.encode_ordinary(t)]
    assert fixed < encoder.cache_bytes() <= fixed + 2_000
