"""Token counters for mixing: GPT-2 BPE tokens, or UTF-8 bytes as a documented proxy."""

from __future__ import annotations

from collections.abc import Callable, Sequence

COUNTERS = ("gpt2", "bytes")
"""Token counters: GPT-2 BPE tokens (exact, `slimpajama.io.gpt2_count`), or UTF-8 bytes as a documented proxy."""


def default_counter() -> str:
    """"gpt2" when the offline GPT-2 tokenizer is importable, else "bytes"."""
    try:
        import slimpajama.io.tokenizer  # noqa: F401
    except ImportError:
        return "bytes"
    return "gpt2"


def utf8_length(text: str) -> int:
    """UTF-8 bytes of `text`."""
    return len(text.encode("utf-8"))


def batch_token_counter(kind: str) -> Callable[[Sequence[str]], list[int]]:
    """Function texts -> their token counts in the units of `kind` (see COUNTERS); one counter
    per kind and process, so GPT-2's piece cache stays warm across files."""
    if kind == "bytes":
        return lambda texts: [utf8_length(text) for text in texts]
    if kind == "gpt2":
        from slimpajama.io.gpt2_count import shared_counter

        counter = shared_counter()
        return lambda texts: counter.count_tokens(texts).tolist()
    raise ValueError(f"unknown token counter {kind!r}; expected one of {COUNTERS}")
