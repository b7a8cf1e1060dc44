"""Where the bundled recipes, mixtures and schedules (`pipelines/`) are."""

from __future__ import annotations

import sys
from pathlib import Path


def pipelines_dir() -> Path:
    """`pipelines/` of the source checkout (editable or source installs), else the copy a wheel
    installs as data files under `<prefix>/share/slimpajama/pipelines`."""
    checkout = Path(__file__).resolve().parents[2] / "pipelines"
    if checkout.is_dir():
        return checkout
    return Path(sys.prefix) / "share" / "slimpajama" / "pipelines"
