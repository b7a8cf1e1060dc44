"""Shard formats: Megatron .bin/.idx bytes (read back independently) and Cerebras HDF5 layout."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from slimpajama.io.shards import (
    hdf5_windows,
    megatron_index_bytes,
    read_megatron_shard,
    write_hdf5_file,
    write_megatron_shard,
)

DOCS = [[15496, 995, 50256], [50256], [7, 8, 9, 10, 50256], [40000, 50256]]


def independent_idx_reader(data: bytes) -> dict[str, object]:
    """megatron-core's _IndexReader logic, written from its documented layout."""
    assert data[:9] == b"MMIDIDX\x00\x00"
    (version,) = struct.unpack("<Q", data[9:17])
    (dtype_code,) = struct.unpack("<B", data[17:18])
    sequence_count, document_count = struct.unpack("<QQ", data[18:34])
    offset = 34
    sizes = np.frombuffer(data, np.int32, sequence_count, offset)
    offset += 4 * sequence_count
    pointers = np.frombuffer(data, np.int64, sequence_count, offset)
    offset += 8 * sequence_count
    doc_idx = np.frombuffer(data, np.int64, document_count, offset)
    offset += 8 * document_count
    assert offset == len(data)
    return {
        "version": version,
        "dtype_code": dtype_code,
        "sizes": sizes.tolist(),
        "pointers": pointers.tolist(),
        "doc_idx": doc_idx.tolist(),
    }


def write_docs(prefix: str, pieces: list[list[list[int]]]) -> tuple[int, int]:
    return write_megatron_shard(
        prefix,
        ([np.array(sum(p, []), np.uint16), np.array([len(d) for d in p])] for p in pieces),
    )


def test_megatron_idx_bytes_exact(tmp_path) -> None:
    prefix = str(tmp_path / "shard-00000")
    assert write_docs(prefix, [DOCS[:2], DOCS[2:]]) == (11, 4)
    idx = (tmp_path / "shard-00000.idx").read_bytes()
    expected = (
        b"MMIDIDX\x00\x00"
        + struct.pack("<Q", 1)
        + bytes([8])
        + struct.pack("<QQ", 4, 5)
        + struct.pack("<4i", 3, 1, 5, 2)
        + struct.pack("<4q", 0, 6, 8, 18)
        + struct.pack("<5q", 0, 1, 2, 3, 4)
    )
    assert idx == expected
    assert independent_idx_reader(idx) == {
        "version": 1,
        "dtype_code": 8,
        "sizes": [3, 1, 5, 2],
        "pointers": [0, 6, 8, 18],
        "doc_idx": [0, 1, 2, 3, 4],
    }
    assert (tmp_path / "shard-00000.bin").read_bytes() == struct.pack("<11H", *sum(DOCS, []))


def test_megatron_reader_round_trip(tmp_path) -> None:
    prefix = str(tmp_path / "s")
    write_docs(prefix, [DOCS])
    shard = read_megatron_shard(prefix)
    assert [shard.document(i).tolist() for i in range(4)] == DOCS
    assert shard.document_indices.tolist() == [0, 1, 2, 3, 4]
    assert shard.tokens.dtype == np.uint16


def test_megatron_empty_and_bad_input(tmp_path) -> None:
    assert megatron_index_bytes(np.zeros(0, np.int64)) == (
        b"MMIDIDX\x00\x00" + struct.pack("<QBQQ", 1, 8, 0, 1) + struct.pack("<q", 0)
    )
    with pytest.raises(ValueError, match="add up"):
        write_megatron_shard(str(tmp_path / "x"), [(np.arange(3, dtype=np.uint16), np.array([2]))])
    (tmp_path / "bad.idx").write_bytes(b"NOTMEGA" + bytes(40))
    with pytest.raises(ValueError, match="not a Megatron index"):
        read_megatron_shard(str(tmp_path / "bad"))


def test_hdf5_windows_exact() -> None:
    rows = hdf5_windows(np.arange(10, dtype=np.uint16), msl=3)
    assert rows.dtype == np.int32 and rows.shape == (3, 3, 3)
    assert rows[:, 0].tolist() == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    assert rows[:, 1].tolist() == [[1, 1, 1]] * 3
    assert rows[:, 2].tolist() == [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    assert hdf5_windows(np.arange(9), msl=3).shape == (2, 3, 3)  # tail 6,7,8 has no label for 8


def test_hdf5_file_layout(tmp_path) -> None:
    h5py = pytest.importorskip("h5py")
    stream = np.arange(1000, 1000 + 4 * 16 + 5, dtype=np.uint16)
    path = str(tmp_path / "data-00000.h5")
    assert write_hdf5_file(path, stream, msl=16, block_rows=3) == 4
    with h5py.File(path, "r") as h5_file:
        assert list(h5_file.keys()) == ["data"]
        assert dict(h5_file.attrs) == {"n_examples": 4}
        data = h5_file["data"]
        assert data.shape == (4, 3, 16) and data.dtype == np.dtype("int32")
        assert data.chunks == (1, 3, 16)
        assert data.compression == "gzip" and data.shuffle is True
        values = data[()]
    assert np.array_equal(values, hdf5_windows(stream, 16))
    assert values[3, 0, 0] == 1000 + 48 and values[3, 2, 15] == 1000 + 64
    again = str(tmp_path / "again.h5")
    write_hdf5_file(again, stream, msl=16)
    assert (tmp_path / "again.h5").read_bytes() == (tmp_path / "data-00000.h5").read_bytes()
    with pytest.raises(ValueError, match="fewer than"):
        write_hdf5_file(str(tmp_path / "short.h5"), stream[:16], msl=16)
