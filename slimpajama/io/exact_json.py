"""JSON lines parsed by orjson (several times faster) exactly as the stdlib `json` parses them:
`orjson_if_exact` gives orjson's result only when it is provably `json.loads`'s, and `loads_exact`
falls back to `json.loads` otherwise."""

from __future__ import annotations

import json
from typing import Any

import orjson

_FIRST_INEXACT_INT = float(2**63)
"""orjson reads an integer literal outside [-2^63, 2^64) as the nearest float, of magnitude >= this."""
_ORJSON_MAX_DEPTH = 64
"""Deeper records go to `json`, whose recursion limit (not orjson's 1024) decides if they are read."""


def orjson_if_exact(content: bytes) -> Any:
    """orjson's parse of one line when it is provably what `json` gives, else None.

    orjson refuses everything that `json` reads differently or refuses: invalid UTF-8, a BOM,
    raw control characters in strings (which `strict=False` accepts), lone surrogate escapes,
    NaN/Infinity, numbers that overflow to infinity. Both read every other string alike, keep the
    last value of a duplicate key at its first position, and round float literals correctly (so
    to the same double). Left to `json`: a result nested deeper than `_ORJSON_MAX_DEPTH` (json
    may hit Python's recursion limit), and one holding a whole float of magnitude >= 2^63, which
    is how orjson silently reads an integer outside [-2^63, 2^64) (a float literal like 1e19 too).
    """
    try:
        record = orjson.loads(content)
    except orjson.JSONDecodeError:
        return None
    return record if _read_alike(record, 1) else None


def _read_alike(value: Any, depth: int) -> bool:
    """False if `value` (at nesting `depth`, 1 = the record) holds something `json` may read
    differently: a container deeper than `_ORJSON_MAX_DEPTH` or a whole float >= 2^63."""
    if isinstance(value, dict):
        items = value.values()
    elif isinstance(value, list):
        items = value
    elif isinstance(value, float):
        return not (value.is_integer() and abs(value) >= _FIRST_INEXACT_INT)
    else:
        return True
    if depth > _ORJSON_MAX_DEPTH:
        return False
    for item in items:
        if type(item) is not str and not _read_alike(item, depth + 1):
            return False
    return True


def loads_exact(content: bytes) -> Any:
    """`json.loads(content)`, computed by orjson whenever that gives the same value."""
    record = orjson_if_exact(content)
    return json.loads(content) if record is None else record
