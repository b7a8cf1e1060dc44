"""Options of `slimpajama tokenize` (what determines the output bytes)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slimpajama.io.release import SPLITS
from slimpajama.io.shards import HDF5_SEQUENCES_PER_FILE
from slimpajama.io.tokenizer import GPT2_PRELOAD_MODULE

FORMATS: tuple[str, ...] = ("megatron", "hdf5")
DEFAULT_SHARD_TOKENS = 2**27
POOL_PRELOAD = ("slimpajama.tokenize.pipeline", GPT2_PRELOAD_MODULE)
"""Modules the worker pool's forkserver imports for tokenize (`slimpajama.forkserver`)."""


@dataclass(frozen=True)
class TokenizeOptions:
    """What determines the output bytes (recorded in the manifest)."""

    format: str = "megatron"
    splits: tuple[str, ...] = SPLITS
    seq_len: int = 2048
    """HDF5 only: the fixed sequence length (msl) of the windows; Megatron keeps documents."""
    shard_tokens: int = DEFAULT_SHARD_TOKENS
    """Megatron only: a document belongs to shard `global_start // shard_tokens`."""
    hdf5_sequences_per_file: int = HDF5_SEQUENCES_PER_FILE

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ValueError(f"unknown format {self.format!r}; expected one of {FORMATS}")
        unknown = [s for s in self.splits if s not in SPLITS]
        if unknown or not self.splits:
            raise ValueError(f"splits must be a non-empty subset of {SPLITS}, got {self.splits}")
        if min(self.seq_len, self.shard_tokens, self.hdf5_sequences_per_file) < 1:
            raise ValueError("seq_len, shard_tokens and hdf5_sequences_per_file must be >= 1")

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "splits": list(self.splits),
            "seq_len": self.seq_len,
            "shard_tokens": self.shard_tokens,
            "hdf5_sequences_per_file": self.hdf5_sequences_per_file,
        }
