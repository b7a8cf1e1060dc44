"""Dispatch `python -m slimpajama.bench NAME [args...]` (or `all`) to `slimpajama.bench.NAME.main`."""

from __future__ import annotations

import importlib
import sys

from slimpajama.bench import BENCHMARKS


def run(argv: list[str]) -> int:
    """Run one benchmark by name with the remaining arguments, or every available one for `all`."""
    if not argv or argv[0] in ("-h", "--help"):
        print(f"usage: python -m slimpajama.bench {{all|{'|'.join(BENCHMARKS)}}} [args...]")
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    names = BENCHMARKS if name == "all" else (name,)
    for each in names:
        if each not in BENCHMARKS:
            print(f"unknown benchmark {each!r}; choose from {', '.join(BENCHMARKS)}", file=sys.stderr)
            return 2
        try:
            module = importlib.import_module(f"slimpajama.bench.{each}")
        except ModuleNotFoundError as missing:
            if name != "all" or missing.name != f"slimpajama.bench.{each}":
                raise
            print(f"[bench] {each}: not implemented yet, skipped")
            continue
        module.main(rest)
    return 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
