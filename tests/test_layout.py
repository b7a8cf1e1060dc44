"""The package layout's rules: `slimpajama.core` stays free of Beam, click and the layers above it."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import slimpajama.core

CORE_MODULES = sorted(f"slimpajama.core.{m.name}" for m in pkgutil.iter_modules(slimpajama.core.__path__))
FORBIDDEN = ("apache_beam", "click", "slimpajama.io", "slimpajama.dedup", "slimpajama.mix",
             "slimpajama.tokenize", "slimpajama.train", "slimpajama.cli", "slimpajama.console")


def test_core_lists_the_pure_modules():
    assert CORE_MODULES == [f"slimpajama.core.{name}" for name in (
        "accounting", "jaccard", "keep", "keytext", "lsh", "minhash", "mixture", "normalize",
        "paths", "shingles", "sources", "split", "star_rounds", "union_find")]


def test_importing_core_imports_no_beam_click_or_upper_layer():
    code = (
        "import sys\n"
        f"for name in {CORE_MODULES!r}:\n"
        "    __import__(name)\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r} or "
        f"any(m == f or m.startswith(f + '.') for f in {FORBIDDEN!r}))\n"
        "print(','.join(bad))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""
