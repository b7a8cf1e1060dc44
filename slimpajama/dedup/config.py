"""Dedup run options: one frozen dataclass, validated once, recorded verbatim in report.json.

Recipes in `pipelines/` are JSON objects with the same field names; explicit CLI flags override them.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
from dataclasses import dataclass
from typing import Any

from slimpajama.core.keep import DEFAULT_SOURCE_PRIORITY, KEEP_POLICIES
from slimpajama.core.paths import pipelines_dir

PIPELINES_DIR = str(pipelines_dir())
POOL_PRELOAD = ("slimpajama.dedup.units",)
"""Modules the worker pool's forkserver imports for dedup (`slimpajama.forkserver`)."""
SCOPES = ("global", "local")
COMPONENTS = ("auto", "union-find", "distributed")
"""How clusters are found: one worker's array union-find over all edges, large-star/small-star
rounds keyed by document (no single-worker step), or `auto`: on a local runner the first, on a
distributed runner the first while the number of candidate edges is at most
`component_edge_budget`, else the second. Same output bytes."""


class ConfigError(ValueError):
    """An invalid option combination; the CLI prints it on one line and exits with status 2."""


@dataclass(frozen=True)
class DedupConfig:
    """Everything that determines the bytes of a dedup run's output."""

    input: str
    output: str
    scope: str = "global"
    threshold: float = 0.8
    ngram: int = 13
    shingle: str = "char"
    num_perm: int = 128
    scheme: str = "fast"
    seed: int = 1
    bands: int | None = None
    rows: int | None = None
    verify: bool = False
    recall: float | None = None
    components: str = "auto"
    component_edge_budget: int = 50_000_000  # edges one worker clusters with --components auto
    component_rounds: int = 8
    min_chars: int = 200
    keep: str = "first"
    source_priority: tuple[str, ...] = DEFAULT_SOURCE_PRIORITY
    chunks: int = 10
    max_line_bytes: int = 256 * 2**20
    batch_docs: int = 512
    strict: bool = False
    overwrite: bool = False
    recipe: str | None = None

    def __post_init__(self) -> None:
        from slimpajama.core.minhash import SCHEMES  # the core owns the scheme names

        problems = []
        if self.scope not in SCOPES:
            problems.append(f"--scope must be one of {SCOPES}")
        if self.scheme not in SCHEMES:
            problems.append(f"--scheme must be one of {SCHEMES}")
        if self.keep not in KEEP_POLICIES:
            problems.append(f"--keep must be one of {KEEP_POLICIES}")
        if self.shingle not in ("char", "word"):
            problems.append("--shingle must be char or word")
        if not 0.0 < self.threshold <= 1.0:
            problems.append("--threshold must be in (0, 1]")
        if self.ngram < 1 or self.num_perm < 1 or self.chunks < 1 or self.min_chars < 0:
            problems.append("--ngram, --num-perm and --chunks must be >= 1, --min-chars >= 0")
        if (self.bands is None) != (self.rows is None):
            problems.append("--bands and --rows go together")
        elif self.bands is not None and self.bands * self.rows > self.num_perm:
            problems.append(f"--bands x --rows = {self.bands * self.rows} > --num-perm {self.num_perm}")
        if self.components not in COMPONENTS:
            problems.append(f"--components must be one of {COMPONENTS}")
        if self.component_rounds < 1:
            problems.append("--component-rounds must be >= 1")
        if self.component_edge_budget < 0:
            problems.append("component_edge_budget must be >= 0")
        if self.recall is not None:
            if not self.verify:
                problems.append("--recall needs --verify (more bands let in false positives)")
            if not 0.0 < self.recall < 1.0:
                problems.append("--recall must be in (0, 1)")
            if self.bands is not None:
                problems.append("--recall and --bands/--rows exclude each other")
        if problems:
            raise ConfigError("; ".join(problems))

    @functools.cached_property
    def band_rows(self) -> tuple[int, int]:
        """(bands, rows): explicit; or, with --recall, the fewest false positives at that recall
        at the threshold; else datasketch's optimum for (threshold, num_perm)."""
        from slimpajama.core.lsh import optimal_params, recall_params

        if self.bands is not None and self.rows is not None:
            return self.bands, self.rows
        if self.recall is not None:
            return recall_params(self.threshold, self.num_perm, self.recall)
        return optimal_params(self.threshold, self.num_perm)

    def minhash_params(self):
        """The MinHash core's parameters for this run."""
        from slimpajama.core.minhash import MinHashParams

        return MinHashParams(
            scheme=self.scheme, num_perm=self.num_perm, ngram=self.ngram, shingle=self.shingle,
            seed=self.seed,
        )

    def as_report(self) -> dict[str, Any]:
        """The options as recorded in report.json (paths included, runner options excluded)."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["source_priority"] = list(self.source_priority)
        out["bands"], out["rows"] = self.band_rows
        out["minhash_tag"] = self.minhash_params().tag
        return out


def load_recipe(name_or_path: str) -> dict[str, Any]:
    """A recipe's options: a file path, or a name in pipelines/ (`slimpajama-627b` ->
    pipelines/slimpajama-627b.json)."""
    path = name_or_path
    if not os.path.exists(path):
        path = os.path.join(PIPELINES_DIR, f"{name_or_path}.json")
    if not os.path.exists(path):
        known = sorted(f[:-5] for f in os.listdir(PIPELINES_DIR) if f.endswith(".json"))
        raise ConfigError(f"unknown recipe {name_or_path!r}; known: {', '.join(known)}")
    with open(path, encoding="utf-8") as fh:
        recipe = json.load(fh)
    options = dict(recipe.get("dedup", recipe))
    if "mixture" in recipe:
        options["mixture"] = recipe["mixture"]  # the mix stage after dedup (`dedup --mixture`)
    unknown = set(options) - {f.name for f in dataclasses.fields(DedupConfig)} - {"mixture"}
    if unknown:
        raise ConfigError(f"recipe {path}: unknown options {sorted(unknown)}")
    return options


PRESETS: dict[str, str] = {"slimpajama": "slimpajama-627b"}
"""--preset name -> recipe in pipelines/."""


def dedup_config(
    input_: str,
    output: str,
    flags: dict[str, Any],
    recipe: str | None = None,
    preset: str | None = None,
    mixture: str | None = None,
) -> tuple[DedupConfig, str | None]:
    """The run's config from defaults <- recipe (or preset) <- explicit flags (None = not given),
    and the mixture to apply afterwards, if any (flag, else the recipe's). With a mixture the dedup
    output goes to `OUTPUT-dedup` and the mix writes OUTPUT."""
    if preset and recipe:
        raise ConfigError("--preset and --recipe exclude each other")
    if preset and preset not in PRESETS:
        raise ConfigError(f"unknown preset {preset!r}; known: {', '.join(sorted(PRESETS))}")
    recipe = PRESETS[preset] if preset else recipe
    options: dict[str, Any] = load_recipe(recipe) if recipe else {}
    options.update({k: v for k, v in flags.items() if v is not None})
    priority = options.get("source_priority")
    if isinstance(priority, str):
        options["source_priority"] = tuple(s.strip() for s in priority.split(","))
    elif priority is not None:
        options["source_priority"] = tuple(priority)
    mixture = mixture or options.pop("mixture", None)
    options.pop("mixture", None)
    dedup_output = f"{output.rstrip('/')}-dedup" if mixture else output
    return DedupConfig(input=input_, output=dedup_output, recipe=recipe, **options), mixture
