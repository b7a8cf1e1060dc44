"""Benchmarks: `python -m slimpajama.bench NAME|all`; each writes bench/results/NAME.json."""

BENCHMARKS: tuple[str, ...] = ("normalize", "minhash", "dedup", "quality", "count", "mix", "tokenize",
                               "scale")
"""Benchmark modules in run order; each module `slimpajama.bench.NAME` has `main(argv) -> dict`."""
