"""Token counters for mixing: GPT-2 BPE tokens, or UTF-8 bytes as a documented proxy."""

from __future__ import annotations

from collections.abc import Callable

COUNTERS = ("gpt2", "bytes")
"""Token counters: GPT-2 BPE tokens (`slimpajama.io.tokenizer`), or UTF-8 bytes as a documented proxy."""


def default_counter() -> str:
    """"gpt2" when the offline GPT-2 tokenizer is importable, else "bytes"."""
    try:
        import slimpajama.io.tokenizer  # noqa: F401
    except ImportError:
        return "bytes"
    return "gpt2"


def token_counter(kind: str) -> Callable[[str], int]:
    """Function text -> token count in the units of `kind` (see COUNTERS)."""
    if kind == "bytes":
        return lambda text: len(text.encode("utf-8"))
    if kind == "gpt2":
        from slimpajama.io.tokenizer import gpt2_encoding

        encode = gpt2_encoding().encode_ordinary
        return lambda text: len(encode(text))
    raise ValueError(f"unknown token counter {kind!r}; expected one of {COUNTERS}")
