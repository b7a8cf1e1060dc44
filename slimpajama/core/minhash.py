"""Batch MinHash signatures of key texts: `signatures(key_texts, params) -> (n, num_perm) uint32`.

Schemes (recorded with every persisted signature through `MinHashParams.tag`; never mix them):
- `reference`: bit-identical to `datasketch.MinHash(num_perm, seed, hashfunc=sha1_hash32,
  scheme="legacy")` updated with the UTF-8 bytes of every shingle, i.e. SlimPajama's signatures.
  Value per permutation: `((a*h + b) mod 2^64) mod (2^61 - 1)`, low 32 bits, minimum over shingles.
- `affine32`: bit-identical to datasketch 2.0's default scheme with the same sha1 hash:
  `h' = fmix32(h)`, value `(a*h' + b) mod 2^32`.
- `fast` (default): 64-bit vectorized shingle hashes (`slimpajama.core.shingles`) and one-permutation
  hashing (OPH): the high 32 bits of a shingle's hash pick one of num_perm bins, the low 32 bits
  are its value, each bin keeps its minimum; bins no shingle fell into are filled by optimal
  densification (Shrivastava 2017): an empty bin j copies the value of the first non-empty bin
  along a fixed seed-derived probe order of the bins, the same for all documents. The Jaccard
  estimate (fraction of equal positions) is unbiased.

Shingle sets (char/word n-grams, short-text rule) are defined in `slimpajama.core.shingles`; for
`reference`/`affine32` the short-text rule is the only deliberate difference from datasketch fed
with SlimPajama's shingles (a short text hashes as one shingle, the whole text). The empty text
has no shingle and gets the all-0xFFFFFFFF signature under every scheme.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from slimpajama.core.keytext import key_text
from slimpajama.core.shingles import (
    check_shingle,
    hash_pieces,
    plan_chunks,
    seeded_words,
    shingle_byte_strings,
)

SCHEMES = ("fast", "reference", "affine32")
MAX_NUM_PERM = 1024
"""Upper bound on num_perm (the fast scheme keeps a num_perm x num_perm probe table)."""
EMPTY_VALUE = np.uint32(0xFFFFFFFF)
"""Value of a permutation (bin) that saw no shingle; the whole signature of the empty text."""

_MERSENNE_61 = np.uint64((1 << 61) - 1)
_SHIFT_61 = np.uint64(61)
_ONE = np.uint64(1)
_PERMUTATION_BLOCK = 2048
"""Shingles per vectorized permutation step (num_perm x block uint64 temporaries)."""


@dataclass(frozen=True)
class MinHashParams:
    """How signatures are computed; `tag` identifies signatures that may be compared."""

    scheme: str = "fast"
    num_perm: int = 128
    ngram: int = 13
    shingle: str = "char"  # "char" | "word"
    seed: int = 1

    def __post_init__(self) -> None:
        if self.scheme not in SCHEMES:
            raise ValueError(f"scheme must be one of {SCHEMES}, got {self.scheme!r}")
        if not 1 <= self.num_perm <= MAX_NUM_PERM:
            raise ValueError(f"num_perm must be in [1, {MAX_NUM_PERM}], got {self.num_perm}")
        check_shingle(self.ngram, self.shingle)

    @property
    def tag(self) -> str:
        """E.g. "fast:char13:p128:s1"; equal tags <=> comparable signatures."""
        return f"{self.scheme}:{self.shingle}{self.ngram}:p{self.num_perm}:s{self.seed}"


def signatures(key_texts: Sequence[str], params: MinHashParams) -> np.ndarray:
    """(len(key_texts), num_perm) uint32 C-contiguous signatures of texts that are already key texts.

    Row i depends only on key_texts[i] and params (never on the rest of the batch).
    """
    if params.scheme == "fast":
        return _oph_signatures(key_texts, params)
    return _sha1_signatures(key_texts, params)


def sign_texts(texts: Sequence[str], params: MinHashParams) -> np.ndarray:
    """`signatures` of the key texts of raw `texts`."""
    return signatures([key_text(t) for t in texts], params)


# ---------------------------------------------------------------------------------------------
# reference / affine32: sha1_hash32 per shingle, then num_perm affine permutations.


@lru_cache(maxsize=16)
def permutations(scheme: str, num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's permutation parameters (a, b) as column vectors (num_perm, 1).

    `reference`: uint64 pairs drawn interleaved from RandomState(seed), a in [1, P), b in [0, P);
    `affine32`: uint32, a odd, drawn as two vectors.
    """
    gen = np.random.RandomState(seed)
    if scheme == "reference":
        pairs = np.array(
            [
                (
                    gen.randint(1, _MERSENNE_61, dtype=np.uint64),
                    gen.randint(0, _MERSENNE_61, dtype=np.uint64),
                )
                for _ in range(num_perm)
            ],
            dtype=np.uint64,
        )
        a, b = pairs[:, :1].copy(), pairs[:, 1:].copy()
    else:
        a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
        b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
        a, b = a[:, None], b[:, None]
    a.setflags(write=False)  # cached and shared
    b.setflags(write=False)
    return a, b


def sha1_hash32_batch(shingles: list[bytes]) -> np.ndarray:
    """datasketch's `sha1_hash32` of each byte string: first 4 digest bytes, little-endian; uint32."""
    sha1 = hashlib.sha1
    digests = b"".join([sha1(s).digest() for s in shingles])
    return np.frombuffer(digests, dtype="<u4").reshape(-1, 5)[:, 0].astype(np.uint32)


def fmix32(values: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer on uint32 values (datasketch's affine32 pre-mix)."""
    values = values ^ (values >> np.uint32(16))
    values *= np.uint32(0x85EBCA6B)
    values ^= values >> np.uint32(13)
    values *= np.uint32(0xC2B2AE35)
    values ^= values >> np.uint32(16)
    return values


def _legacy_values_exact(hashes: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(num_perm, m) uint32 of `((a*h + b) mod 2^64) mod (2^61-1)` truncated to 32 bits.

    Mersenne reduction without `%`: y = (x & P) + (x >> 61) is in [0, P+7] and congruent to x;
    y mod P = y - P iff y >= P iff (y+1) >> 61 == 1; and -P == 1 (mod 2^32), so the low 32 bits
    of y mod P are the low 32 bits of y + ((y+1) >> 61).
    """
    x = a * hashes.astype(np.uint64)[None, :]
    x += b
    high = x >> _SHIFT_61
    x &= _MERSENNE_61
    x += high
    np.add(x, _ONE, out=high)
    high >>= _SHIFT_61
    x += high
    return x.astype(np.uint32)


def _legacy_minima(
    hashes: np.ndarray, starts: np.ndarray, a: np.ndarray, b: np.ndarray
) -> np.ndarray:
    """(num_perm, len(starts)) minima over segments [starts[i], starts[i+1]) of the legacy values.

    Fast path: low32(x + (x >> 61)) equals the exact value unless y = (x & P) + (x >> 61) >= P,
    which happens with probability ~2^-58 and then gives exact-1 with exact in [0, 7]. Computing
    w = that + 1 maps every such element to w <= 7, so the block is recomputed exactly whenever
    any segment minimum of w is <= 7; otherwise the exact minima are min(w) - 1.
    """
    x = a * hashes.astype(np.uint64)[None, :]
    x += b
    x += x >> _SHIFT_61
    shifted = x.astype(np.uint32)
    shifted += np.uint32(1)
    minima = np.minimum.reduceat(shifted, starts, axis=1)
    if minima.min() <= 7:
        return np.minimum.reduceat(_legacy_values_exact(hashes, a, b), starts, axis=1)
    minima -= np.uint32(1)
    return minima


def _affine32_minima(
    hashes: np.ndarray, starts: np.ndarray, a: np.ndarray, b: np.ndarray
) -> np.ndarray:
    """(num_perm, len(starts)) segment minima of `a * fmix32(h) + b mod 2^32`."""
    values = a * fmix32(hashes)[None, :]
    values += b
    return np.minimum.reduceat(values, starts, axis=1)


def _sha1_signatures(key_texts: Sequence[str], params: MinHashParams) -> np.ndarray:
    """Signatures of the sha1-based schemes, permutations applied blockwise over the whole batch."""
    a, b = permutations(params.scheme, params.num_perm, params.seed)
    segment_minima = _legacy_minima if params.scheme == "reference" else _affine32_minima
    out = np.full((len(key_texts), params.num_perm), EMPTY_VALUE, dtype=np.uint32)
    for pieces, rows in plan_chunks(key_texts, params.ngram, params.shingle):
        per_piece = [
            sha1_hash32_batch(shingle_byte_strings(p, params.ngram, params.shingle)) for p in pieces
        ]
        counts = np.fromiter((h.size for h in per_piece), dtype=np.int64, count=len(per_piece))
        if not counts.any():
            continue
        hashes = np.concatenate(per_piece)
        starts = np.cumsum(counts) - counts
        owners = rows[counts > 0]
        starts = starts[counts > 0]
        for first in range(0, hashes.size, _PERMUTATION_BLOCK):
            last = min(first + _PERMUTATION_BLOCK, hashes.size)
            # pieces with a shingle in [first, last): their local start positions
            lo = int(np.searchsorted(starts, first, "right")) - 1
            hi = int(np.searchsorted(starts, last, "left"))
            local = np.maximum(starts[lo:hi] - first, 0)
            minima = segment_minima(hashes[first:last], local, a, b)
            np.minimum.at(out, owners[lo:hi], minima.T)
    return out


# ---------------------------------------------------------------------------------------------
# fast: vectorized 64-bit shingle hashes + one-permutation hashing with optimal densification.


@lru_cache(maxsize=16)
def probe_order(num_perm: int, seed: int) -> np.ndarray:
    """(num_perm, num_perm) int64: row j is the fixed pseudo-random order in which empty bin j
    probes the bins for a value to borrow (a seeded Fisher-Yates permutation of all bins)."""
    order = np.empty((num_perm, num_perm), dtype=np.int64)
    words = iter(seeded_words(seed, num_perm * num_perm, stream=2))
    for j in range(num_perm):
        row = list(range(num_perm))
        for i in range(num_perm - 1, 0, -1):
            swap = next(words) % (i + 1)
            row[i], row[swap] = row[swap], row[i]
        order[j] = row
    order.setflags(write=False)  # cached and shared
    return order


def densify(values: np.ndarray, occupied: np.ndarray, order: np.ndarray) -> None:
    """Fill, in place, each empty bin of each row that has a non-empty bin (optimal densification).

    values, occupied: (n, k); order: `probe_order(k, seed)`. Rows with no shingle stay all-empty.
    """
    partial = np.flatnonzero(~occupied.all(axis=1) & occupied.any(axis=1))
    if not partial.size:
        return
    rows, bins = np.nonzero(~occupied[partial])
    rows = partial[rows]
    for step in range(order.shape[1]):
        probe = order[bins, step]
        hit = occupied[rows, probe]
        values[rows[hit], bins[hit]] = values[rows[hit], probe[hit]]
        rows, bins = rows[~hit], bins[~hit]
        if not rows.size:
            return


def _oph_signatures(key_texts: Sequence[str], params: MinHashParams) -> np.ndarray:
    """`fast` signatures: one-permutation hashing of 64-bit shingle hashes, densified."""
    k = params.num_perm
    out = np.full((len(key_texts), k), EMPTY_VALUE, dtype=np.uint32)
    occupied = np.zeros(out.size, dtype=bool)
    flat = out.reshape(-1)
    for pieces, rows in plan_chunks(key_texts, params.ngram, params.shingle):
        hashes, counts = hash_pieces(pieces, params.ngram, params.shingle, params.seed)
        bins = hashes >> np.uint64(32)
        bins *= np.uint64(k)
        bins >>= np.uint64(32)  # multiply-shift: uniform bin in [0, k) from the high 32 bits
        cells = np.repeat(rows * k, counts)
        cells += bins.view(np.int64)
        np.minimum.at(flat, cells, hashes.astype(np.uint32))
        occupied[cells] = True
    densify(out, occupied.reshape(out.shape), probe_order(k, params.seed))
    return out
