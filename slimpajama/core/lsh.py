"""LSH banding of MinHash signatures: choosing (bands, rows) and computing 64-bit band keys.

Two documents become candidates when any band of `rows` consecutive signature values is equal;
for Jaccard J that happens with probability `1 - (1 - J**rows)**bands` (the S-curve).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

_MASK64 = (1 << 64) - 1
_PRIME1 = np.uint64(0x9E3779B185EBCA87)  # xxh64 primes
_PRIME2 = np.uint64(0xC2B2AE3D27D4EB4F)
_PRIME3 = 0x165667B19E3779F9
_ROTATE = np.uint64(31)
_ROTATE_BACK = np.uint64(33)


def candidate_probability(jaccard, bands: int, rows: int):
    """P(two documents with Jaccard `jaccard` share a band) = 1 - (1 - J**rows)**bands (scalar or array)."""
    return 1.0 - (1.0 - np.asarray(jaccard, dtype=np.float64) ** rows) ** bands


def _band_row_grid(num_perm: int) -> tuple[np.ndarray, np.ndarray]:
    """All (bands, rows) with bands * rows <= num_perm, bands-major then rows (datasketch's order)."""
    pairs = [(b, r) for b in range(1, num_perm + 1) for r in range(1, num_perm // b + 1)]
    grid = np.array(pairs, dtype=np.int64)
    return grid[:, 0], grid[:, 1]


def _areas(
    threshold: float, num_perm: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(bands, rows, false-positive area, false-negative area) over the whole (bands, rows) grid.

    FP area = integral of the S-curve over [0, threshold]; FN area = integral of 1 - S-curve over
    [threshold, 1] (datasketch's definitions). The S-curve is a polynomial of degree
    bands*rows <= num_perm, so Gauss-Legendre quadrature with num_perm//2 + 1 nodes is exact.
    """
    bands, rows = _band_row_grid(num_perm)
    nodes, weights = np.polynomial.legendre.leggauss(num_perm // 2 + 1)
    below = threshold * (nodes + 1.0) / 2.0
    above = threshold + (1.0 - threshold) * (nodes + 1.0) / 2.0
    curve_below = candidate_probability(below[None, :], bands[:, None], rows[:, None])
    curve_above = candidate_probability(above[None, :], bands[:, None], rows[:, None])
    false_positive = curve_below @ weights * (threshold / 2.0)
    false_negative = (1.0 - curve_above) @ weights * ((1.0 - threshold) / 2.0)
    return bands, rows, false_positive, false_negative


@lru_cache(maxsize=64)
def optimal_params(
    threshold: float,
    num_perm: int,
    false_positive_weight: float = 0.5,
    false_negative_weight: float = 0.5,
) -> tuple[int, int]:
    """(bands, rows) with bands*rows <= num_perm minimizing the weighted false-positive and
    false-negative areas, as datasketch's `_optimal_param` (first minimum in its search order);
    (0.8, 128) -> (9, 13)."""
    bands, rows, false_positive, false_negative = _areas(threshold, num_perm)
    error = false_positive_weight * false_positive + false_negative_weight * false_negative
    best = int(np.argmin(error))
    return int(bands[best]), int(rows[best])


@lru_cache(maxsize=64)
def recall_params(threshold: float, num_perm: int, recall: float) -> tuple[int, int]:
    """(bands, rows) with bands*rows <= num_perm and P(candidate | J=threshold) >= recall that has
    the smallest false-positive area below threshold (for use with exact verification).

    Raises ValueError when no (bands, rows) reaches `recall`.
    """
    bands, rows, false_positive, _ = _areas(threshold, num_perm)
    feasible = candidate_probability(threshold, bands, rows) >= recall
    if not feasible.any():
        raise ValueError(f"no (bands, rows) with {num_perm} permutations reaches recall {recall}")
    best = int(np.argmin(np.where(feasible, false_positive, np.inf)))
    return int(bands[best]), int(rows[best])


def band_keys(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """(n, bands) uint64 keys: key[:, b] hashes signature columns b*rows:(b+1)*rows.

    Each band's hash state starts from a band-specific salt, so equal values in different bands
    give different keys. Hash: xxh64-style rounds over the uint32 values, then fmix64.
    """
    signatures = np.asarray(signatures)
    if signatures.ndim != 2 or signatures.dtype != np.uint32:
        raise ValueError("signatures must be a 2-D uint32 array")
    if bands < 1 or rows < 1 or bands * rows > signatures.shape[1]:
        raise ValueError(
            f"{bands} bands x {rows} rows do not fit {signatures.shape[1]} signature columns"
        )
    n = signatures.shape[0]
    grouped = signatures[:, : bands * rows].reshape(n, bands, rows).astype(np.uint64)
    salts = [(_PRIME3 * (band + 1) + rows) & _MASK64 for band in range(bands)]
    state = np.broadcast_to(np.array(salts, dtype=np.uint64), (n, bands)).copy()
    for column in range(rows):
        state += grouped[:, :, column] * _PRIME2
        state = (state << _ROTATE) | (state >> _ROTATE_BACK)
        state *= _PRIME1
    state ^= state >> np.uint64(33)
    state *= np.uint64(0xFF51AFD7ED558CCD)
    state ^= state >> np.uint64(33)
    state *= np.uint64(0xC4CEB9FE1A85EC53)
    state ^= state >> np.uint64(33)
    return state
