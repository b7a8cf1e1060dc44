"""Text normalization: exactly `ftfy.fix_text(text, normalization="NFC")`, but faster.

The published text is the normalized text. ftfy (≈ 2–5 MB/s per core on real text) is the
slowest step of the pipeline, yet most of what it does on real text is `uncurl_quotes` and NFC.
ftfy fixes each segment (a line, at most `max_decode_length` characters) with this loop until the
segment stops changing: unescape HTML entities → fix_encoding (mojibake, guarded by the badness
regex) → c1 controls → ligatures → width → uncurl quotes → line breaks → surrogates → terminal
escapes → control characters → NFC.

`normalize_text` runs the same loop on a whole run of segments at once (a document, or pieces
of at most `max_decode_length` characters cut after a line break). When it cannot prove the
result, it cuts the run around the segment that stopped the proof (or in halves), down to single
segments, which go to `ftfy.fix_and_explain`. The proof stops at:

- an HTML entity (`HTML_ENTITY_RE`, tried at each '&') while ftfy's 'auto' HTML mode is on (it
  is on until a segment holds '<'; runs are cut at that segment so each run has one mode);
- possible mojibake: `fix_encoding` returns its input unchanged when `is_bad` is false, so a run
  is fixed in place only when no segment of it is bad. Each alternative of the badness regex has
  an anchor read off its parsed form (one of its non-ASCII characters, with conditions on its
  neighbours, chosen to be rare in clean text): every match contains one. In text that is mostly
  ASCII, the run's set of special characters (its UTF-8 bytes with plain ASCII deleted) tells
  which anchors (`MOJIBAKE_ANCHORS`) can occur, and those are found with `str.find`; in text
  dense with non-ASCII letters one regex finds all anchors (`DENSE_TEXT_ANCHORS`). The badness
  regex is then run on a 7-character window around each anchor found, which holds every match
  containing it. A match in a segment is a match in the run, except `^[ÃÂ] ` at a later
  segment's start, checked separately.

Otherwise the run-wide step applies ftfy's own fixer functions in ftfy's order (quotes by
`str.replace`, equal to ftfy's regexes), skipping a fixer when none of the characters it acts on
is present, then NFC, and repeats until the run stops changing, re-checking entities and mojibake
each round (a round that only uncurled quotes is provably the last).

Why run-wide equals segment by segment: every check above finds a problem in the run when one
exists in a segment; every fixer is character-local or matches patterns that cannot cross a
segment end (segments end with '\\n', and no fixer pattern or NFC composition spans a '\\n');
and a segment that has reached its fixed point stays there in later rounds.

The proof reads ftfy's internals, so it is tied to the versions in `PROVEN_FTFY_VERSIONS`
(6.3.1, checked by tests/test_normalize.py against ftfy itself, including ftfy's own test cases);
with any other installed ftfy `normalize_text` simply calls `ftfy.fix_text`.

Speed (`python -m slimpajama.bench normalize`, realistic corpus, RedPajama byte-share mix): about
60× ftfy; a document that is mojibake on every line costs about 1.1× ftfy (ftfy does the work).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence

import ftfy
from ftfy.badness import BADNESS_RE, MOJIBAKE_CATEGORIES
from ftfy.chardata import (
    CONTROL_CHARS,
    DOUBLE_QUOTE_RE,
    HTML_ENTITY_RE,
    LIGATURES,
    SINGLE_QUOTE_RE,
    WIDTH_MAP,
)

try:  # the regex parser `re` compiles with (Python >= 3.11; sre_parse before)
    import re._constants as _sre
    import re._parser as _parser
except ImportError:  # pragma: no cover
    import sre_constants as _sre  # type: ignore[no-redef]
    import sre_parse as _parser  # type: ignore[no-redef]

PROVEN_FTFY_VERSIONS: frozenset[str] = frozenset({"6.3.1"})
"""ftfy versions whose segment loop, fixers and badness regex the fast path was proven against."""
FTFY_CONFIG = ftfy.TextFixerConfig(explain=False, normalization="NFC")
MAX_SEGMENT = FTFY_CONFIG.max_decode_length
"""ftfy cuts a line longer than this many characters into segments of this length."""

_C1 = "".join(map(chr, range(0x80, 0xA0)))
_SURROGATES = "".join(map(chr, range(0xD800, 0xE000)))
_FIXER_CHARS: tuple[tuple[str, str], ...] = (
    ("fix_c1_controls", _C1),
    ("fix_latin_ligatures", "".join(map(chr, LIGATURES))),
    ("fix_character_width", "".join(map(chr, WIDTH_MAP))),
    ("uncurl_quotes", "\u02bc\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u201f"),
    ("fix_line_breaks", "\r\u2028\u2029\x85"),
    ("fix_surrogates", _SURROGATES),
    ("remove_terminal_escapes", "\x1b"),
    ("remove_control_chars", "".join(map(chr, CONTROL_CHARS))),
)
"""ftfy's fixers after fix_encoding, in ftfy's order, with every character each one acts on
(a fixer leaves a text without any of them unchanged)."""
FIXER_TRIGGERS: frozenset[str] = frozenset("".join(chars for _, chars in _FIXER_CHARS))
"""Characters at least one of the fixers after fix_encoding may change or remove."""
FTFY_ASCII_TRIGGERS: frozenset[str] = frozenset({"&"} | {c for c in FIXER_TRIGGERS if c.isascii()})
"""The only ASCII characters ftfy may act on ('&' through HTML entities)."""


def _nonascii_chars(item: tuple) -> frozenset[str] | None:
    """The characters a one-character regex item matches, if they are finitely many and all
    non-ASCII; else None (the item may match ASCII, anything, or several characters)."""
    op, av = item
    if op is _sre.LITERAL:
        members = [(op, av)]
    elif op is _sre.IN:
        members = av
    else:
        return None
    chars: set[str] = set()
    for kind, value in members:
        if kind is _sre.LITERAL:
            chars.add(chr(value))
        elif kind is _sre.RANGE:
            chars.update(map(chr, range(value[0], value[1] + 1)))
        else:  # NEGATE, CATEGORY: not a finite set
            return None
    return frozenset(chars) if all(ord(c) > 127 for c in chars) else None


_FREQUENT = frozenset(MOJIBAKE_CATEGORIES["common"] + "‘“”")
_USUAL = frozenset("éáíóúñüöäàèçß°·•©®™€£×«»²½")


def _presence(chars: frozenset[str]) -> float:
    """A rough chance that a clean document holds some character of `chars`."""
    absent = 1.0
    for c in chars:
        category = unicodedata.category(c)
        absent *= 1 - (
            0.3 if c in _FREQUENT
            else 0.01 if c in _USUAL or (category == "Ll" and ord(c) >= 0x370)
            else 0.005 if category == "Ll"
            else 0.002 if category.startswith("L")
            else 0.001
        )
    return 1 - absent


def _density(chars: frozenset[str]) -> float:
    """A rough weight of how many characters of a clean text with many non-ASCII letters are in
    `chars`: lowercase letters and everyday punctuation count 100, capitals and quotes 30."""
    return sum(
        100 if unicodedata.category(c) == "Ll" or c in _FREQUENT
        else 30 if unicodedata.category(c).startswith("L") or c in "‘“”"
        else 1
        for c in chars
    )


Anchor = tuple[frozenset[str], frozenset[str], frozenset[str]]


def _mojibake_anchors(
    single_cost: Callable[[frozenset[str]], float], pair_cost: Callable[[float, float], float]
) -> tuple[Anchor, ...]:
    """Anchors (before, scanned, after), one per alternative of ftfy's badness regex: every match
    of it contains a character c of `scanned` with its left neighbour in `before` and its right
    neighbour in `after` (an empty set meaning no condition).

    Read off the parsed regex: each alternative's one-character items that match only non-ASCII
    characters give candidates, one item alone or two adjacent items (the one of lower
    `single_cost` scanned for, the other checked as its neighbour); the cheapest is kept. The
    costs only steer speed: every choice is an anchor.
    """
    (op, (_, alternatives)), = _parser.parse(BADNESS_RE.pattern, BADNESS_RE.flags)
    assert op is _sre.BRANCH
    none: frozenset[str] = frozenset()
    anchors = []
    for alternative in alternatives:
        sets = [_nonascii_chars(item) for item in alternative]
        candidates = [(single_cost(s), (none, s, none)) for s in sets if s]
        for a, b in zip(sets, sets[1:], strict=False):
            if a and b:
                pair = (none, a, b) if single_cost(a) <= single_cost(b) else (a, b, none)
                candidates.append((pair_cost(single_cost(a), single_cost(b)), pair))
        anchors.append(min(candidates, key=lambda c: c[0])[1])  # ValueError: ASCII-only alternative
    return tuple(anchors)


MOJIBAKE_ANCHORS = _mojibake_anchors(_presence, lambda a, b: a * b)
"""Anchors rarely all present in a document: looked for only when their characters are."""
DENSE_TEXT_ANCHORS = _mojibake_anchors(_density, lambda a, b: 0.3 * min(a, b))
"""Anchors whose scanned characters are rare even in text full of non-ASCII letters: all are
looked for at once in such text."""


def _char_class(chars: frozenset[str] | str) -> str:
    return "[" + "".join(re.escape(c) for c in sorted(set(chars))) + "]"


_QUIET_ASCII = bytes(c for c in range(128) if chr(c) not in FTFY_ASCII_TRIGGERS)
"""ASCII bytes ftfy never acts on."""
_FIXERS = tuple((name, ftfy.FIXERS[name], frozenset(chars)) for name, chars in _FIXER_CHARS)
_UNCURLED = {quote: "'" for quote in "\u02bc\u2018\u2019\u201a\u201b"} | {
    quote: '"' for quote in "\u201c\u201d\u201e\u201f"
}
"""What ftfy's `uncurl_quotes` replaces each quote with (its two regexes are asserted below)."""
assert SINGLE_QUOTE_RE.pattern == "[\u02bc\u2018-\u201b]" and DOUBLE_QUOTE_RE.pattern == "[\u201c-\u201f]"
assert set(_UNCURLED) == set(dict(_FIXER_CHARS)["uncurl_quotes"])


def _anchor_regex(anchors: Sequence[Anchor]) -> re.Pattern[str]:
    """A regex matching one character at every occurrence of any of `anchors` (zero-width
    lookarounds check its neighbours), starting with one character class so `re` scans in C."""
    scanned = frozenset().union(*(chars for _, chars, _ in anchors))
    branches = []
    for before, chars, after in anchors:
        behind = _char_class(before) + _char_class(chars) if before else _char_class(chars)
        branches.append(f"(?<={behind})" + (f"(?={_char_class(after)})" if after else ""))
    return re.compile(_char_class(scanned) + "(?:" + "|".join(dict.fromkeys(branches)) + ")")


_ALL_ANCHORS_RE = _anchor_regex(DENSE_TEXT_ANCHORS)
_ANCHORS_BY_CHAR: dict[str, tuple[int, ...]] = {}
for _i, (_, _scanned, _) in enumerate(MOJIBAKE_ANCHORS):
    for _char in _scanned:
        _ANCHORS_BY_CHAR[_char] = (*_ANCHORS_BY_CHAR.get(_char, ()), _i)
_FIXER_TRIGGER_RE = re.compile(_char_class(FIXER_TRIGGERS))
_DENSE = 16
_PLAIN_ASCII = bytes(range(0x20, 0x7F)) + b"\t\n"
"""ASCII bytes no fixer acts on (HTML entities are checked apart)."""
assert FIXER_TRIGGERS.isdisjoint(_PLAIN_ASCII.decode("ascii"))
_WINDOW = _parser.parse(BADNESS_RE.pattern, BADNESS_RE.flags).getwidth()[1]
"""The longest badness match, in characters: one starting `_WINDOW` characters before an anchor
character, or ending that far after it, cannot contain it."""


def ftfy_is_proven(version: str) -> bool:
    """True when the fast path was proven exact for this ftfy version."""
    return version in PROVEN_FTFY_VERSIONS


_FAST_PATH = ftfy_is_proven(ftfy.__version__)


def needs_ftfy(text: str) -> bool:
    """False when ftfy.fix_text(text, normalization="NFC") is provably `text` itself (ASCII check)."""
    return not text.isascii() or bool(text.encode("ascii").translate(None, _QUIET_ASCII))


def _special_chars(text: str) -> set[str] | None:
    """The non-ASCII characters and ASCII controls (but tab and newline) of `text`, from its UTF-8
    bytes with the plain ASCII ones deleted; None when more than about one character in
    `_DENSE` is non-ASCII (then scanning with regexes is faster)."""
    encoded = text.encode("utf-8", "surrogatepass")
    if len(encoded) - len(text) > len(text) // _DENSE:
        return None
    special = encoded.translate(None, _PLAIN_ASCII)
    return set(special.decode("utf-8", "surrogatepass")) if special else set()


def _bad_position(text: str, chars: set[str] | None) -> int:
    """-1 when no ftfy segment of `text` (cut after line breaks) matches the badness regex, else
    the position of a character a match may contain; `chars` is `_special_chars(text)`.

    With `chars`, only anchors of `MOJIBAKE_ANCHORS` whose three character sets all meet it can
    occur; their scanned characters are found with `str.find` (a regex scans ~20 times slower)
    and their neighbours checked. Without, every anchor of `DENSE_TEXT_ANCHORS` is found by one
    regex. Each occurrence is checked with the badness regex on a window around it, which holds
    every match containing it (`^` only matches at the real start of `text` there).
    """
    if chars is None:
        return next((m.start() for m in _ALL_ANCHORS_RE.finditer(text) if _bad_around(text, m.start())), -1)
    candidates = {i for c in chars if c in _ANCHORS_BY_CHAR for i in _ANCHORS_BY_CHAR[c]}
    for i in candidates:
        before, scanned, after = MOJIBAKE_ANCHORS[i]
        if (before and before.isdisjoint(chars)) or (after and after.isdisjoint(chars)):
            continue
        for char in scanned.intersection(chars):
            pos = text.find(char)
            while pos >= 0:
                if (
                    (not before or (pos > 0 and text[pos - 1] in before))
                    and (not after or text[pos + 1 : pos + 2] in after)
                    and _bad_around(text, pos)
                ):
                    return pos
                pos = text.find(char, pos + 1)
    return -1


def _bad_around(text: str, pos: int) -> bool:
    """True when a badness match (in some ftfy segment) may contain `text[pos]`."""
    if BADNESS_RE.search(text, max(0, pos - _WINDOW), pos + 1 + _WINDOW) is not None:
        return True
    return pos > 0 and text[pos - 1] == "\n" and text[pos] in "ÃÂ"  # `^[ÃÂ][ ]`, later segment


def _entity_position(text: str) -> int:
    """Where ftfy's HTML entity regex first matches in `text` (tried at each '&' only), or -1."""
    pos = text.find("&")
    while pos >= 0 and HTML_ENTITY_RE.match(text, pos) is None:
        pos = text.find("&", pos + 1)
    return pos


def _fixer_chars(text: str, chars: set[str] | None) -> set[str]:
    """The characters of `text` some fixer acts on; `chars` is `_special_chars(text)`."""
    return set(_FIXER_TRIGGER_RE.findall(text)) if chars is None else chars & FIXER_TRIGGERS


def _apply_fixers(text: str, present: set[str]) -> tuple[str, bool]:
    """ftfy's fixers after fix_encoding, in order, each skipped when it provably changes nothing
    (`present`: the fixer characters in `text`); and whether only `uncurl_quotes` changed the text
    and no fixer character is left.

    Quotes are replaced with `str.replace` (equal to ftfy's two regex substitutions: each
    character maps to one fixed string); the other fixers are ftfy's functions.
    """
    only_quotes = True
    for name, fixer, chars in _FIXERS:
        hit = present & chars
        if not hit:
            continue
        if name == "uncurl_quotes":
            for quote in hit:
                text = text.replace(quote, _UNCURLED[quote])
            present = present - hit  # the ASCII quotes put in are no fixer's characters
            continue
        fixed = fixer(text)
        if fixed != text:
            text = fixed
            only_quotes = False
            present = _fixer_chars(text, _special_chars(text))
    return text, only_quotes and not present


def fix_block(block: str, unescape_html: bool = True) -> str | None:
    """ftfy's result on `block`, a run of whole ftfy segments, or None when it cannot be proven
    without ftfy (an HTML entity that ftfy would unescape, or possible mojibake, in some round).

    `unescape_html` is False when ftfy's 'auto' HTML mode is off for every segment of the block
    (a segment holding '<', or any after one, in the original text).
    """
    fixed = _fix_or_locate(block, unescape_html)
    return fixed if isinstance(fixed, str) else None


def _fix_or_locate(block: str, unescape_html: bool) -> str | int:
    """`fix_block`, but instead of None the position in `block` of a character that stopped the
    proof in the first round, or -1 when it was stopped in a later round.

    A round that only uncurled quotes and left an NFC text without fixer characters is the last:
    the next round would find no entity (quotes are not entity characters) and no mojibake (an
    ASCII quote matches no badness-regex item that the curly one did not) and change nothing.
    """
    first_round = True
    while True:
        if unescape_html and (entity := _entity_position(block)) >= 0:
            return entity if first_round else -1
        chars = _special_chars(block)
        if (bad := _bad_position(block, chars)) >= 0:
            return bad if first_round else -1
        fixed, only_quotes = _apply_fixers(block, _fixer_chars(block, chars))
        if not fixed.isascii() and not unicodedata.is_normalized("NFC", fixed):
            fixed = unicodedata.normalize("NFC", fixed)
            only_quotes = False
        if fixed == block or only_quotes:
            return fixed
        block = fixed
        first_round = False


def _halves(run: str) -> list[str]:
    """`run` cut in two at a segment end near its middle, or `[run]` for a single segment."""
    middle = run.rfind("\n", 0, len(run) // 2) + 1 or run.find("\n", len(run) // 2, len(run) - 1) + 1
    return [run[:middle], run[middle:]] if middle else [run]


def _fix_run(run: str, unescape_html: bool) -> str:
    """ftfy's result on `run`, whole ftfy segments that share one HTML mode: run-wide when
    provable; else the run is cut around the segment that stopped the proof (or in halves), and
    each piece fixed the same way, down to single segments, which go to ftfy."""
    fixed = _fix_or_locate(run, unescape_html)
    if isinstance(fixed, str):
        return fixed
    pieces = _halves(run)
    if len(pieces) == 1:
        config = FTFY_CONFIG if unescape_html else FTFY_CONFIG._replace(unescape_html=False)
        return ftfy.fix_and_explain(run, config).text
    if fixed >= 0:  # the segment holding `fixed`; what follows it in halves (bounded depth)
        start = run.rfind("\n", 0, fixed) + 1
        end = run.find("\n", fixed) + 1 or len(run)
        pieces = [run[:start], run[start:end], *_halves(run[end:])]
    return "".join(_fix_run(piece, unescape_html) for piece in pieces if piece)


def _blocks(text: str) -> list[str]:
    """`text` cut into runs of whole ftfy segments, each at most MAX_SEGMENT characters."""
    blocks = []
    pos = 0
    while pos < len(text):
        end = pos + MAX_SEGMENT
        if end >= len(text):
            end = len(text)
        else:
            cut = text.rfind("\n", pos, end) + 1
            if cut > pos:  # otherwise the line is longer than a segment: ftfy cuts it at `end`
                end = cut
        blocks.append(text[pos:end])
        pos = end
    return blocks


def normalize_text(text: str) -> str:
    """`ftfy.fix_text(text, normalization="NFC")` (ftfy's default config), the reference's first step."""
    if not needs_ftfy(text):
        return text
    if not _FAST_PATH:
        return ftfy.fix_text(text, normalization="NFC")
    out = []
    unescape_html = True  # ftfy's 'auto' HTML mode: on until a segment holds '<', then off
    for block in _blocks(text) if len(text) > MAX_SEGMENT else (text,):
        if unescape_html and (first_tag := block.find("<")) >= 0:
            cut = block.rfind("\n", 0, first_tag) + 1  # start of the segment holding the '<'
            if cut:
                out.append(_fix_run(block[:cut], unescape_html=True))
            out.append(_fix_run(block[cut:], unescape_html=False))
            unescape_html = False
        else:
            out.append(_fix_run(block, unescape_html))
    return "".join(out)
