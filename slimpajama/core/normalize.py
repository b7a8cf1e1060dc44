"""Text normalization: exactly `ftfy.fix_text(text, normalization="NFC")`, but faster.

The published text is the normalized text. ftfy (≈ 2–4 MB/s per core) is the slowest step of the
pipeline, yet on most text none of its fixers changes anything. `normalize_text` runs ftfy's own
segment loop (a segment is a line, at most `max_decode_length` characters) and skips ftfy for a
segment that provably comes back unchanged:

- it contains no character any fixer acts on (`FIXER_TRIGGERS`: '&' for HTML entities, line
  breaks, C0/C1 controls, ESC, surrogates, ligatures, full-width forms, curly quotes);
- it cannot be mojibake: every alternative of ftfy's badness regex needs two adjacent characters
  from the regex's own character set, or one of `MOJIBAKE_SINGLES`; without a badness match,
  `fix_encoding` returns its input;
- it is already NFC (`unicodedata.is_normalized`).

Pure-ASCII text without a trigger skips even the segment loop. The equivalence is proven by tests
against ftfy on a varied corpus; it is tied to the ftfy 6.3 segment loop, so any other ftfy
version simply calls `ftfy.fix_text`.
"""

from __future__ import annotations

import re
import unicodedata

import ftfy
from ftfy.badness import BADNESS_RE, MOJIBAKE_CATEGORIES
from ftfy.chardata import CONTROL_CHARS, DOUBLE_QUOTE_RE, LIGATURES, SINGLE_QUOTE_RE, WIDTH_MAP

FTFY_CONFIG = ftfy.TextFixerConfig(explain=False, normalization="NFC")
_MIRRORS_FTFY = ftfy.__version__.startswith("6.3.")

_C1 = "".join(map(chr, range(0x80, 0xA0)))
FIXER_TRIGGERS: frozenset[str] = frozenset(
    "&\r\u2028\u2029\x1b"
    + _C1
    + "".join(chr(c) for c in (*CONTROL_CHARS, *LIGATURES, *WIDTH_MAP))
    + "\u02bc\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u201f"
)
"""Characters at least one ftfy fixer may change, remove or interpret."""

MOJIBAKE_SINGLES = "ÃÂŒœ" + _C1
"""Badness-regex alternatives that match with a single non-ASCII character."""
_CATEGORY_RE = re.compile("[" + "".join(MOJIBAKE_CATEGORIES.values()) + "]")
MOJIBAKE_CHARS: frozenset[str] = frozenset(
    {chr(c) for c in range(0x80, 0x10000) if _CATEGORY_RE.match(chr(c))}
    | {c for c in BADNESS_RE.pattern if ord(c) > 127}
    | {chr(int(h, 16)) for h in re.findall(r"\\x([0-9a-fA-F]{2})", BADNESS_RE.pattern)}
)
"""Every non-ASCII character of ftfy's badness regex, its category ranges expanded."""

FTFY_ASCII_TRIGGERS: frozenset[str] = frozenset(c for c in FIXER_TRIGGERS if ord(c) < 128)


def _char_class(chars: frozenset[str] | str) -> str:
    return "[" + "".join(re.escape(c) for c in sorted(set(chars))) + "]"


_ASCII_TRIGGER_RE = re.compile(_char_class(FTFY_ASCII_TRIGGERS))
_SURROGATES = "[\ud800-\udfff]"
_NEEDS_FTFY_RE = re.compile(
    "|".join((
        _char_class(FIXER_TRIGGERS), _SURROGATES, _char_class(MOJIBAKE_SINGLES),
        _char_class(MOJIBAKE_CHARS) * 2,
    ))
)
assert SINGLE_QUOTE_RE.pattern == "[\u02bc\u2018-\u201b]" and DOUBLE_QUOTE_RE.pattern == "[\u201c-\u201f]"


def needs_ftfy(text: str) -> bool:
    """False when ftfy.fix_text(text, normalization="NFC") is provably `text` itself (ASCII check)."""
    return not text.isascii() or _ASCII_TRIGGER_RE.search(text) is not None


def segment_is_fixed_point(segment: str) -> bool:
    """True when ftfy's fix_and_explain provably returns `segment` unchanged."""
    if segment.isascii():  # ASCII is NFC and holds no mojibake character: only triggers matter
        return _ASCII_TRIGGER_RE.search(segment) is None
    return _NEEDS_FTFY_RE.search(segment) is None and unicodedata.is_normalized("NFC", segment)


def normalize_text(text: str) -> str:
    """`ftfy.fix_text(text, normalization="NFC")` (ftfy's default config), the reference's first step."""
    if not needs_ftfy(text):
        return text
    if not _MIRRORS_FTFY:
        return ftfy.fix_text(text, normalization="NFC")
    config = FTFY_CONFIG
    out = []
    pos = 0
    while pos < len(text):  # ftfy.fix_text's own segment loop
        textbreak = text.find("\n", pos) + 1
        if textbreak == 0:
            textbreak = len(text)
        if (textbreak - pos) > config.max_decode_length:
            textbreak = pos + config.max_decode_length
        segment = text[pos:textbreak]
        if config.unescape_html == "auto" and "<" in segment:
            config = config._replace(unescape_html=False)  # ftfy keeps this for later segments
        if segment_is_fixed_point(segment):
            out.append(segment)
        else:
            out.append(ftfy.fix_and_explain(segment, config).text)
        pos = textbreak
    return "".join(out)
