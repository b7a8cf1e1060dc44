"""Token counters for mixing: GPT-2 BPE tokens, or UTF-8 bytes as a documented proxy."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

COUNTERS = ("gpt2", "bytes")
"""Token counters: GPT-2 BPE tokens (`slimpajama.io.tokenizer`), or UTF-8 bytes as a documented proxy."""


def default_counter() -> str:
    """"gpt2" when the offline GPT-2 tokenizer is importable, else "bytes"."""
    try:
        import slimpajama.io.tokenizer  # noqa: F401
    except ImportError:
        return "bytes"
    return "gpt2"


def batch_token_counter(kind: str) -> Callable[[Sequence[str]], list[int]]:
    """Function texts -> their token counts in the units of `kind` (see COUNTERS); one counter
    per kind and process, so GPT-2's piece cache stays warm across files."""
    if kind == "bytes":
        return lambda texts: [len(text.encode("utf-8")) for text in texts]
    if kind == "gpt2":
        return gpt2_batch_counter()
    raise ValueError(f"unknown token counter {kind!r}; expected one of {COUNTERS}")


def token_counter(kind: str) -> Callable[[str], int]:
    """Function text -> token count in the units of `kind` (see COUNTERS)."""
    count = batch_token_counter(kind)
    return lambda text: count([text])[0]


@lru_cache(maxsize=1)
def gpt2_batch_counter() -> Callable[[Sequence[str]], list[int]]:
    """This process's GPT-2 counter: len(encode_ordinary(text)) of each text."""
    from slimpajama.io.tokenizer import gpt2_encoding

    counter = GPT2Counter(gpt2_encoding())
    return lambda texts: [counter(text) for text in texts]


class GPT2Counter:
    """len(encode_ordinary(text)) without building the list of ids: `encode_to_numpy` with no
    special token allowed or disallowed encodes exactly like `encode_ordinary`; a text with lone
    surrogates (which only `encode_ordinary` repairs) takes the slow path."""

    def __init__(self, encoding: Any) -> None:
        self.encoding = encoding

    def __call__(self, text: str) -> int:
        try:
            return len(self.encoding.encode_to_numpy(text, allowed_special=set(),
                                                     disallowed_special=()))
        except UnicodeEncodeError:
            return len(self.encoding.encode_ordinary(text))
