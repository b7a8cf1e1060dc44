"""MinHash schemes: bit-exactness vs datasketch, the fast scheme vs a plain-Python model,
unbiasedness, the short-text rule and batch independence."""

from __future__ import annotations

import random

import numpy as np
import pytest
from datasketch import MinHash
from datasketch.hashfunc import sha1_hash32

import slimpajama.core.shingles as shingles_module
from slimpajama.bench.corpus import mutated_pairs, synthetic_texts
from slimpajama.core.jaccard import shingle_hash_sets
from slimpajama.core.keytext import key_text
from slimpajama.core.minhash import (
    MinHashParams,
    _legacy_minima,
    probe_order,
    sign_texts,
    signatures,
)
from slimpajama.core.shingles import hash_constants

MAX32 = 0xFFFFFFFF
M64 = (1 << 64) - 1
HANDCRAFTED = [
    "",
    "a",
    "twelve chars",  # 12 < 13
    "thirteen char",  # exactly 13
    "fourteen chars",
    "The quick brown fox jumps over the lazy dog",
    "crème brûlée à la française, déjà vu, naïve façade",
    "机器学习是人工智能的一个分支它使计算机能够从数据中学习",
    "emoji 👍🏽 family 👨‍👩‍👧‍👦 flag 🇫🇷 rocket 🚀🚀🚀 done",
    "def f(x):\n\treturn x + 1\n\nclass A:\n\tpass\n",
    "tabs\tand\nnewlines\r\nmixed \x0b vertical",
    "العربية نص قصير للاختبار مع كلمات كثيرة",
    "हिन्दी पाठ का एक छोटा सा उदाहरण यहाँ है",
    "z\u0301\u0302\u0303 combining marks e\u0301te\u0301",
    "\x00nul\x00bytes\x00in\x00text\x00here",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "word " * 40,
    "two  spaces   three    four",
    " leading space and trailing ",
]


def varied_texts() -> list[str]:
    """>= 1,000 deterministic texts: corpus slices (raw and key), random code points, handcrafted."""
    rng = random.Random(7)
    corpus = " ".join(synthetic_texts(400_000, seed=11))
    texts = list(HANDCRAFTED)
    for i in range(700):
        length = rng.choice([rng.randint(0, 15), rng.randint(15, 120), rng.randint(120, 600)])
        start = rng.randint(0, len(corpus) - length)
        piece = corpus[start : start + length]
        texts.append(key_text(piece) if i % 2 else piece)
    alphabet = [
        *range(0x20, 0x7F),
        0x9,
        0xA,
        *range(0xC0, 0x180),
        *range(0x4E00, 0x4E40),
        *range(0x1F600, 0x1F640),
        0x10FFFF,
        0xFEFF,
    ]
    for _ in range(300):
        length = rng.choice([rng.randint(1, 14), rng.randint(14, 300)])
        texts.append("".join(chr(rng.choice(alphabet)) for _ in range(length)))
    return texts


VARIED = varied_texts()
MEGABYTE_TEXT = key_text(" ".join(synthetic_texts(1_050_000, seed=3)))


def slimpajama_shingles(text: str, ngram: int, shingle: str) -> list[bytes]:
    """UTF-8 shingles the way SlimPajama built them, plus our short-text rule."""
    if shingle == "char":
        grams = [text[i : i + ngram] for i in range(len(text) - ngram + 1)]
    else:
        words = text.split(" ") if text else []
        grams = [" ".join(words[i : i + ngram]) for i in range(len(words) - ngram + 1)]
    if not grams and text:
        grams = [text]  # the short-text rule, the only deviation from the reference
    return [g.encode("utf-8") for g in grams]


def datasketch_signature(text: str, params: MinHashParams) -> np.ndarray:
    scheme = "legacy" if params.scheme == "reference" else "affine32"
    sketch = MinHash(
        num_perm=params.num_perm, seed=params.seed, hashfunc=sha1_hash32, scheme=scheme
    )
    grams = slimpajama_shingles(text, params.ngram, params.shingle)
    for first in range(0, len(grams), 1 << 16):  # bounded update_batch memory
        sketch.update_batch(grams[first : first + (1 << 16)])
    assert int(sketch.hashvalues.max()) <= MAX32
    return sketch.hashvalues.astype(np.uint32)


def assert_matches_datasketch(texts: list[str], params: MinHashParams) -> None:
    ours = signatures(texts, params)
    assert ours.shape == (len(texts), params.num_perm)
    assert ours.dtype == np.uint32 and ours.flags.c_contiguous
    for i, text in enumerate(texts):
        np.testing.assert_array_equal(
            ours[i], datasketch_signature(text, params), err_msg=repr(text[:80])
        )


def test_varied_texts_cover_the_required_kinds() -> None:
    assert len(VARIED) >= 1000
    assert "" in VARIED
    assert sum(0 < len(t) < 13 for t in VARIED) >= 50
    assert any(not t.isascii() for t in VARIED)
    assert len(MEGABYTE_TEXT.encode()) >= 1_000_000


@pytest.mark.parametrize("scheme", ["reference", "affine32"])
def test_bit_identical_to_datasketch_on_1000_varied_texts(scheme: str) -> None:
    assert_matches_datasketch(VARIED + [MEGABYTE_TEXT], MinHashParams(scheme=scheme, num_perm=16))


@pytest.mark.parametrize("scheme", ["reference", "affine32"])
def test_bit_identical_to_datasketch_with_128_permutations(scheme: str) -> None:
    assert_matches_datasketch(VARIED[::6], MinHashParams(scheme=scheme, num_perm=128))


@pytest.mark.parametrize("scheme", ["reference", "affine32"])
def test_bit_identical_to_datasketch_word_shingles(scheme: str) -> None:
    params = MinHashParams(scheme=scheme, num_perm=32, ngram=5, shingle="word")
    assert_matches_datasketch(VARIED[::3] + [MEGABYTE_TEXT[:100_000]], params)


def test_reference_short_text_rule_is_the_only_deviation() -> None:
    params = MinHashParams(scheme="reference", num_perm=128)
    short = ["a", "short text", "twelve chars", "日本語のテキスト"]
    ours = signatures(short, params)
    for text, row in zip(short, ours, strict=True):
        # datasketch fed the whole text as one shingle gives our signature...
        sketch = MinHash(num_perm=128, seed=1, hashfunc=sha1_hash32, scheme="legacy")
        sketch.update(text.encode("utf-8"))
        np.testing.assert_array_equal(row, sketch.hashvalues.astype(np.uint32))
        # ...while SlimPajama (no shingle at all) gave every short text the all-max signature
        assert (row != MAX32).all()
    assert len({row.tobytes() for row in ours}) == len(short)
    # a 13-char text is a normal text: one 13-gram, identical to datasketch with no special rule
    sketch = MinHash(num_perm=128, seed=1, hashfunc=sha1_hash32, scheme="legacy")
    sketch.update(b"thirteen char")
    np.testing.assert_array_equal(signatures(["thirteen char"], params)[0], sketch.hashvalues)


@pytest.mark.parametrize("scheme", ["fast", "reference", "affine32"])
@pytest.mark.parametrize(("ngram", "shingle"), [(13, "char"), (5, "word")])
def test_short_and_empty_texts(scheme: str, ngram: int, shingle: str) -> None:
    params = MinHashParams(scheme=scheme, num_perm=64, ngram=ngram, shingle=shingle)
    short = ["a", "b", "ab", "ba", "one two", "two one", "a b c d", "héllo", "🚀"]
    rows = signatures(["", *short, ""], params)
    assert (rows[0] == MAX32).all() and (rows[-1] == MAX32).all()
    assert len({row.tobytes() for row in rows[1:-1]}) == len(short)
    assert not (rows[1:-1] == MAX32).any()
    if scheme == "fast":  # one shingle: OPH fills every bin with its single value
        assert (rows[1:-1] == rows[1:-1, :1]).all()


@pytest.mark.parametrize("scheme", ["fast", "reference", "affine32"])
@pytest.mark.parametrize(("ngram", "shingle"), [(13, "char"), (5, "word")])
def test_signature_does_not_depend_on_the_batch(
    scheme: str, ngram: int, shingle: str, monkeypatch
) -> None:
    params = MinHashParams(scheme=scheme, num_perm=16, ngram=ngram, shingle=shingle)
    texts = VARIED[:120] + [MEGABYTE_TEXT[:20_000]]
    together = signatures(texts, params)
    alone = np.vstack([signatures([t], params) for t in texts])
    np.testing.assert_array_equal(together, alone)
    order = list(range(len(texts)))
    random.Random(3).shuffle(order)
    shuffled = signatures([texts[i] for i in order], params)
    np.testing.assert_array_equal(shuffled, together[order])
    # tiny chunks: long texts split into overlapping pieces, short ones spread over many chunks
    monkeypatch.setattr(shingles_module, "CHUNK_CODE_POINTS", 37)
    np.testing.assert_array_equal(signatures(texts, params), together)


def test_sign_texts_applies_key_text_first() -> None:
    params = MinHashParams()
    raw = ["Hello,   World! This is SlimPajama.", "Tabs\tand\nnewlines, PUNCTUATION!!!"]
    np.testing.assert_array_equal(
        sign_texts(raw, params), signatures([key_text(t) for t in raw], params)
    )
    assert (
        sign_texts(["Hello, World! this is slim"], params)
        == sign_texts(["hello world this is slim"], params)
    ).all()


def test_params_tag_and_validation() -> None:
    assert MinHashParams().tag == "fast:char13:p128:s1"
    assert MinHashParams("reference", 64, 5, "word", 7).tag == "reference:word5:p64:s7"
    for bad in ({"scheme": "legacy"}, {"shingle": "token"}, {"ngram": 0}, {"num_perm": 0}):
        with pytest.raises(ValueError):
            MinHashParams(**bad)


def test_different_seeds_give_different_fast_signatures() -> None:
    text = [VARIED[40]]
    assert (
        signatures(text, MinHashParams(seed=1)) != signatures(text, MinHashParams(seed=2))
    ).mean() > 0.9


def test_legacy_fast_reduction_falls_back_to_exact_when_the_mersenne_fold_is_off_by_one() -> None:
    """Crafted (a, b) put (x & P) + (x >> 61) at or above P, where the fast path is wrong."""
    prime = (1 << 61) - 1
    a = np.array([[1], [1], [3], [1 << 40]], dtype=np.uint64)
    b = np.array([[prime - 5], [(7 << 61) + prime - 9], [12345], [prime - 1]], dtype=np.uint64)
    hashes = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 4_000_000_000], dtype=np.uint32)
    starts = np.array([0, 3, 7])
    expected = np.empty((4, 3), dtype=np.uint32)
    for row in range(4):
        values = [
            ((int(a[row, 0]) * int(h) + int(b[row, 0])) & M64) % prime & MAX32 for h in hashes
        ]
        expected[row] = [min(values[0:3]), min(values[3:7]), min(values[7:])]
    np.testing.assert_array_equal(_legacy_minima(hashes, starts, a, b), expected)


# ---------------------------------------------------------------------------------------------
# fast scheme: vectorized implementation == a plain-Python statement of its definition


def fmix64_model(x: int) -> int:
    x ^= x >> 33
    x = (x * 0xFF51AFD7ED558CCD) & M64
    x ^= x >> 33
    x = (x * 0xC4CEB9FE1A85EC53) & M64
    return x ^ (x >> 33)


def shingle_hashes_model(text: str, ngram: int, shingle: str, seed: int) -> list[int]:
    constants = hash_constants(seed)
    base, offset = int(constants.base), int(constants.offset)

    def hashed(values: list[int], tag: int) -> int:
        poly = 0
        for value in values:
            poly = (poly * base + value) & M64
        return fmix64_model((poly + len(values) * tag + offset) & M64)

    if shingle == "char":
        sequence, tag = [ord(c) for c in text], int(constants.char_tag)
    else:
        words = text.split(" ") if text else []
        sequence = [hashed([ord(c) for c in w], int(constants.word_tag)) for w in words]
        tag = int(constants.gram_tag)
    windows = [sequence[i : i + ngram] for i in range(len(sequence) - ngram + 1)]
    if not windows and sequence:
        windows = [sequence]
    return [hashed(w, tag) for w in windows]


def fast_signature_model(text: str, params: MinHashParams) -> list[int]:
    k = params.num_perm
    bins: list[int | None] = [None] * k
    for h in shingle_hashes_model(text, params.ngram, params.shingle, params.seed):
        j = ((h >> 32) * k) >> 32
        value = h & MAX32
        bins[j] = value if bins[j] is None else min(bins[j], value)
    if all(v is None for v in bins):
        return [MAX32] * k
    order = probe_order(k, params.seed)
    return [
        v if v is not None else next(bins[q] for q in order[j] if bins[q] is not None)
        for j, v in enumerate(bins)
    ]


@pytest.mark.parametrize(
    ("ngram", "shingle", "num_perm"), [(13, "char", 128), (5, "word", 64), (3, "char", 7)]
)
def test_fast_scheme_matches_its_plain_python_definition(
    ngram, shingle, num_perm, monkeypatch
) -> None:
    params = MinHashParams(num_perm=num_perm, ngram=ngram, shingle=shingle, seed=5)
    texts = HANDCRAFTED + VARIED[100:160] + [MEGABYTE_TEXT[:5000]]
    expected = np.array([fast_signature_model(t, params) for t in texts], dtype=np.uint32)
    np.testing.assert_array_equal(signatures(texts, params), expected)
    monkeypatch.setattr(shingles_module, "CHUNK_CODE_POINTS", 50)
    np.testing.assert_array_equal(signatures(texts, params), expected)


def test_probe_order_rows_are_permutations() -> None:
    order = probe_order(128, 1)
    assert order.shape == (128, 128)
    assert (np.sort(order, axis=1) == np.arange(128)).all()
    assert len({row.tobytes() for row in order}) == 128


# ---------------------------------------------------------------------------------------------
# fast scheme: the Jaccard estimate is unbiased with MinHash-like error


@pytest.mark.parametrize(("count", "low", "high"), [(1500, 200, 1000), (400, 2000, 6000)])
def test_fast_jaccard_estimate_is_unbiased(count: int, low: int, high: int) -> None:
    k = 128
    first, second = mutated_pairs(count, low, high, seed=low)
    params = MinHashParams(num_perm=k)
    estimate = (signatures(first, params) == signatures(second, params)).mean(axis=1)
    sets_a, sets_b = shingle_hash_sets(first), shingle_hash_sets(second)
    union = np.array([np.union1d(a, b).size for a, b in zip(sets_a, sets_b, strict=True)])
    exact = (
        np.array([np.intersect1d(a, b).size for a, b in zip(sets_a, sets_b, strict=True)]) / union
    )
    assert 0.3 < exact.mean() < 0.9 and exact.std() > 0.1  # a real spread of similarities
    error = estimate - exact
    rmse = float(np.sqrt(np.mean(error**2)))
    minhash_rmse = float(np.sqrt(np.mean(exact * (1 - exact) / k)))
    assert abs(error.mean()) < 0.005
    # never worse than k-permutation MinHash by more than 10 %
    assert rmse < 1.10 * minhash_rmse
    # and as noisy as one-permutation hashing should be: bins sample the union without
    # replacement (finite-population factor (|U|-k)/(|U|-1)), so on small sets OPH beats MinHash
    oph_rmse = float(np.sqrt(np.mean(exact * (1 - exact) / k * (union - k) / (union - 1))))
    assert 0.9 * oph_rmse < rmse < 1.1 * oph_rmse


@pytest.mark.parametrize("scheme", ["fast", "reference", "affine32"])
def test_empty_batch(scheme: str) -> None:
    out = signatures([], MinHashParams(scheme=scheme, num_perm=32))
    assert out.shape == (0, 32) and out.dtype == np.uint32


@pytest.mark.parametrize("scheme", ["fast", "reference", "affine32"])
def test_lone_surrogates_are_hashed_not_rejected(scheme: str) -> None:
    params = MinHashParams(scheme=scheme, num_perm=32, ngram=3)
    texts = ["ab\ud800cd", "ab\udfffcd", "ab\ud800cd"]
    rows = signatures(texts, params)
    np.testing.assert_array_equal(rows[0], rows[2])
    assert (rows[0] != rows[1]).any()
