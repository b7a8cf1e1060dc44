"""Dedup's per-file units: spilled band entries read back per partition are exactly the blocks
that would have gone through the shuffle."""

import numpy as np

from slimpajama.dedup.edges import (
    SPILLED_PARTITION_BITS,
    band_entries,
    band_partition,
    split_by_partition,
)
from slimpajama.dedup.units import BandRange, _spill_bands, read_band_range


def test_spilled_band_ranges_read_back_each_partition_exactly(tmp_path):
    rng = np.random.default_rng(11)
    n, bands = 300, 9
    keys = rng.integers(0, 2**64, size=(n, bands), dtype=np.uint64)
    entries = band_entries(np.arange(n, dtype=np.uint64) + (7 << 32), rng.integers(0, 7, n).astype(np.uint8),
                           rng.integers(200, 9000, n), keys, local=False)
    path = str(tmp_path / "00000007.bin")
    outputs = _spill_bands(entries, path)
    expected = dict(split_by_partition(entries, band_partition(entries, SPILLED_PARTITION_BITS)))
    assert [partition for _, (partition, _) in outputs] == sorted(expected) and len(expected) == 64
    assert all(tag == "bands" and isinstance(ref, BandRange) for tag, (_, ref) in outputs)
    for _, (partition, ref) in outputs:
        assert read_band_range(ref) == expected[partition].tobytes()
    assert (tmp_path / "00000007.bin").stat().st_size == n * bands * 28
