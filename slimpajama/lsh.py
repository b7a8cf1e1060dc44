"""LSH banding of MinHash signatures: choosing (bands, rows) and computing 64-bit band keys.

Two documents become candidates when any band of `rows` consecutive signature values is equal;
for Jaccard J that happens with probability `1 - (1 - J**rows)**bands` (the S-curve).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.integrate import quad

_MASK64 = (1 << 64) - 1
_PRIME1 = np.uint64(0x9E3779B185EBCA87)  # xxh64 primes
_PRIME2 = np.uint64(0xC2B2AE3D27D4EB4F)
_PRIME3 = 0x165667B19E3779F9
_ROTATE = np.uint64(31)
_ROTATE_BACK = np.uint64(33)


def candidate_probability(jaccard, bands: int, rows: int):
    """P(two documents with Jaccard `jaccard` share a band) = 1 - (1 - J**rows)**bands (scalar or array)."""
    return 1.0 - (1.0 - np.asarray(jaccard, dtype=np.float64) ** rows) ** bands


def _false_positive_area(threshold: float, bands: int, rows: int) -> float:
    """Integral of the S-curve over [0, threshold] (datasketch's false-positive probability)."""
    area, _ = quad(lambda s: 1.0 - (1.0 - s ** float(rows)) ** float(bands), 0.0, threshold)
    return area


def _false_negative_area(threshold: float, bands: int, rows: int) -> float:
    """Integral of 1 - S-curve over [threshold, 1] (datasketch's false-negative probability)."""
    area, _ = quad(lambda s: (1.0 - s ** float(rows)) ** float(bands), threshold, 1.0)
    return area


@lru_cache(maxsize=64)
def optimal_params(
    threshold: float,
    num_perm: int,
    false_positive_weight: float = 0.5,
    false_negative_weight: float = 0.5,
) -> tuple[int, int]:
    """(bands, rows) with bands*rows <= num_perm minimizing the weighted false-positive and
    false-negative areas, exactly as datasketch's `_optimal_param`; (0.8, 128) -> (9, 13)."""
    best, best_error = (0, 0), float("inf")
    for bands in range(1, num_perm + 1):
        for rows in range(1, num_perm // bands + 1):
            error = false_positive_weight * _false_positive_area(
                threshold, bands, rows
            ) + false_negative_weight * _false_negative_area(threshold, bands, rows)
            if error < best_error:
                best, best_error = (bands, rows), error
    return best


@lru_cache(maxsize=64)
def recall_params(threshold: float, num_perm: int, recall: float) -> tuple[int, int]:
    """(bands, rows) with bands*rows <= num_perm and P(candidate | J=threshold) >= recall that has
    the smallest false-positive area below threshold (for use with exact verification).

    Raises ValueError when no (bands, rows) reaches `recall`.
    """
    best, best_area = None, float("inf")
    for bands in range(1, num_perm + 1):
        for rows in range(1, num_perm // bands + 1):
            if candidate_probability(threshold, bands, rows) < recall:
                continue
            area = _false_positive_area(threshold, bands, rows)
            if area < best_area:
                best, best_area = (bands, rows), area
    if best is None:
        raise ValueError(f"no (bands, rows) with {num_perm} permutations reaches recall {recall}")
    return best


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
