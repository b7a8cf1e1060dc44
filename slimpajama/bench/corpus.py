"""Deterministic synthetic documents for benchmarks: word-like text with realistic lengths.

`synthetic_texts(total_bytes, seed)` draws document sizes from a lognormal (median 3 KB, about
0.4 % of documents past 100 KB, capped at 2 MB) and fills them with Zipf-distributed words of
a seeded pseudo-vocabulary (about 5 % of the vocabulary accented, 1 % CJK, 0.2 % emoji),
sentences with commas and full stops, capitalized sentence starts and paragraph breaks.
Everything is numpy-vectorized (> 50 MB/s); the same (total_bytes, seed) gives the same texts
with the same numpy version.
"""

from __future__ import annotations

import numpy as np

MEDIAN_DOC_BYTES = 3000
DOC_SIGMA = 1.3
MAX_DOC_BYTES = 2_000_000
VOCABULARY = 40_000
_LETTERS = "etaoinshrdlcumwfgypbvkjxqz"
_LETTER_WEIGHTS = np.array(  # English letter frequencies (%), in the order of _LETTERS
    "12.7 9.1 8.2 7.5 7.0 6.7 6.3 6.1 6.0 4.3 4.0 2.8 2.8 2.4 2.4 2.2 2.0 2.0 1.9 1.5 1.0 0.8 "
    "0.2 0.2 0.1 0.1".split(),
    dtype=np.float64,
)
_ACCENTED = "éèêàçüöäñßøå"
_EMOJI = "😀🎉🚀🌍🔥✨📚🤖"
# what follows a word; after a full stop the next word is capitalized
_SUFFIXES = (b" ", b", ", b". ", b".\n\n")
_SUFFIX_RATES = (0.86, 0.06, 0.072, 0.008)
_BLOCK_TOKENS = 1 << 16


def _vocabulary(rng: np.random.Generator) -> list[str]:
    """Pseudo-words of 1-12 letters; a few accented, CJK or emoji words."""
    lengths = np.clip(rng.poisson(5.0, VOCABULARY), 1, 12)
    letters = rng.choice(
        len(_LETTERS), size=int(lengths.sum()), p=_LETTER_WEIGHTS / _LETTER_WEIGHTS.sum()
    )
    flat = "".join(_LETTERS[i] for i in letters)
    ends = np.cumsum(lengths)
    words = [flat[e - n : e] for e, n in zip(ends.tolist(), lengths.tolist(), strict=True)]
    kind = rng.random(VOCABULARY)
    for i in np.flatnonzero(kind < 0.05).tolist():  # accented letter in place of one letter
        j = int(rng.integers(len(words[i])))
        words[i] = words[i][:j] + _ACCENTED[int(rng.integers(len(_ACCENTED)))] + words[i][j + 1 :]
    for i in np.flatnonzero((kind >= 0.05) & (kind < 0.06)).tolist():
        words[i] = "".join(chr(c) for c in rng.integers(0x4E00, 0x9FA5, int(rng.integers(2, 5))))
    for i in np.flatnonzero((kind >= 0.06) & (kind < 0.062)).tolist():
        words[i] = _EMOJI[int(rng.integers(len(_EMOJI)))]
    return words


def _token_table(words: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Zero-padded UTF-8 rows of every token, their byte lengths, and the rows' used-byte masks.

    Token id = word + VOCABULARY * (2 * suffix + capitalized), suffix indexing `_SUFFIXES`.
    """
    variants = words + [w[:1].upper() + w[1:] for w in words]
    encoded = [v.encode("utf-8") for v in variants]
    base_lengths = np.array([len(e) for e in encoded], dtype=np.int64)
    width = int(base_lengths.max()) + max(len(s) for s in _SUFFIXES)
    flat = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    rows = np.repeat(np.arange(len(variants)), base_lengths)
    columns = np.arange(flat.size) - np.repeat(np.cumsum(base_lengths) - base_lengths, base_lengths)
    base = np.zeros((len(variants), width), dtype=np.uint8)
    base[rows, columns] = flat
    tables, lengths = [], []
    for suffix in _SUFFIXES:
        table = base.copy()
        for offset, byte in enumerate(suffix):
            table[np.arange(len(variants)), base_lengths + offset] = byte
        tables.append(table)
        lengths.append(base_lengths + len(suffix))
    table = np.concatenate(tables)
    token_lengths = np.concatenate(lengths)
    return table, token_lengths, np.arange(width)[None, :] < token_lengths[:, None]


def _document_sizes(rng: np.random.Generator, total_bytes: int) -> np.ndarray:
    """Lognormal document sizes (bytes) whose sum first reaches `total_bytes`."""
    sizes = []
    remaining = total_bytes
    while remaining > 0:
        draw = rng.lognormal(np.log(MEDIAN_DOC_BYTES), DOC_SIGMA, 1024)
        draw = np.clip(draw, 50, MAX_DOC_BYTES).astype(np.int64)
        ends = np.cumsum(draw)
        take = int(np.searchsorted(ends, remaining)) + 1
        sizes.append(draw[:take])
        remaining -= int(ends[min(take, draw.size) - 1])
    return np.concatenate(sizes)


def synthetic_texts(total_bytes: int, seed: int = 0) -> list[str]:
    """Deterministic synthetic documents of about `total_bytes` UTF-8 bytes in total."""
    rng = np.random.default_rng(seed)
    table, token_bytes, used = _token_table(_vocabulary(rng))
    targets = np.cumsum(_document_sizes(rng, total_bytes))
    weights = 1.0 / (np.arange(VOCABULARY) + 2.7)  # Zipf ranks via an inverse-CDF table
    inverse_cdf = np.searchsorted(
        np.cumsum(weights) / weights.sum(), (np.arange(1 << 18) + 0.5) / (1 << 18)
    )
    inverse_cdf = np.minimum(inverse_cdf, VOCABULARY - 1).astype(np.int32)
    suffix_cuts = np.cumsum(_SUFFIX_RATES)[:-1].tolist()

    blocks: list[bytes] = []
    doc_ends: list[np.ndarray] = []  # byte offset where each document ends (a token end)
    written = done = 0
    capitalize_next = True
    while done < targets.size:
        words = inverse_cdf[rng.integers(0, 1 << 18, _BLOCK_TOKENS, dtype=np.int32)]
        draw = rng.random(_BLOCK_TOKENS)
        suffix = sum((draw >= cut).astype(np.int32) for cut in suffix_cuts)
        capitalized = np.empty(_BLOCK_TOKENS, dtype=np.int32)
        capitalized[0] = capitalize_next
        capitalized[1:] = suffix[:-1] >= 2  # after a full stop
        capitalize_next = bool(suffix[-1] >= 2)
        tokens = words + VOCABULARY * (2 * suffix + capitalized)
        lengths = np.take(token_bytes, tokens)
        blocks.append(np.take(table, tokens, axis=0)[np.take(used, tokens, axis=0)].tobytes())
        ends = written + np.cumsum(lengths)
        reached = int(np.searchsorted(targets, ends[-1], "right"))
        doc_ends.append(ends[np.searchsorted(ends, targets[done:reached], "left")])
        done, written = reached, int(ends[-1])
    blob = b"".join(blocks)
    texts = []
    start = 0
    for stop in np.concatenate(doc_ends).tolist():
        text = blob[start:stop].rstrip().decode("utf-8")
        texts.append(text[:1].upper() + text[1:])
        start = stop
    return texts


def mutated_pairs(
    count: int, low: int, high: int, seed: int = 0, max_rate: float = 0.04
) -> tuple[list[str], list[str]]:
    """`count` pairs (key-text slice of length in [low, high), copy with a uniform random fraction
    in [0, max_rate) of its characters replaced): near-duplicates with a spread of Jaccard values."""
    from slimpajama.core.keytext import key_text

    rng = np.random.default_rng(seed)
    corpus = key_text(" ".join(synthetic_texts(max(1_500_000, 4 * high), seed=seed)))
    letters = np.array(list("abcdefghij "))
    first, second = [], []
    for _ in range(count):
        length = int(rng.integers(low, high))
        start = int(rng.integers(0, len(corpus) - length))
        text = corpus[start : start + length]
        chars = np.array(list(text))
        changed = rng.random(length) < rng.uniform(0.0, max_rate)
        chars[changed] = rng.choice(letters, int(changed.sum()))
        first.append(text)
        second.append("".join(chars))
    return first, second
