"""Key text: the normalized string whose shingles are hashed for MinHash (SlimPajama's definition).

`key_text(s)` = `s.lower()`, then delete the 32 ASCII `string.punctuation` characters (Unicode
punctuation stays), then `re.sub(r"\\s+", " ", s.strip())`: no leading/trailing whitespace and every
whitespace run collapsed to ONE space. Unicode normalization (ftfy) is a separate, earlier step.
"""

from __future__ import annotations

import re
import string

_DELETE_PUNCTUATION = str.maketrans("", "", string.punctuation)
_WHITESPACE_RUN = re.compile(r"\s+")


def key_text(text: str) -> str:
    """Return the reference key text of `text` (lowercased, ASCII punctuation deleted, spaces collapsed)."""
    lowered = text.lower().translate(_DELETE_PUNCTUATION)
    return _WHITESPACE_RUN.sub(" ", lowered.strip())
