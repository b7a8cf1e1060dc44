"""Key text: the normalized string whose shingles are hashed for MinHash (SlimPajama's definition).

`key_text(s)` = `s.lower()`, then delete the 32 ASCII `string.punctuation` characters (Unicode
punctuation stays), then `re.sub(r"\\s+", " ", s.strip())`: no leading/trailing whitespace and every
whitespace run collapsed to ONE space. Unicode normalization (ftfy) is a separate, earlier step.

Implemented faster but identically: `str.translate` deletes punctuation from ASCII strings (where
CPython has a fast path); other strings are deleted from as UTF-8 bytes with `bytes.translate`,
which is exact because ASCII bytes never occur inside a multi-byte UTF-8 sequence (lone surrogates
round-trip through "surrogatepass"); `" ".join(s.split())` collapses
whitespace, because `str.split()`, `str.strip()` and the regex `\\s` all use the same whitespace
predicate (`str.isspace`, checked over every code point in the tests).
"""

from __future__ import annotations

import string

_DELETE_PUNCTUATION = str.maketrans("", "", string.punctuation)
_PUNCTUATION_BYTES = string.punctuation.encode("ascii")


def key_text(text: str) -> str:
    """Return the reference key text of `text` (lowercased, ASCII punctuation deleted, spaces collapsed)."""
    lowered = text.lower()
    if lowered.isascii():
        lowered = lowered.translate(_DELETE_PUNCTUATION)
    else:
        lowered = (
            lowered.encode("utf-8", "surrogatepass")
            .translate(None, _PUNCTUATION_BYTES)
            .decode("utf-8", "surrogatepass")
        )
    return " ".join(lowered.split())
