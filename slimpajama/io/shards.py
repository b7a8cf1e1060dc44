"""Training shard formats: Megatron indexed datasets and Cerebras ModelZoo GPT HDF5 files.

Megatron (`<prefix>.bin` + `<prefix>.idx`, readable by megatron-core's `IndexedDataset`):
`.bin` is the uint16 token array; `.idx` is `b"MMIDIDX\\x00\\x00"`, `<Q` version 1, `<B` dtype
code (8 = uint16 in megatron-core's `DType`), `<Q` sequence count, `<Q` document-index count
(= documents + 1), int32 sequence lengths, int64 byte pointers, int64 document indices.
One sequence per document (ids + [EOS]), so any sequence length can be cut at load time.

HDF5 (Cerebras GPT, as BTLM used): dataset "data" of shape (N, 3, msl) int32 with rows
input_ids / loss mask / labels, windows of msl + 1 tokens with stride msl over the concatenated
stream, gzip + shuffle filters, chunks (1, 3, msl), file attribute `n_examples`.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

MEGATRON_HEADER = b"MMIDIDX\x00\x00"
MEGATRON_VERSION = 1
MEGATRON_DTYPE_CODES = {np.dtype(np.uint16): 8, np.dtype(np.int32): 4}
"""numpy dtype -> megatron-core `DType` code (uint16 = 8, int32 = 4)."""
TOKEN_DTYPE = np.dtype(np.uint16)
"""Token dtype in `.bin` files; GPT-2's 50,257 ids fit in uint16."""
HDF5_SEQUENCES_PER_FILE = 50_000


def megatron_index_bytes(document_sizes: np.ndarray, dtype: np.dtype = TOKEN_DTYPE) -> bytes:
    """The `.idx` file for documents of the given token counts, one sequence per document."""
    sizes = np.asarray(document_sizes, dtype=np.int64)
    pointers = np.zeros(len(sizes), dtype=np.int64)
    np.cumsum(sizes[:-1] * np.dtype(dtype).itemsize, out=pointers[1:])
    document_indices = np.arange(len(sizes) + 1, dtype=np.int64)
    header = MEGATRON_HEADER + struct.pack(
        "<QBQQ", MEGATRON_VERSION, MEGATRON_DTYPE_CODES[np.dtype(dtype)], len(sizes), len(sizes) + 1
    )
    return b"".join(
        [
            header,
            sizes.astype("<i4").tobytes(),
            pointers.astype("<i8").tobytes(),
            document_indices.astype("<i8").tobytes(),
        ]
    )


def write_megatron_shard(
    prefix: str, pieces: Iterable[tuple[np.ndarray, np.ndarray]]
) -> tuple[int, int]:
    """Write `<prefix>.bin/.idx` from (tokens, document_sizes) pieces in order.

    Each piece holds whole documents: `tokens` (uint16) is their concatenation and
    `document_sizes` their token counts. Returns (tokens, documents) written.
    """
    all_sizes: list[np.ndarray] = []
    n_tokens = 0
    with open(prefix + ".bin", "wb") as bin_file:
        for tokens, sizes in pieces:
            if int(np.sum(sizes, dtype=np.int64)) != len(tokens):
                raise ValueError("document sizes do not add up to the piece's token count")
            bin_file.write(np.ascontiguousarray(tokens, dtype="<u2").tobytes())
            all_sizes.append(np.asarray(sizes, dtype=np.int64))
            n_tokens += len(tokens)
    sizes_array = np.concatenate(all_sizes) if all_sizes else np.zeros(0, dtype=np.int64)
    with open(prefix + ".idx", "wb") as idx_file:
        idx_file.write(megatron_index_bytes(sizes_array))
    return n_tokens, len(sizes_array)


@dataclass(frozen=True)
class MegatronShard:
    """A read-only view of one Megatron indexed dataset (`tokens` is a memory map of `.bin`)."""

    tokens: np.ndarray
    sizes: np.ndarray
    pointers: np.ndarray
    document_indices: np.ndarray

    def document(self, index: int) -> np.ndarray:
        """Token ids of sequence `index` (= document `index` in our shards)."""
        start = int(self.pointers[index]) // self.tokens.itemsize
        return self.tokens[start : start + int(self.sizes[index])]


def read_megatron_shard(prefix: str) -> MegatronShard:
    """Open `<prefix>.idx/.bin`; validates header, version and dtype like megatron-core does."""
    with open(prefix + ".idx", "rb") as idx_file:
        index = idx_file.read()
    if index[:9] != MEGATRON_HEADER:
        raise ValueError(f"{prefix}.idx: not a Megatron index")
    version, code, n_sequences, n_doc_indices = struct.unpack_from("<QBQQ", index, 9)
    codes = {c: d for d, c in MEGATRON_DTYPE_CODES.items()}
    if version != MEGATRON_VERSION or code not in codes:
        raise ValueError(f"{prefix}.idx: unsupported version {version} or dtype code {code}")
    offset = 9 + struct.calcsize("<QBQQ")
    sizes = np.frombuffer(index, dtype="<i4", count=n_sequences, offset=offset)
    offset += sizes.nbytes
    pointers = np.frombuffer(index, dtype="<i8", count=n_sequences, offset=offset)
    offset += pointers.nbytes
    document_indices = np.frombuffer(index, dtype="<i8", count=n_doc_indices, offset=offset)
    dtype = codes[code]
    if int(np.sum(sizes, dtype=np.int64)) == 0:
        tokens = np.zeros(0, dtype=dtype)
    else:
        tokens = np.memmap(prefix + ".bin", dtype=dtype.newbyteorder("<"), mode="r")
    return MegatronShard(tokens, sizes, pointers, document_indices)


def hdf5_windows(stream: np.ndarray, msl: int) -> np.ndarray:
    """(N, 3, msl) int32 rows input_ids / loss mask / labels; N = (len(stream) - 1) // msl.

    Window j covers stream[j*msl : j*msl + msl + 1]; a tail too short for a window is dropped.
    """
    n_windows = max(len(stream) - 1, 0) // msl
    rows = np.empty((n_windows, 3, msl), dtype=np.int32)
    body = np.asarray(stream[: n_windows * msl + 1], dtype=np.int32)
    if n_windows:
        rows[:, 0, :] = body[:-1].reshape(n_windows, msl)
        rows[:, 2, :] = body[1:].reshape(n_windows, msl)
    rows[:, 1, :] = 1
    return rows


def write_hdf5_file(path: str, stream: np.ndarray, msl: int, block_rows: int = 1024) -> int:
    """Write the windows of `stream` (see `hdf5_windows`) as one Cerebras GPT HDF5 file.

    Rows are produced `block_rows` at a time, so memory stays ~ the token stream itself.
    Returns the number of sequences written (`n_examples`); the stream must hold at least one.
    """
    import h5py  # extra [btlm]

    n_windows = max(len(stream) - 1, 0) // msl
    if n_windows == 0:
        raise ValueError(f"{path}: fewer than msl + 1 = {msl + 1} tokens")
    with h5py.File(path, "w", libver="earliest", track_order=False) as h5_file:
        h5_file.attrs["n_examples"] = n_windows
        data = h5_file.create_dataset(
            "data",
            shape=(n_windows, 3, msl),
            dtype="i4",
            chunks=(1, 3, msl),
            compression="gzip",
            shuffle=True,
            track_times=False,
        )
        for start in range(0, n_windows, block_rows):
            stop = min(start + block_rows, n_windows)
            data[start:stop] = hdf5_windows(stream[start * msl : stop * msl + 1], msl)
    return n_windows
