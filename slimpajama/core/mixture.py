"""Source mixtures: target token shares per `redpajama_set_name`, and the per-source weights and
copy counts that reach them.

Mixture file schema (`pipelines/mixtures/NAME.json`, or any path a user passes):

    {"name": str, "description": str (optional), "shares": {SET_NAME: number >= 0, ...} | "natural"}

Shares are relative token shares, normalized to sum 1 (the shipped files use percent). A set name
absent from `shares` gets share 0 and is dropped. `"natural"` keeps every input source's own share.

Selection rule: a source with weight w = target tokens / available tokens contributes each of its
documents floor(w) times, plus one more copy of the documents whose selection hash
(`doc_hash(seed, "select", relpath, line)`) falls in a bucket below a per-source cut. Buckets are
the top `BUCKET_BITS` bits of the hash; the cut is the one whose extra tokens come closest to
(w - floor(w)) x available tokens. So every document appears floor(w) or ceil(w) times, none is
dropped when w >= 1, and a source misses its target by at most half a bucket's tokens (about one
document while a source has fewer documents than buckets).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import xxhash

from slimpajama.core.paths import pipelines_dir
from slimpajama.core.sources import SET_NAMES

BUCKET_BITS = 16
N_BUCKETS = 1 << BUCKET_BITS
MAX_SEED = (1 << 64) - 1
MIXTURE_DIR = pipelines_dir() / "mixtures"
"""Bundled mixtures, addressable by file stem (`slimpajama-627b`, `redpajama-1t`, `natural`)."""
_MIXTURE_KEYS = {"name", "description", "shares"}


def doc_hash(seed: int, purpose: str, relpath: str, line: int, copy: int = 0) -> int:
    """64-bit xxh3 of one document copy's id under `seed`; each `purpose` is an independent stream."""
    return xxhash.xxh3_64_intdigest(f"{purpose}\0{relpath}\0{line}\0{copy}".encode(), seed=seed)


def selection_bucket(seed: int, relpath: str, line: int) -> int:
    """Bucket in [0, N_BUCKETS) of a document's selection hash (its top BUCKET_BITS bits)."""
    return doc_hash(seed, "select", relpath, line) >> (64 - BUCKET_BITS)


@dataclass(frozen=True)
class Mixture:
    """Target token shares by set name (fractions summing to 1), or None for the natural mix."""

    name: str
    description: str
    shares: dict[str, float] | None


def parse_mixture(data: Any, origin: str) -> Mixture:
    """Validate a decoded mixture file; raises ValueError naming `origin` and the problem."""
    if not isinstance(data, dict):
        raise ValueError(f"{origin}: a mixture is a JSON object, got {type(data).__name__}")
    unknown = sorted(set(data) - _MIXTURE_KEYS)
    if unknown or "shares" not in data:
        raise ValueError(f"{origin}: keys must be {sorted(_MIXTURE_KEYS)} ('shares' required); "
                         f"unknown {unknown}")
    name = data.get("name", Path(origin).stem)
    description = data.get("description", "")
    if not isinstance(name, str) or not isinstance(description, str):
        raise ValueError(f"{origin}: 'name' and 'description' must be strings")
    raw = data["shares"]
    if raw == "natural":
        return Mixture(name, description, None)
    if not isinstance(raw, dict) or not raw:
        raise ValueError(f"{origin}: 'shares' must be \"natural\" or a non-empty object")
    bad_names = sorted(set(raw) - set(SET_NAMES.values()))
    if bad_names:
        raise ValueError(f"{origin}: unknown set names {bad_names}; "
                         f"expected some of {sorted(SET_NAMES.values())}")
    for set_name, share in raw.items():
        if isinstance(share, bool) or not isinstance(share, int | float):
            raise ValueError(f"{origin}: share of {set_name} must be a number, got {share!r}")
        if not math.isfinite(share) or share < 0:
            raise ValueError(f"{origin}: share of {set_name} must be finite and >= 0, got {share}")
    total = math.fsum(raw.values())
    if total <= 0:
        raise ValueError(f"{origin}: shares sum to 0")
    return Mixture(name, description, {k: raw[k] / total for k in sorted(raw) if raw[k] > 0})


def mixture_names() -> list[str]:
    """Names of the bundled mixtures."""
    return sorted(p.stem for p in MIXTURE_DIR.glob("*.json"))


def load_mixture(name_or_path: str) -> Mixture:
    """A bundled mixture by name, or a mixture file by path."""
    path = Path(name_or_path)
    if not path.is_file():
        path = MIXTURE_DIR / f"{name_or_path}.json"
        if not path.is_file():
            raise ValueError(f"unknown mixture {name_or_path!r}: not a file and not one of "
                             f"{mixture_names()}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON: {error}") from error
    return parse_mixture(data, str(path))


@dataclass(frozen=True)
class Target:
    """Total size of the mix: `tokens` (counter units), or `epochs` x the available tokens of the
    sources the mixture includes. Exactly one is set; the default is one epoch."""

    tokens: int | None = None
    epochs: float | None = None

    def __post_init__(self) -> None:
        if (self.tokens is None) == (self.epochs is None):
            raise ValueError("set exactly one of tokens and epochs")
        if (self.tokens if self.epochs is None else self.epochs) <= 0:
            raise ValueError("the target must be positive")

    def total_tokens(self, available_tokens: int) -> Fraction:
        """Target tokens of the whole mix given the available tokens of the mixed sources (exact)."""
        if self.epochs is None:
            return Fraction(self.tokens)
        return Fraction(self.epochs) * available_tokens


class Amount(NamedTuple):
    """Counts of a set of document copies: tokens (counter units), UTF-8 text bytes, copies."""

    tokens: int
    nbytes: int
    docs: int


@dataclass
class SourceHistogram:
    """Tokens, UTF-8 bytes and documents of one source per selection bucket (int64 arrays)."""

    tokens: np.ndarray = field(default_factory=lambda: np.zeros(N_BUCKETS, np.int64))
    nbytes: np.ndarray = field(default_factory=lambda: np.zeros(N_BUCKETS, np.int64))
    docs: np.ndarray = field(default_factory=lambda: np.zeros(N_BUCKETS, np.int64))

    @classmethod
    def from_docs(cls, buckets: Iterable[int], tokens: Iterable[int],
                  nbytes: Iterable[int]) -> SourceHistogram:
        """Histogram of documents given as parallel sequences."""
        b = np.fromiter(buckets, np.int64)
        return cls(
            np.bincount(b, np.fromiter(tokens, np.float64), N_BUCKETS).astype(np.int64),
            np.bincount(b, np.fromiter(nbytes, np.float64), N_BUCKETS).astype(np.int64),
            np.bincount(b, minlength=N_BUCKETS).astype(np.int64),
        )

    def __getstate__(self) -> dict[str, np.ndarray]:
        """Pickle only the occupied buckets: Beam copies accumulators around, and most sources of
        a small corpus occupy few of the N_BUCKETS buckets."""
        occupied = np.flatnonzero(self.docs)
        return {"occupied": occupied.astype(np.min_scalar_type(N_BUCKETS - 1)),
                "tokens": self.tokens[occupied], "nbytes": self.nbytes[occupied],
                "docs": self.docs[occupied]}

    def __setstate__(self, state: dict[str, np.ndarray]) -> None:
        self.__init__()
        for name in ("tokens", "nbytes", "docs"):
            getattr(self, name)[state["occupied"]] = state[name]

    def add(self, bucket: int, tokens: int, nbytes: int) -> None:
        """Count one document."""
        self.tokens[bucket] += tokens
        self.nbytes[bucket] += nbytes
        self.docs[bucket] += 1

    def merge(self, other: SourceHistogram) -> SourceHistogram:
        """Add `other` into this histogram; returns self."""
        self.tokens += other.tokens
        self.nbytes += other.nbytes
        self.docs += other.docs
        return self

    def below(self, cut: int) -> Amount:
        """Counts of the documents in buckets [0, cut)."""
        return Amount(int(self.tokens[:cut].sum()), int(self.nbytes[:cut].sum()),
                      int(self.docs[:cut].sum()))


def fractional_cut(bucket_tokens: np.ndarray, extra_tokens: float) -> int:
    """Smallest cut in [0, len] whose tokens in buckets below it are closest to `extra_tokens`."""
    cumulative = np.concatenate(([0], np.cumsum(bucket_tokens)))
    above = int(np.searchsorted(cumulative, extra_tokens, side="left"))
    if above == len(cumulative):
        above -= 1
    below = int(np.searchsorted(cumulative, cumulative[max(above - 1, 0)], side="left"))
    if abs(cumulative[below] - extra_tokens) <= abs(cumulative[above] - extra_tokens):
        return below
    return above


@dataclass(frozen=True)
class SourcePlan:
    """How one source enters the mix. Documents in buckets < `cut` appear `whole_copies` + 1 times,
    the others `whole_copies` times; `repeats` maps copies per document -> documents."""

    set_name: str
    share: float
    target_tokens: float
    weight: float
    whole_copies: int
    cut: int
    available: Amount
    mixed: Amount
    repeats: dict[int, int]

    def copies(self, bucket: int) -> int:
        """Copies of a document in selection bucket `bucket`."""
        return self.whole_copies + (1 if bucket < self.cut else 0)


@dataclass(frozen=True)
class MixPlan:
    """Per-source plans of one mix; sources with no plan contribute nothing."""

    mixture: str
    target_tokens: float
    sources: dict[str, SourcePlan]

    def copies(self, set_name: str, bucket: int) -> int:
        """Copies of a document of `set_name` in selection bucket `bucket`."""
        plan = self.sources.get(set_name)
        return 0 if plan is None else plan.copies(bucket)

    def mixed_total(self) -> Amount:
        """Counts of the whole mix (all copies of all sources)."""
        parts = [p.mixed for p in self.sources.values()]
        return Amount(*(sum(column) for column in zip(*parts, strict=True))) if parts else Amount(0, 0, 0)


def plan_mix(mixture: Mixture, histograms: Mapping[str, SourceHistogram], target: Target) -> MixPlan:
    """Weights, whole copies and cuts reaching `mixture` at `target` size from the input histograms.

    Weights are computed exactly (rationals of the float shares), so natural epochs give integer
    weights. Raises ValueError when a source with a positive share has no tokens in the input."""
    available = {name: h.below(N_BUCKETS) for name, h in histograms.items()}
    if mixture.shares is None:
        present = {name: a.tokens for name, a in available.items() if a.tokens > 0}
        shares = {name: Fraction(tokens, sum(present.values())) for name, tokens in present.items()}
    else:
        shares = {name: Fraction(share) for name, share in mixture.shares.items()}
        missing = sorted(n for n in shares if available.get(n, Amount(0, 0, 0)).tokens == 0)
        if missing:
            raise ValueError(f"mixture {mixture.name!r} needs {missing}, which the input lacks")
    total = target.total_tokens(sum(available[name].tokens for name in shares))
    plans: dict[str, SourcePlan] = {}
    for name in sorted(set(available) | set(shares)):
        have = available.get(name, Amount(0, 0, 0))
        share = shares.get(name, Fraction(0))
        wanted = share * total
        weight = wanted / have.tokens if share > 0 else Fraction(0)
        whole = math.floor(weight)
        histogram = histograms[name]
        cut = fractional_cut(histogram.tokens, float(wanted - whole * have.tokens)) if share else 0
        extra = histogram.below(cut)
        mixed = Amount(*(whole * h + e for h, e in zip(have, extra, strict=True)))
        repeats = {copies: docs for copies, docs in ((whole + 1, extra.docs),
                                                     (whole, have.docs - extra.docs)) if docs}
        plans[name] = SourcePlan(name, float(share), float(wanted), float(weight), whole, cut, have,
                                 mixed, repeats)
    return MixPlan(mixture.name, float(total), plans)
