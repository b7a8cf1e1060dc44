"""Shingle sets of key texts: their definition, their UTF-8 bytes, and vectorized 64-bit hashes.

Definition (shared by every MinHash scheme and by exact Jaccard):
- `char` shingles of size n: every window of n consecutive Unicode code points of the key text.
- `word` shingles of size n: words = `key_text.split(" ")` (the empty text has no word); every
  window of n consecutive words, joined by " " (so a word shingle is a substring of the text).
- Short-text rule: a non-empty text with fewer than n code points (or words) has exactly ONE
  shingle, the whole text, so two different short texts never share a signature. The empty text
  has no shingle. (SlimPajama gave short texts no shingle at all: an all-max signature shared by
  every short text. This is the only deliberate deviation from the reference.)
- A shingle *set*: repeats do not matter (MinHash and Jaccard are set functions).

The 64-bit shingle hash used by the `fast` scheme and by exact Jaccard is a polynomial hash over
Z/2^64 (odd base B, seed-derived) of the shingle's code points, plus a length tag, through the
MurmurHash3 fmix64 finalizer. Word shingles hash each word that way first, then hash the sequence
of n word hashes the same way. A polynomial hash of a window is independent of where the window
sits, so it is computed for all windows of a whole batch at once from one prefix sum
(`S[i] = sum_{k<i} c_k B^-k`, window hash `(S[e] - S[s]) B^(e-1)`); windows never cross text
boundaries.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import lru_cache

import numpy as np

SHINGLE_KINDS = ("char", "word")
_MASK64 = (1 << 64) - 1
_SPACE = 0x20
CHUNK_CODE_POINTS = 1 << 17
"""Code points hashed per vectorized step: bounds temporary memory (~60 bytes per code point)."""
_MAX_CACHED_POWERS = 1 << 22


def check_shingle(ngram: int, shingle: str) -> None:
    """Raise ValueError unless `shingle` is a known kind and `ngram` >= 1."""
    if shingle not in SHINGLE_KINDS:
        raise ValueError(f"shingle must be one of {SHINGLE_KINDS}, got {shingle!r}")
    if ngram < 1:
        raise ValueError(f"ngram must be >= 1, got {ngram}")


# ---------------------------------------------------------------------------------------------
# Shingles as UTF-8 byte strings (for the sha1-based schemes that must match datasketch).


def shingle_byte_strings(key_text: str, ngram: int, shingle: str) -> list[bytes]:
    """UTF-8 bytes of every shingle of `key_text` in text order (repeats kept), short-text rule applied.

    Lone surrogates are encoded with `surrogatepass` instead of raising.
    """
    if not key_text:
        return []
    data = key_text.encode("utf-8", "surrogatepass")
    if shingle == "char":
        if len(key_text) < ngram:
            return [data]
        if len(data) == len(key_text):  # ASCII: one byte per code point
            return [data[i : i + ngram] for i in range(len(data) - ngram + 1)]
        as_bytes = np.frombuffer(data, dtype=np.uint8)
        starts = np.flatnonzero((as_bytes & 0xC0) != 0x80).tolist()  # code point starts
        starts.append(len(data))
        return [data[start:stop] for start, stop in zip(starts, starts[ngram:], strict=False)]
    # word shingles: 0x20 never occurs inside a multi-byte UTF-8 sequence
    spaces = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == _SPACE).tolist()
    if len(spaces) + 1 < ngram:
        return [data]
    word_starts = [0, *(s + 1 for s in spaces)]
    word_ends = [*spaces, len(data)]
    return [
        data[start:stop] for start, stop in zip(word_starts, word_ends[ngram - 1 :], strict=False)
    ]


# ---------------------------------------------------------------------------------------------
# Seed-derived constants and power tables for the vectorized 64-bit hash.


def splitmix64(state: int) -> tuple[int, int]:
    """One SplitMix64 step: return (next_state, output), both 64-bit Python ints."""
    state = (state + 0x9E3779B97F4A7C15) & _MASK64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return state, z ^ (z >> 31)


def seeded_words(seed: int, count: int, stream: int) -> list[int]:
    """`count` deterministic 64-bit words from (seed, stream); platform- and version-independent."""
    state = ((seed & _MASK64) * 0xD1B54A32D192ED03 + stream * 0x8CB92BA72F3D8DD7) & _MASK64
    words = []
    for _ in range(count):
        state, out = splitmix64(state)
        words.append(out)
    return words


class HashConstants:
    """The seed-derived constants of the 64-bit shingle hash."""

    def __init__(self, seed: int) -> None:
        base, char_tag, word_tag, gram_tag, offset = seeded_words(seed, 5, stream=1)
        self.base = np.uint64(base | 1)  # odd, hence invertible mod 2^64
        self.inverse = np.uint64(pow(base | 1, -1, 1 << 64))
        self.char_tag = np.uint64(char_tag)
        self.word_tag = np.uint64(word_tag)
        self.gram_tag = np.uint64(gram_tag)
        self.offset = np.uint64(offset)
        # (B^k, B^-k) tables, replaced as a whole tuple so threads can share them
        self._tables = self._power_tables(1 << 12)

    def _power_tables(self, size: int) -> tuple[np.ndarray, np.ndarray]:
        powers = np.full(size, self.base, dtype=np.uint64)
        powers[0] = 1
        inverse_powers = np.full(size, self.inverse, dtype=np.uint64)
        inverse_powers[0] = 1
        return np.cumprod(powers, out=powers), np.cumprod(inverse_powers, out=inverse_powers)

    def powers(self, length: int) -> tuple[np.ndarray, np.ndarray]:
        """(B^k, B^-k) for k in [0, length), uint64; cached up to `_MAX_CACHED_POWERS` entries."""
        powers, inverse_powers = self._tables
        if powers.size < length:
            size = max(length, 2 * powers.size)
            powers, inverse_powers = self._power_tables(size)
            if size <= _MAX_CACHED_POWERS:
                self._tables = (powers, inverse_powers)
        return powers[:length], inverse_powers[:length]


@lru_cache(maxsize=16)
def hash_constants(seed: int) -> HashConstants:
    """Shared `HashConstants` for `seed`."""
    return HashConstants(seed)


_FMIX_SHIFT = np.uint64(33)
_FMIX_M1 = np.uint64(0xFF51AFD7ED558CCD)
_FMIX_M2 = np.uint64(0xC4CEB9FE1A85EC53)


def fmix64(values: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finalizer (a bijection with full avalanche), applied in place."""
    values ^= values >> _FMIX_SHIFT
    values *= _FMIX_M1
    values ^= values >> _FMIX_SHIFT
    values *= _FMIX_M2
    values ^= values >> _FMIX_SHIFT
    return values


# ---------------------------------------------------------------------------------------------
# Vectorized 64-bit shingle hashes.


def _prefix_sums(values: np.ndarray, inverse_powers: np.ndarray) -> np.ndarray:
    """S with S[0] = 0 and S[i+1] = S[i] + values[i] * B^-i (mod 2^64); length len(values) + 1."""
    prefix = np.empty(values.size + 1, dtype=np.uint64)
    prefix[0] = 0
    np.multiply(values, inverse_powers[: values.size], out=prefix[1:], dtype=np.uint64)
    np.cumsum(prefix[1:], out=prefix[1:])
    return prefix


def _window_hashes(
    values: np.ndarray,
    offsets: np.ndarray,
    ngram: int,
    tag: np.uint64,
    constants: HashConstants,
) -> tuple[np.ndarray, np.ndarray]:
    """Hash every window of `ngram` consecutive values inside each piece `values[o[p]:o[p+1]]`.

    A piece with 0 < length < ngram yields one hash of the whole piece (short-text rule); an
    empty piece yields nothing. Hash = fmix64(poly + length * tag + offset).
    Returns (hashes uint64, counts int64 per piece), hashes grouped by piece in piece order.
    """
    length = values.size
    powers, inverse_powers = constants.powers(length + 1)
    prefix = _prefix_sums(values, inverse_powers)
    lengths = np.diff(offsets)
    counts = np.maximum(lengths - ngram + 1, 0)
    short = (lengths > 0) & (lengths < ngram)
    counts[short] = 1
    windows = max(length - ngram + 1, 0)
    hashes = np.empty(int(counts.sum()), dtype=np.uint64)
    if windows:
        poly = prefix[ngram : ngram + windows] - prefix[:windows]
        poly *= powers[ngram - 1 : ngram - 1 + windows]
        valid = np.ones(windows, dtype=bool)
        # windows starting in the last ngram-1 positions of a piece cross its end
        tails = (offsets[1:, None] - np.arange(1, ngram, dtype=np.int64)[None, :]).ravel()
        tails = tails[(tails >= 0) & (tails < windows)]
        valid[tails] = False
        poly = poly[valid] if tails.size else poly
    else:
        poly = np.empty(0, dtype=np.uint64)
    poly += np.uint64((ngram * int(tag) + int(constants.offset)) & _MASK64)
    if short.any():
        starts = offsets[:-1][short]
        ends = offsets[1:][short]
        short_poly = (prefix[ends] - prefix[starts]) * powers[ends - 1]
        short_poly += (ends - starts).astype(np.uint64) * tag + constants.offset
        # interleave the short pieces' single hashes into piece order
        positions = np.cumsum(counts) - counts
        is_short_slot = np.zeros(hashes.size, dtype=bool)
        is_short_slot[positions[short]] = True
        hashes[is_short_slot] = short_poly
        hashes[~is_short_slot] = poly
    else:
        hashes[:] = poly
    return fmix64(hashes), counts


def _word_hashes(
    code_points: np.ndarray, offsets: np.ndarray, constants: HashConstants
) -> tuple[np.ndarray, np.ndarray]:
    """Hash every word (split on U+0020) of each piece; returns (word hashes, word offsets per piece)."""
    length = code_points.size
    powers, inverse_powers = constants.powers(length + 1)
    prefix = _prefix_sums(code_points, inverse_powers)
    spaces = np.flatnonzero(code_points == _SPACE)
    nonempty = offsets[1:] > offsets[:-1]
    piece_starts = offsets[:-1][nonempty]
    piece_ends = offsets[1:][nonempty]
    starts = np.insert(spaces + 1, np.searchsorted(spaces + 1, piece_starts, "right"), piece_starts)
    ends = np.insert(spaces, np.searchsorted(spaces, piece_ends, "left"), piece_ends)
    word_hashes = (prefix[ends] - prefix[starts]) * powers[ends - 1]
    word_hashes += (ends - starts).astype(np.uint64) * constants.word_tag + constants.offset
    spaces_before = np.searchsorted(spaces, offsets)
    words_per_piece = np.where(nonempty, np.diff(spaces_before) + 1, 0)
    word_offsets = np.zeros(offsets.size, dtype=np.int64)
    np.cumsum(words_per_piece, out=word_offsets[1:])
    return fmix64(word_hashes), word_offsets


def hash_pieces(
    pieces: Sequence[str], ngram: int, shingle: str, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """64-bit hashes of the shingles of each text in `pieces`, vectorized over all of them.

    Returns (hashes uint64, counts int64): the first counts[0] hashes belong to pieces[0], etc.
    Repeated shingles give repeated hashes. Memory is linear in the total length: callers bound
    it with `plan_chunks`.
    """
    constants = hash_constants(seed)
    lengths = np.fromiter((len(p) for p in pieces), dtype=np.int64, count=len(pieces))
    offsets = np.zeros(len(pieces) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    code_points = np.frombuffer(
        "".join(pieces).encode("utf-32-le", "surrogatepass"), dtype=np.uint32
    )
    if shingle == "char":
        return _window_hashes(code_points, offsets, ngram, constants.char_tag, constants)
    word_hashes, word_offsets = _word_hashes(code_points, offsets, constants)
    return _window_hashes(word_hashes, word_offsets, ngram, constants.gram_tag, constants)


# ---------------------------------------------------------------------------------------------
# Bounded-memory batching: group short texts, split long ones into overlapping pieces.


def _split_long(text: str, ngram: int, shingle: str, budget: int) -> list[str]:
    """Overlapping pieces of a long text whose shingle multisets together cover the text's set.

    Each piece has at least `ngram` code points (words), so no piece triggers the short-text rule.
    """
    if shingle == "char":
        step = max(budget, ngram)
        last_start = len(text) - ngram  # start of the last window
        return [text[p : p + step + ngram - 1] for p in range(0, last_start + 1, step)]
    code_points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    spaces = np.flatnonzero(code_points == _SPACE)
    word_starts = np.concatenate([[0], spaces + 1])
    word_ends = np.concatenate([spaces, [len(text)]])
    words = word_starts.size
    if words <= ngram:
        return [text]
    pieces, first = [], 0
    while True:
        stop = int(np.searchsorted(word_starts, word_starts[first] + budget, "right"))
        stop = min(max(stop, first + ngram), words)
        pieces.append(text[word_starts[first] : word_ends[stop - 1]])
        if stop == words:
            return pieces
        first = stop - ngram + 1


def plan_chunks(
    texts: Sequence[str], ngram: int, shingle: str, budget: int | None = None
) -> Iterator[tuple[list[str], np.ndarray]]:
    """Yield (pieces, rows): batches of about `budget` (default `CHUNK_CODE_POINTS`) code points;
    pieces[i] belongs to texts[rows[i]].

    Texts longer than `budget` are split by `_split_long`; a text's shingle set is the union of
    its pieces' sets, so per-text results never depend on how texts were batched.
    """
    budget = budget or CHUNK_CODE_POINTS
    pieces: list[str] = []
    rows: list[int] = []
    size = 0
    for row, text in enumerate(texts):
        parts = _split_long(text, ngram, shingle, budget) if len(text) > budget else [text]
        for part in parts:
            if pieces and size + len(part) > budget:
                yield pieces, np.asarray(rows, dtype=np.int64)
                pieces, rows, size = [], [], 0
            pieces.append(part)
            rows.append(row)
            size += len(part)
    if pieces:
        yield pieces, np.asarray(rows, dtype=np.int64)
