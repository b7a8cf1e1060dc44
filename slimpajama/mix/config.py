"""Options of `slimpajama mix` (see `slimpajama.mix.pipeline` for what they do)."""

from __future__ import annotations

from dataclasses import dataclass, field

from slimpajama.core.mixture import MAX_SEED, Mixture, Target
from slimpajama.core.split import HOLDOUT_FRACTION, holdout_threshold
from slimpajama.io.tokenizer import GPT2_PRELOAD_MODULE
from slimpajama.mix.counters import COUNTERS, default_counter
from slimpajama.mix.decontam import NearParams

POOL_PRELOAD = ("slimpajama.mix.units",)
"""Modules the worker pool's forkserver imports for every mix (`slimpajama.forkserver`)."""


@dataclass(frozen=True)
class MixConfig:
    """Options of one mix; `counter` is "gpt2" or "bytes" (the unit of every token count);
    `near` None turns near-duplicate decontamination off (exact stays on)."""

    mixture: Mixture
    target: Target = field(default_factory=lambda: Target(epochs=1.0))
    seed: int = 0
    holdout: float = HOLDOUT_FRACTION
    counter: str = field(default_factory=default_counter)
    docs_per_file: int = 10_000
    bytes_per_file: int = 256 << 20
    files_per_chunk: int = 6_000
    near: NearParams | None = field(default_factory=NearParams)
    shuffle_bin_bytes: int = 64 << 20
    """Target release-line bytes of one shuffle bin (what one writer holds); output does not depend on it."""
    spill_bytes: int = 64 << 20
    """A pass-2 worker writes a spill file whenever this many bytes are buffered; output does not depend on it."""

    def __post_init__(self) -> None:
        if not 0 <= self.seed <= MAX_SEED:
            raise ValueError(f"seed must be in [0, 2**64), got {self.seed}")
        holdout_threshold(self.holdout)
        if self.counter not in COUNTERS:
            raise ValueError(f"unknown token counter {self.counter!r}; expected one of {COUNTERS}")
        if min(self.docs_per_file, self.bytes_per_file, self.files_per_chunk,
               self.shuffle_bin_bytes, self.spill_bytes) < 1:
            raise ValueError("docs_per_file, bytes_per_file, files_per_chunk, shuffle_bin_bytes "
                             "and spill_bytes must be >= 1")

    def pool_preload(self) -> tuple[str, ...]:
        """Modules the worker pool's forkserver imports for this mix: GPT-2 too if it counts."""
        return (*POOL_PRELOAD, *((GPT2_PRELOAD_MODULE,) if self.counter == "gpt2" else ()))
