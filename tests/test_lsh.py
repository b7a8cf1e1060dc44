"""LSH parameters (datasketch's optimum, recall-constrained choice) and band keys."""

from __future__ import annotations

import numpy as np
import pytest
from datasketch.lsh import _optimal_param

from slimpajama.core.lsh import band_keys, candidate_probability, optimal_params, recall_params


def test_optimal_params_reference_value() -> None:
    assert optimal_params(0.8, 128) == (9, 13)


@pytest.mark.parametrize(
    ("threshold", "num_perm", "fp", "fn"),
    [(0.7, 256, 0.5, 0.5), (0.5, 64, 0.3, 0.7), (0.9, 100, 0.5, 0.5)],
)
def test_optimal_params_equal_datasketch(threshold, num_perm, fp, fn) -> None:
    assert optimal_params(threshold, num_perm, fp, fn) == _optimal_param(
        threshold, num_perm, fp, fn
    )


def test_candidate_probability_matches_the_reference_s_curve() -> None:
    jaccard = np.array([0.70, 0.75, 0.80, 0.85, 0.90])
    np.testing.assert_allclose(
        candidate_probability(jaccard, 9, 13), [0.084, 0.195, 0.399, 0.686, 0.929], atol=5e-4
    )
    assert candidate_probability(1.0, 9, 13) == 1.0
    assert candidate_probability(0.0, 9, 13) == 0.0


def false_positive_area(threshold: float, bands: int, rows: int) -> float:
    """Independent trapezoid integration of the S-curve over [0, threshold]."""
    grid = np.linspace(0.0, threshold, 20001)
    return float(np.trapezoid(candidate_probability(grid, bands, rows), grid))


@pytest.mark.parametrize(
    ("threshold", "num_perm", "recall"), [(0.8, 128, 0.95), (0.7, 64, 0.9), (0.85, 256, 0.99)]
)
def test_recall_params_meet_recall_with_least_false_positive_area(
    threshold, num_perm, recall
) -> None:
    bands, rows = recall_params(threshold, num_perm, recall)
    assert bands * rows <= num_perm
    assert candidate_probability(threshold, bands, rows) >= recall
    feasible = [
        (b, r)
        for b in range(1, num_perm + 1)
        for r in range(1, num_perm // b + 1)
        if candidate_probability(threshold, b, r) >= recall
    ]
    best = min(false_positive_area(threshold, b, r) for b, r in feasible)
    assert false_positive_area(threshold, bands, rows) <= best + 1e-6


def test_recall_params_for_the_reference_threshold() -> None:
    assert recall_params(0.8, 128, 0.95) == (13, 7)


def test_recall_params_reject_unreachable_recall() -> None:
    with pytest.raises(ValueError):
        recall_params(0.5, 8, 0.999)  # best is 8 bands of 1 row: 1 - 0.5**8 = 0.996


def random_signatures(n: int, k: int = 128, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 1 << 32, (n, k), dtype=np.uint32)


def test_band_keys_shape_and_dependence_on_exactly_its_columns() -> None:
    sigs = random_signatures(50)
    keys = band_keys(sigs, 9, 13)
    assert keys.shape == (50, 9) and keys.dtype == np.uint64
    changed = sigs.copy()
    changed[:, 30] ^= 1  # column 30 is in band 2 (columns 26..38)
    changed[:, 120] ^= 1  # column 120 is beyond 9 * 13 = 117 columns: unused
    new_keys = band_keys(changed, 9, 13)
    assert (new_keys[:, 2] != keys[:, 2]).all()
    np.testing.assert_array_equal(np.delete(new_keys, 2, axis=1), np.delete(keys, 2, axis=1))


def test_band_keys_equal_bands_collide_only_within_the_same_band() -> None:
    row = np.tile(np.arange(13, dtype=np.uint32), 9)  # every band holds the same 13 values
    padded = np.zeros((2, 128), dtype=np.uint32)
    padded[:, :117] = row
    keys = band_keys(padded, 9, 13)
    np.testing.assert_array_equal(keys[0], keys[1])
    assert len(set(keys[0].tolist())) == 9  # band index salts the key


def test_band_keys_are_deterministic_and_do_not_depend_on_the_batch() -> None:
    sigs = random_signatures(1000, seed=4)
    keys = band_keys(sigs, 9, 13)
    np.testing.assert_array_equal(keys[500:], band_keys(sigs[500:], 9, 13))
    assert len(np.unique(keys)) == keys.size  # no collision among 9,000 random bands


def band_key_model(values: list[int], band: int, rows: int) -> int:
    """The documented key: xxh64-style rounds from a band salt, then fmix64 (plain Python ints)."""
    mask = (1 << 64) - 1
    state = (0x165667B19E3779F9 * (band + 1) + rows) & mask
    for value in values:
        state = (state + value * 0xC2B2AE3D27D4EB4F) & mask
        state = ((state << 31) | (state >> 33)) & mask
        state = (state * 0x9E3779B185EBCA87) & mask
    state ^= state >> 33
    state = (state * 0xFF51AFD7ED558CCD) & mask
    state ^= state >> 33
    state = (state * 0xC4CEB9FE1A85EC53) & mask
    return state ^ (state >> 33)


def test_band_keys_equal_their_definition() -> None:
    sigs = random_signatures(5, seed=9)
    keys = band_keys(sigs, 9, 13)
    for i in range(5):
        for band in range(9):
            values = sigs[i, band * 13 : (band + 1) * 13].tolist()
            assert int(keys[i, band]) == band_key_model(values, band, 13)


def test_band_keys_validate_input() -> None:
    with pytest.raises(ValueError):
        band_keys(random_signatures(2, 64), 9, 13)
    with pytest.raises(ValueError):
        band_keys(random_signatures(2).astype(np.int64), 9, 13)
