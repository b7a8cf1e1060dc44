"""The trainer hook: deterministic, resumable, rank-split batches from tokenized Megatron shards.

A split's shards, concatenated in manifest order, are one token stream (documents already end in
EOS, so this is BTLM's packing: no attention reset). `token_range=(a, b)` selects the tokens
[floor(a*T), floor(b*T)) of that stream (T = split tokens); inside it, sample j is the window of
seq_len + 1 tokens starting at j*seq_len (input_ids = w[:-1], labels = w[1:]). Samples are
visited in a seeded permutation, `global_batch` per step; rank r of W takes the r-th of W equal
slices of every global batch. One pass, then the stream ends. Phases with adjacent token ranges
(BTLM: 2048 tokens on (0, 0.75), then 8192 on (0.75, 1)) therefore read disjoint tokens.

numpy only; `torch_batches` imports torch lazily (extra [train]).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from slimpajama.core.paths import pipelines_dir
from slimpajama.io.shards import read_megatron_shard

STATE_VERSION = 1
BTLM_SCHEDULE_PATH = str(pipelines_dir() / "btlm-3b-8k.json")
"""The BTLM-3B-8K phases + model config, kept as data in the repository's `pipelines/`."""
_STATE_KEYS = ("manifest_sha256", "split", "seq_len", "global_batch", "token_range", "seed")


@dataclass(frozen=True)
class Phase:
    """One training phase: sequence length, global batch (sequences) and token fraction range."""

    name: str
    seq_len: int
    global_batch: int
    token_range: tuple[float, float]


def load_schedule(path: str = BTLM_SCHEDULE_PATH) -> tuple[list[Phase], dict[str, Any]]:
    """(phases, full schedule dict) from a schedule JSON such as pipelines/btlm-3b-8k.json.

    Phases must tile [0, 1]: each starts where the previous ends, so they read disjoint tokens.
    """
    with open(path, encoding="utf-8") as handle:
        schedule = json.load(handle)
    phases = [
        Phase(p["name"], int(p["seq_len"]), int(p["global_batch"]), tuple(p["token_range"]))
        for p in schedule["phases"]
    ]
    edges = [0.0] + [p.token_range[1] for p in phases]
    if [p.token_range[0] for p in phases] != edges[:-1] or edges[-1] != 1.0:
        raise ValueError(
            f"{path}: phase token ranges must tile [0, 1], got {[p.token_range for p in phases]}"
        )
    return phases, schedule


def token_span(total_tokens: int, token_range: Sequence[float]) -> tuple[int, int]:
    """[floor(a*T), floor(b*T)) for token_range (a, b); adjacent ranges give adjacent spans."""
    start, stop = (float(x) for x in token_range)
    if not 0.0 <= start <= stop <= 1.0:
        raise ValueError(f"token_range must satisfy 0 <= a <= b <= 1, got {token_range}")
    return math.floor(start * total_tokens), math.floor(stop * total_tokens)


def _manifest_path(manifest: str | os.PathLike[str]) -> str:
    path = os.fspath(manifest)
    return os.path.join(path, "manifest.json") if os.path.isdir(path) else path


class TokenStream:
    """Batches `{"input_ids", "labels", "loss_mask"}` (numpy, (global_batch / world_size, seq_len))
    for one rank; iterate it, or index it by global step. `state_dict()` is rank-independent
    (the number of global steps consumed), so a resume may also change `world_size`."""

    def __init__(
        self,
        manifest: str | os.PathLike[str],
        seq_len: int,
        global_batch: int,
        rank: int = 0,
        world_size: int = 1,
        seed: int = 0,
        token_range: Sequence[float] = (0.0, 1.0),
        split: str = "train",
    ) -> None:
        if seq_len < 1 or global_batch < 1:
            raise ValueError("seq_len and global_batch must be >= 1")
        if world_size < 1 or not 0 <= rank < world_size or global_batch % world_size:
            raise ValueError(
                f"need 0 <= rank < world_size dividing global_batch, got "
                f"rank {rank}, world_size {world_size}, global_batch {global_batch}"
            )
        path = _manifest_path(manifest)
        with open(path, "rb") as handle:
            raw = handle.read()
        info = json.loads(raw)
        if info["format"] != "megatron":
            raise ValueError(
                f"TokenStream reads Megatron shards, {path} has format {info['format']!r}"
            )
        if split not in info["splits"]:
            raise ValueError(f"split {split!r} not in {path}")
        shards = info["splits"][split]["shards"]
        self.root = os.path.dirname(os.path.abspath(path))
        self.manifest_sha256 = hashlib.sha256(raw).hexdigest()
        self.split = split
        self.seq_len = seq_len
        self.global_batch = global_batch
        self.rank = rank
        self.world_size = world_size
        self.seed = seed
        self.token_range = (float(token_range[0]), float(token_range[1]))
        self.shard_names = [s["name"] for s in shards]
        self.shard_starts = np.concatenate([[0], np.cumsum([s["tokens"] for s in shards])]).astype(
            np.int64
        )
        self.start, self.stop = token_span(int(self.shard_starts[-1]), self.token_range)
        self.num_samples = max(self.stop - self.start - 1, 0) // seq_len
        self.num_steps = self.num_samples // global_batch
        self.local_batch = global_batch // world_size
        self.step = 0
        self._tokens: list[np.ndarray] | None = None
        self._order: np.ndarray | None = None

    # -- data access (lazy, so pickled copies in DataLoader workers open their own maps)

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_tokens": None, "_order": None}

    def _shard_tokens(self) -> list[np.ndarray]:
        if self._tokens is None:
            self._tokens = [
                read_megatron_shard(os.path.join(self.root, n)).tokens for n in self.shard_names
            ]
        return self._tokens

    def sample_order(self) -> np.ndarray:
        """Seeded permutation of the sample indices; a pass reads its first num_steps * global_batch.

        Equal to `Generator(PCG64(seed)).permutation(num_samples)`, stored as uint32 when it fits
        (4 bytes per sample: ~0.9 GB for BTLM's 230M phase-1 samples).
        """
        if self._order is None:
            dtype = np.uint32 if self.num_samples < 2**32 else np.int64
            order = np.arange(self.num_samples, dtype=dtype)
            np.random.Generator(np.random.PCG64(self.seed)).shuffle(order)
            self._order = order
        return self._order

    def sample_span(self, sample: int) -> tuple[int, int]:
        """[start, stop) of the seq_len + 1 stream tokens of sample `sample`."""
        first = self.start + sample * self.seq_len
        return first, first + self.seq_len + 1

    def read_tokens(self, start: int, stop: int) -> np.ndarray:
        """Tokens [start, stop) of the split's concatenated stream (may cross shards)."""
        tokens = self._shard_tokens()
        shard = int(np.searchsorted(self.shard_starts, start, side="right")) - 1
        pieces = []
        while start < stop:
            offset = int(self.shard_starts[shard])
            end = min(stop, int(self.shard_starts[shard + 1]))
            pieces.append(tokens[shard][start - offset : end - offset])
            start = end
            shard += 1
        return pieces[0] if len(pieces) == 1 else np.concatenate(pieces)

    def batch(self, step: int) -> dict[str, np.ndarray]:
        """This rank's slice of global batch `step`."""
        if not 0 <= step < self.num_steps:
            raise IndexError(f"step {step} outside [0, {self.num_steps})")
        first = step * self.global_batch + self.rank * self.local_batch
        samples = self.sample_order()[first : first + self.local_batch]
        windows = np.empty((self.local_batch, self.seq_len + 1), dtype=np.int64)
        for row, sample in enumerate(samples):
            windows[row] = self.read_tokens(*self.sample_span(int(sample)))
        return {
            "input_ids": windows[:, :-1],
            "labels": windows[:, 1:],
            "loss_mask": np.ones((self.local_batch, self.seq_len), dtype=np.float32),
        }

    # -- iteration and resume

    def __len__(self) -> int:
        return self.num_steps

    def __getitem__(self, step: int) -> dict[str, np.ndarray]:
        return self.batch(step)

    def __iter__(self) -> Iterator[dict[str, np.ndarray]]:
        while self.step < self.num_steps:
            batch = self.batch(self.step)
            self.step += 1
            yield batch

    def torch_batches(self, num_workers: int = 0) -> Iterator[dict[str, Any]]:
        """Remaining batches as torch tensors through a `torch.utils.data.DataLoader` with
        `num_workers` workers; the order is the same for any worker count, and `step` counts
        the batches received here (so `state_dict()` stays exact with workers prefetching)."""
        from torch.utils.data import DataLoader  # extra [train]

        self.sample_order()  # computed once here; forked workers inherit it
        loader = DataLoader(
            self, batch_size=None, sampler=range(self.step, self.num_steps), num_workers=num_workers
        )
        for batch in loader:
            self.step += 1
            yield batch

    def state_dict(self) -> dict[str, Any]:
        """Position (global steps consumed) plus everything that must match to resume."""
        return {
            "version": STATE_VERSION,
            "manifest_sha256": self.manifest_sha256,
            "split": self.split,
            "seq_len": self.seq_len,
            "global_batch": self.global_batch,
            "token_range": list(self.token_range),
            "seed": self.seed,
            "step": self.step,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from `state`; raises ValueError if it came from another manifest, seq_len,
        global batch, split, token range or seed."""
        mine = self.state_dict()
        mismatched = [k for k in ("version", *_STATE_KEYS) if state.get(k) != mine[k]]
        if mismatched:
            detail = ", ".join(f"{k}: {state.get(k)!r} != {mine[k]!r}" for k in mismatched)
            raise ValueError(f"state does not belong to this stream ({detail})")
        if not 0 <= int(state["step"]) <= self.num_steps:
            raise ValueError(f"step {state['step']} outside [0, {self.num_steps}]")
        self.step = int(state["step"])


def phase_streams(
    manifest: str | os.PathLike[str],
    phases: Sequence[Phase],
    rank: int = 0,
    world_size: int = 1,
    seed: int = 0,
    split: str = "train",
) -> list[TokenStream]:
    """One TokenStream per phase (same seed, each on its own disjoint token range)."""
    return [
        TokenStream(
            manifest, p.seq_len, p.global_batch, rank, world_size, seed, p.token_range, split
        )
        for p in phases
    ]
