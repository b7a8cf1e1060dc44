"""Exact GPT-2 token counts and ids, several times faster than tiktoken: `GPT2TokenCounter`,
`GPT2TokenEncoder`.

count(text) == len(gpt2_encoding().encode_ordinary(text)) for every str. GPT-2 BPE splits a text
into pieces with `GPT2_PAT_STR` and byte-pair-encodes each piece's UTF-8 bytes on its own, so the
count is the sum of the pieces' counts. Here the split is done with numpy array operations that
reproduce the regex's leftmost-first semantics over a code-point class table (letter / number /
whitespace / other, exactly as tiktoken's Rust regex classes them), and each piece's count comes
from hash tables keyed by the piece's exact bytes (up to 30 bytes, full-key compare);
misses and longer pieces are counted by tiktoken's own BPE (`encode_single_piece`). A count never
depends on what the cache holds. A batch of texts is split in one pass, with forced piece breaks
at text boundaries, which amortizes numpy's per-call overhead over short documents.
`GPT2TokenEncoder` caches each piece's ids as well and gathers a batch's ids with array operations:
encode_batch(texts) gives encode_ordinary(text) of every text, back to back.
"""

from __future__ import annotations

import array
import base64
import importlib.metadata
import itertools
import os
import warnings
import zlib
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

LETTER, NUMBER, OTHER, SPACE = 0, 1, 2, 3
"""Code-point classes of `GPT2_PAT_STR`: \\p{L}, \\p{N}, [^\\s\\p{L}\\p{N}], \\s (Unicode White_Space)."""

PIECE_PATTERN = (
    r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s"""
)
"""The pre-tokenizer regex `piece_starts` reproduces (= tokenizer.GPT2_PAT_STR); a counter refuses
an encoding with another one."""

SHORT_KEY_WORDS, MEDIUM_KEY_WORDS = 2, 4
"""A piece of at most 8 * words - 2 UTF-8 bytes (14, 30) is cached under an exact key of that many
uint64 words (its zero-padded bytes, its length in the top byte); longer pieces go to a dict."""

CHUNK_CHARS = 1 << 18
"""Texts are counted in groups of about this many code points (a longer text alone)."""

SMALL_TEXT_CHARS = 2048
LONG_CACHE_BYTES = 32 << 20
"""The long pieces' dict holds at most this many bytes of pieces and ids (it is emptied when full)."""
MAX_CACHED_PIECE_BYTES = 1024
"""A longer piece is byte-pair-encoded every time it occurs: such pieces are rare, cost far more
to encode than to look up, and a run of millions of letters must not sit in a cache."""
"""Below this length a single text is cheaper to count with tiktoken than with array operations."""

CLASS_TABLE_TIKTOKEN = "0.14.0"
"""tiktoken version whose regex `_CLASS_RUNS` was observed from."""

_CLASS_RUNS = (
    "eNqlWM1vG0UU99sPe722Y9d24iTNh9umad2kbVraQguCFEoi1AKVgEhFAoEQIGhVkKi4cIILB+DCESQOCPXMtbcKQZE4"
    "ceoBIYRAFf8AB47MZH9T//wy68SprOfZ2Zl5895v3tdsuVAoxIaahsRQ3VBqqGRo2lARbYrxabRltHZegGdLIT1zv4N2"
    "Hu0v5i8ybdXQGGQoqbUf471gD0sRjReH7NtG+wLazwwlhm6iv0hyWz49Q+uG9mIPS0cNLRkah/4RrXmD9qrjvcMihTxu"
    "boPmzhmaNXTFUAXvxrBmH3BlPa3+E9Qve3Cdwt4VzJ8kvfYYOmLonKEztK5J5+d0S0neCHgFRBO0hnGPiK/TtUb6h8Tf"
    "8SrSeIJ+NGSvwNPOK3so0R4hZNF45fGNPdjU6SxS4lXZATY+vnM5mLA9V1Q/pPWRsiuhvUJqHVVJrnGcSROy+3yzQe+m"
    "1V6BwiJRdhAN4Zt6sJhXvBmLAHarz67n8SnmWSJcW4Shi28h+UZZ4VeCTCn2XqGxKsbLGD/kOQMXpybVe9apTM8xzSmT"
    "3VrZu4RRG/s7bBcQo+z6DxCf2rRXkXyJ/TIkPR1GNfAWtX7Ro1eAvezzs9I/88ATt937nurvK+xsXR39s+r9U4iVbfJv"
    "SxsUU+z7a0HfhpwtWz0ukm84+20ChxZ4N9HWCDcrzylDB0geN+YwS+Frrn8F/GPItl9huoa587CnlOJDjDiwjL2mKTYc"
    "hF9ZmzmNM2EZnNyvGDoODBKStYd9apSrlrGHta0Zyl9uzQLmuvyyRLGmR3gUVTxyut42tGrxkcHYv6hyQaLsQZOLGadz"
    "8pAvDgTkD7WceFFBTma/PO7J3QHFE/YXy/dNZRuBiu0h1hWH6BdRfnGxIAZxnnuIZL1rHh4z7XOwvw+D7HyvmQX3SPfQ"
    "E4Py/PwRwrZB9lZSuI/SXsbzryp2COqXsvKXkDDYIN+2818mvGKKS6+qvNpFHG/g2flYQvm9SzHd9lfNwO2pzF6/2Mhi"
    "zjHIUpN+3HHxug1baZB9rhFPV8+9TTEs8OSPBDm6oXJeRLm0Rn5+CnHqJPnspMKJ65CU5rmacRaYH8cY2zTbeEr9HtaH"
    "JHdE6zoq55xUPhCQ7WoMJmlOhfyzSjGCW59NLlFNXUSOrJF83y1l/DqQ+4RtTWK6jtj0LvyihH1jlatTqm9Fjfnq1GvI"
    "e1clyy2rGLO1+GHscYP4fIpc5LuDVZBXwhw8nN8coLzu7mstJZerbceQmz7CmqNozyJ32Dn/wlZC4NWge1IXbZnqkISw"
    "WVS5bUHVijHuJ99QzCzSPNcexppTkK9Cevjq7mHjIfF5WDLZJ6iunaQ4fYRqtKfVvUWQO3XOC2BfLqd1VI2ZgN+KOpeY"
    "7ntFyv1riMl8P2qgPUZ6Rip2zNK9pUM5Tug8u3QWM+T7Ddioq2ucLi2MJ6iVOhTfn7F4Ij/V0JboPKuqVpkh2X6jbwNH"
    "CGd3J3mU9HE2NoFzjmCPTeAxjn3b4F1FzTANOxQVg2uw+y7dpR1uC/RNJFI2lsDXHN5VnOkY5lZUDeDieRtjTcp/LfB9"
    "IqcuZltOKW7vQX+3d9ImyR4Dn9QTz0TVC1NKxmVg3KS8nNJec8CmrXgmmHcT+vTI71copjgsFxHja+rOX8TcGdjCOHSK"
    "MOcWZLyBGNyiexXH7ETpPUm4i/pes0brD6laUVROPUznME46HaMY0IQP/YycUSfdXN12kO41dfiEO7f3PWe9SPuV1R2R"
    "53WhF2N6RjLZWH+H+36qJzZInnGcz1fm0N8y7XuQ90dDl8zk1zFvJcreF2FLX9czPdaNQLemM32a4H/HTDob9OMn1ynP"
    "q75bt0Lfsapk03wGMbD/XjL/d/edO7ARGzvewb3R5ecngcGqsmOLxX+dzB7uRpkdW17/7O/7rz6bA9LHdlZ9bxmjPPm5"
    "/VZqDu8q5KhhbpnOaqMB2eP+N4M26o8p1BUvgfe6JwYGnm+sVWXPTv7z6l6eqPEZFbdiVQO6eS+i5ppSMWX+AfvOJ23t"
    "aTebJ5uPzYTHTfslYn6qvts6mc9L35aWqca9K5l+9/vqu559d0/6Okaeusu2P9F9zNrqhcLgms06Pczynr4PXILsjt8P"
    "tM9eT9wOPPVr5Ll/FoeM6e/sefy3I71O+0aUI4OTe4/KXzG9vxBkvvF3inhgmPx5M4tt5xqZfn9g308mMh87MZtheN28"
    "/NYcxpxp/zJML7Yy3q+ZdZd/rxWC0PwkMGs3nwqbz1LAq1F+tEIG3o+wMFALZYQFuW9lx/uKl4lsJ5fsQC5GZ4f6D5Uk"
    "zIFWtighWpABccWBVAh29wvxk6FYO1FkQEDZlndBnEH6IBWtruRA7DsJGTwQGfU4ZHe+EQw7swxBIfkl2I0vZkZ6X+NC"
    "v5VBx2BIZMC0Nx9lQPh+T9v0ViklT20ZETAJfPYro7qSz+TyNvFhLlv0HDDj0YxBciLN7gxK9CHIEFd5sG2Hhcn/AaY5"
    "gFw="
)
"""zlib + base64 of the class table as runs: uint32 run lengths, then one uint8 class per run.
Observed from tiktoken itself over every code point (`observed_code_point_classes`; the test
prints a new blob with `class_runs_blob` if they differ); tiktoken's regex follows a newer Unicode
than Python 3.11's unicodedata (thousands of letters and numbers differ) or the `regex` module."""

_APOSTROPHE, _SPACE_CHAR = ord("'"), ord(" ")
_MASKS = np.array([(1 << (8 * n)) - 1 for n in range(9)], dtype=np.uint64)
_HASH_MULTIPLIERS = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9,
                              0xD6E8FEB86659FD93], dtype=np.uint64)
_COUNT_SHIFT, _LENGTH_SHIFT = np.uint64(48), np.uint64(56)
_WITHOUT_COUNT = ~(np.uint64(0xFF) << _COUNT_SHIFT)


def class_runs_blob(classes: np.ndarray) -> str:
    """`_CLASS_RUNS` text for a uint8 class table over all 0x110000 code points."""
    starts = np.flatnonzero(np.r_[True, classes[1:] != classes[:-1]])
    lengths = np.diff(np.r_[starts, classes.size]).astype("<u4")
    return base64.b64encode(zlib.compress(lengths.tobytes() + classes[starts].tobytes(), 9)).decode()


def stored_code_point_classes() -> np.ndarray:
    """The class table stored in `_CLASS_RUNS` (uint8 per code point 0..0x10FFFF)."""
    return classes_of_blob("".join(_CLASS_RUNS))


def classes_of_blob(blob: str) -> np.ndarray:
    """The class table (uint8 per code point 0..0x10FFFF) of a `class_runs_blob` text; raises
    ValueError (or zlib.error) if it is not one."""
    raw = zlib.decompress(base64.b64decode(blob))
    runs = len(raw) // 5
    lengths = np.frombuffer(raw[: 4 * runs], dtype="<u4").astype(np.int64)
    classes = np.repeat(np.frombuffer(raw[4 * runs :], dtype=np.uint8), lengths)
    if classes.size != 0x110000:
        raise ValueError("corrupt code point class table")
    return classes


def encodable_code_points() -> np.ndarray:
    """uint32 code points a str can encode to UTF-8: all but the surrogates."""
    every = np.arange(0x110000, dtype=np.uint32)
    return every[(every < 0xD800) | (every >= 0xE000)]


def shares_piece(prefix: str, before: str, after: str) -> np.ndarray:
    """bool per `encodable_code_points()` c: are the one-byte `prefix` and c in one GPT2_PAT_STR
    piece of before + prefix + c + after, as tiktoken's own regex splits it?

    All those strings are encoded at once with an encoding of the same pattern whose only merges
    are prefix + any byte: a two-byte token starts at a prefix exactly when the prefix and the
    first byte of its c share a piece (BPE never merges across pieces)."""
    import tiktoken

    from slimpajama.io.tokenizer import GPT2_PAT_STR

    head = prefix.encode()
    ranks = {bytes([b]): b for b in range(256)}
    ranks.update({head + bytes([b]): 256 + b for b in range(256)})
    probe = tiktoken.Encoding(name="piece-probe", pat_str=GPT2_PAT_STR, mergeable_ranks=ranks,
                              special_tokens={})
    code_points = encodable_code_points()
    fixed = [ord(ch) for ch in before + prefix]
    tail = [ord(ch) for ch in after]
    rows = np.empty((code_points.size, len(fixed) + 1 + len(tail)), dtype="<u4")
    rows[:, : len(fixed)] = fixed
    rows[:, len(fixed)] = code_points
    rows[:, len(fixed) + 1 :] = tail
    row_bytes = (len((before + prefix + after).encode()) + 1 + (code_points >= 0x80)
                 + (code_points >= 0x800) + (code_points >= 0x10000)).astype(np.int64)
    prefix_at = np.cumsum(row_bytes) - row_bytes + len(before.encode())
    tokens = np.asarray(probe.encode_ordinary(rows.tobytes().decode("utf-32-le")))
    token_bytes = np.where(tokens >= 256, 2, 1)
    merged_at = (np.cumsum(token_bytes) - token_bytes)[tokens >= 256]
    row = np.searchsorted(prefix_at, merged_at)
    if not np.array_equal(prefix_at[np.minimum(row, prefix_at.size - 1)], merged_at):
        raise ValueError("probe merged bytes away from its prefix")
    shares = np.zeros(code_points.size, dtype=bool)
    shares[row] = True
    return shares


def observed_code_point_classes() -> np.ndarray:
    """The class table observed from the installed tiktoken's regex (about 10 CPU-seconds):
    " a" + c is one piece iff c is a letter, " 1" + c iff a number, and in "x\t" + c + "\tx"
    "\t" + c is a piece iff c is whitespace; everything else (surrogates too) is OTHER."""
    code_points = encodable_code_points()
    classes = np.full(0x110000, OTHER, dtype=np.uint8)
    seen = np.zeros(code_points.size, dtype=np.int64)
    for cls, (prefix, before, after) in ((LETTER, ("a", " ", "")), (NUMBER, ("1", " ", "")),
                                         (SPACE, ("\t", "x", "\tx"))):
        member = shares_piece(prefix, before, after)
        classes[code_points[member]] = cls
        seen += member
    if seen.max() > 1:
        raise ValueError("a code point observed in two classes")
    return classes


@lru_cache(maxsize=1)
def code_point_classes() -> np.ndarray:
    """uint8 class (LETTER/NUMBER/OTHER/SPACE) of every code point 0..0x10FFFF, read-only: the
    stored table under CLASS_TABLE_TIKTOKEN, else the one observed from the installed tiktoken
    (once per machine and version: it is kept in `observed_classes_path`)."""
    version = importlib.metadata.version("tiktoken")
    classes = (stored_code_point_classes() if version == CLASS_TABLE_TIKTOKEN
               else kept_observed_classes(version))
    classes.flags.writeable = False
    return classes


def observed_classes_path(version: str) -> Path:
    """Where the class table observed from tiktoken `version` is kept for later processes."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache, "slimpajama", f"gpt2-code-point-classes-tiktoken-{version}.txt")


def kept_observed_classes(version: str) -> np.ndarray:
    """The class table of tiktoken `version` (not CLASS_TABLE_TIKTOKEN): read from
    `observed_classes_path`, else observed (about 10 CPU-seconds, with a warning) and kept there
    (written under a temporary name, then renamed; an unwritable cache only costs the time)."""
    path = observed_classes_path(version)
    try:
        return classes_of_blob(path.read_text())
    except (OSError, ValueError, zlib.error):
        pass
    warnings.warn(f"tiktoken {version} is not {CLASS_TABLE_TIKTOKEN}: observing its regex classes "
                  f"(slow, once; kept in {path}); update _CLASS_RUNS (tests/test_gpt2_count.py "
                  "prints it)", stacklevel=3)
    classes = observed_code_point_classes()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f"{path.name}.tmp-{os.getpid()}")
        temporary.write_text(class_runs_blob(classes))
        os.replace(temporary, path)
    except OSError:
        pass
    return classes


def piece_starts(code_points: np.ndarray, text_starts: np.ndarray) -> np.ndarray:
    """Sorted indices (into `code_points`) where a GPT2_PAT_STR piece starts.

    `code_points` holds texts back to back (uint8 for ASCII, else uint32); `text_starts` are the
    indices where each non-empty text begins (a piece always starts there, none crosses a text end).
    Rules, in the regex's terms: a maximal run of one class (letter, number, other) is a piece,
    except that a contraction ('s 't 're 've 'm 'll 'd) is a piece of its own when the scanner
    stands at its apostrophe (the apostrophe starts a piece and is not preceded by U+0020); a
    whitespace run reaching the end of its text is one piece; one followed by a non-space gives
    back its last character, which starts a piece: if it is U+0020 the following run joins it.
    """
    size = code_points.size
    classes = np.take(code_point_classes(), code_points)
    start = np.empty(size, dtype=bool)
    start[0] = True
    np.not_equal(classes[1:], classes[:-1], out=start[1:])
    start[text_starts] = True
    space = classes == SPACE
    before_non_space = np.zeros(size, dtype=bool)
    np.logical_not(space[1:], out=before_non_space[:-1])
    before_non_space[text_starts[1:] - 1] = False  # a text's last character
    last_space = np.logical_and(space, before_non_space, out=before_non_space)
    start |= last_space
    joins_next = last_space[:-1] & (code_points[:-1] == _SPACE_CHAR)
    start[1:] &= ~joins_next
    _mark_contractions(code_points, text_starts, start)
    return np.nonzero(start)[0]


def _contraction_lengths() -> np.ndarray:
    """[c1, c2] -> length of the contraction that an apostrophe followed by code points c1, c2
    starts (2, 3, or 0 for none), for c1, c2 < 128; 0 stands for "no character"."""
    lengths = np.zeros((128, 128), dtype=np.int64)
    for letter in "sdmt":
        lengths[ord(letter), :] = 2
    for pair in ("ll", "ve", "re"):
        lengths[ord(pair[0]), ord(pair[1])] = 3
    return lengths


_CONTRACTION_LENGTHS = _contraction_lengths()


def _mark_contractions(code_points: np.ndarray, text_starts: np.ndarray, start: np.ndarray) -> None:
    """Make each contraction at a piece-starting apostrophe one piece: clear the starts inside it,
    set one at its end (a text end is already a start)."""
    size = code_points.size
    apostrophes = np.nonzero(start & (code_points == _APOSTROPHE))[0]
    following = apostrophes[apostrophes + 1 < size] + 1
    if following.size == 0:
        return
    # the text start at or after `following`: a character there belongs to the next text
    boundary = text_starts[np.minimum(np.searchsorted(text_starts, following), text_starts.size - 1)]
    first = np.where(boundary != following, code_points[following], 0)
    second_at = np.minimum(following + 1, size - 1)
    second = np.where((boundary != following + 1) & (following + 1 < size),
                      code_points[second_at], 0)
    lengths = _CONTRACTION_LENGTHS[np.minimum(first, 127), np.minimum(second, 127)]
    found = lengths > 0
    start[following[found]] = False
    ends = following[found] - 1 + lengths[found]
    start[ends[ends < size]] = True


def _key_capacity(key_words: int) -> int:
    """Longest piece (bytes) a key of `key_words` words holds: byte 6 of the last word is left
    for the table's count and byte 7 holds the length."""
    return 8 * key_words - 2


def _word_masks(key_words: int) -> list[np.ndarray]:
    """Per key word, the mask keeping a piece's bytes in it, indexed by the piece's length."""
    lengths = np.arange(_key_capacity(key_words) + 1)
    return [_MASKS[np.clip(lengths - 8 * word, 0, 8)] for word in range(key_words)]


_KEY_MASKS = {words: _word_masks(words) for words in (SHORT_KEY_WORDS, MEDIUM_KEY_WORDS)}
_LENGTH_BITS = np.arange(_key_capacity(MEDIUM_KEY_WORDS) + 1, dtype=np.uint64) << _LENGTH_SHIFT


def piece_keys(words: np.ndarray, starts: np.ndarray, lengths: np.ndarray,
               key_words: int) -> list[np.ndarray]:
    """Exact keys of pieces of 1.._key_capacity(key_words) bytes: `key_words` uint64 arrays.

    `words[i]` is the little-endian uint64 read at byte i of the zero-padded data."""
    masks = _KEY_MASKS[key_words]
    keys = [words[starts] & np.take(masks[0], lengths)]
    for word in range(1, key_words):  # most pieces are short: gather only where bytes remain
        key = np.zeros(starts.size, dtype=np.uint64)
        reaching = np.nonzero(lengths > 8 * word)[0]
        key[reaching] = (words[starts[reaching] + 8 * word]
                         & np.take(masks[word], lengths[reaching]))
        keys.append(key)
    keys[-1] |= np.take(_LENGTH_BITS, lengths)
    return keys


class PieceTable:
    """Cache from exact piece keys of `key_words` words to BPE counts, in two generations of
    open-addressing hash tables (linear probing, exact key compare) of 2**bits slots of
    8 * key_words bytes each. The count sits in byte 6 of a key's last word; a zero last word marks
    an empty slot (a key's length byte is never 0). When an insert would fill the current table
    past half, it becomes the previous one and the old previous one is emptied; a key found only in
    the previous table is copied into the current one, so pieces in steady use are never lost.

    With `ids_per_key` > 0 each generation also keeps the keys' token ids: a uint16 store of
    ids_per_key * 2**(bits-1) ids, filled in insertion order, and per slot the offset of its ids
    in both generations' stores, flattened (a key's count is its number of ids); a full store also
    starts a new generation."""

    def __init__(self, key_words: int, bits: int, ids_per_key: int = 0) -> None:
        self.key_words = key_words
        self._tables = np.zeros((2, 1 << bits, key_words), dtype=np.uint64)  # a slot per row
        self._now = 0  # generation of the current table
        self._bits = bits
        self._shift = np.uint64(64 - bits)
        self._half = 1 << (bits - 1)
        self.filled = 0
        self.id_capacity = ids_per_key * self._half
        self._ids = np.zeros((2, self.id_capacity), dtype=np.uint16)
        self._id_at = np.zeros((2, 1 << bits if ids_per_key else 0), dtype=np.uint32)
        self.ids_used = 0

    @property
    def _current(self) -> np.ndarray:
        return self._tables[self._now]

    @property
    def nbytes(self) -> int:
        return self._tables.nbytes + self._ids.nbytes + self._id_at.nbytes

    def clear(self) -> None:
        self._tables[:] = 0
        self.filled = 0
        self.ids_used = 0

    def _slots(self, keys: list[np.ndarray]) -> np.ndarray:
        mixed = keys[0] * _HASH_MULTIPLIERS[0]
        for word in range(1, self.key_words):
            mixed += keys[word] * _HASH_MULTIPLIERS[word]
        return (mixed >> self._shift).astype(np.intp)

    def lookup(self, keys: list[np.ndarray], with_ids: bool = False) -> Any:
        """uint8 count of each key, 0 where absent; with_ids (needs ids_per_key): (counts,
        *`_first_and_rest` of the keys' ids: first id of each key (0 where absent), indices of the
        keys with more than one id, those keys' other ids back to back)."""
        keeps_ids = self.id_capacity > 0
        found, where = self._probe(self._now, keys, keeps_ids)
        missed = np.nonzero(found == 0)[0]
        if missed.size == 0:
            return (found, *self._first_and_rest(found, where)) if with_ids else found
        missed_keys = [key[missed] for key in keys]
        older, older_where = self._probe(1 - self._now, missed_keys, keeps_ids)
        kept = np.nonzero(older)[0]
        if kept.size == 0:
            return (found, *self._first_and_rest(found, where)) if with_ids else found
        found[missed[kept]] = older[kept]
        ids = ()
        if with_ids:
            where[missed[kept]] = older_where[kept]
            ids = self._first_and_rest(found, where)  # before the promotion may empty a generation
        kept_keys = [key[kept] for key in missed_keys]
        first, _ = _distinct(kept_keys)
        promoted = kept[first]
        promoted_ids = None
        if keeps_ids:
            counts = older[promoted].astype(np.int64)
            offsets = self._offsets(older_where[promoted])
            promoted_ids = self._ids.reshape(-1)[_segment_index(offsets, counts)]
        self.insert([key[first] for key in kept_keys], older[promoted], promoted_ids)
        return (found, *ids) if with_ids else found

    def _offsets(self, where: np.ndarray) -> np.ndarray:
        """int64 offsets in the flattened id stores of keys at `where` = generation * 2**bits +
        slot."""
        return self._id_at.reshape(-1)[where].astype(np.int64)

    def _first_and_rest(self, counts: np.ndarray,
                        where: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`_first_and_rest` of the ids of keys with these counts (0: absent) at `where`."""
        present = np.flatnonzero(counts)
        first = np.zeros(counts.size, dtype=np.uint16)
        first[present], multi, rest = _first_and_rest(
            self._ids.reshape(-1), self._offsets(where[present]), counts[present].astype(np.int64))
        return first, present[multi], rest

    def _probe(self, generation: int, keys: list[np.ndarray],
               with_slots: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """(uint8 count of each key in that generation, 0 where absent; with_slots: int64
        generation * 2**bits + slot where each found key sits, else None)."""
        table = self._tables[generation]
        found = np.zeros(keys[0].size, dtype=np.uint8)
        where = np.zeros(keys[0].size, dtype=np.int64) if with_slots else None
        slots = self._slots(keys)
        pending: np.ndarray | None = None  # None: every key
        mask = table.shape[0] - 1
        while True:
            rows = np.take(table, slots, axis=0)
            last = rows[:, -1]
            hit = (last & _WITHOUT_COUNT) == keys[-1]
            for word in range(self.key_words - 1):
                hit &= rows[:, word] == keys[word]
            counts = (last[hit] >> _COUNT_SHIFT).astype(np.uint8)
            at = hit if pending is None else pending[hit]
            found[at] = counts
            if where is not None:
                where[at] = slots[hit] + (generation << self._bits)
            probe_on = np.nonzero(~hit & (last != 0))[0]
            if probe_on.size == 0:
                return found, where
            pending = probe_on if pending is None else pending[probe_on]
            slots = (slots[probe_on] + 1) & mask
            keys = [key[probe_on] for key in keys]

    def insert(self, keys: list[np.ndarray], counts: np.ndarray,
               ids: np.ndarray | None = None) -> None:
        """Store distinct keys absent from the current table, with their counts (1..255) and,
        if the table keeps ids, their `ids` back to back (counts[i] ids for key i)."""
        if (ids is None) != (self.id_capacity == 0):
            raise ValueError("ids must be given exactly when the table keeps ids")
        lengths = counts.astype(np.int64)
        if (self.filled + keys[0].size > self._half
                or (ids is not None and self.ids_used + ids.size > self.id_capacity)):
            self._now = 1 - self._now
            self._current[:] = 0
            self.filled = 0
            self.ids_used = 0
            kept = min(keys[0].size, self._half)
            if ids is not None:
                kept = min(kept, int(np.searchsorted(np.cumsum(lengths), self.id_capacity, "right")))
                ids = ids[: int(lengths[:kept].sum())]
            keys, counts, lengths = [key[:kept] for key in keys], counts[:kept], lengths[:kept]
        entries = np.stack([*keys[:-1], keys[-1] | (counts.astype(np.uint64) << _COUNT_SHIFT)],
                           axis=1)
        id_at = None
        if ids is not None:
            id_at = self._now * self.id_capacity + self.ids_used + np.cumsum(lengths) - lengths
            self._ids[self._now, self.ids_used : self.ids_used + ids.size] = ids
            self.ids_used += ids.size
        mask = self._current.shape[0] - 1
        slots = self._slots(keys)
        while slots.size:
            # among keys aiming at the same free slot the first wins; the others probe on
            _, first = np.unique(slots, return_index=True)
            take = np.zeros(slots.size, dtype=bool)
            take[first] = True
            take &= self._current[slots, -1] == 0
            self._current[slots[take]] = entries[take]
            self.filled += int(take.sum())
            entries = entries[~take]
            if id_at is not None:
                self._id_at[self._now, slots[take]] = id_at[take]
                id_at = id_at[~take]
            slots = (slots[~take] + 1) & mask


_Parts = list[tuple[np.ndarray, np.ndarray]]
"""Ids gathered in parts: (ascending indices of some items, ids of theirs back to back in that order)."""


class GPT2TokenCounter:
    """Exact GPT-2 token counts (`encode_ordinary` length) of texts, with bounded piece caches.

    `count_tokens(texts)` -> int64 array, `counter(text)` -> int. Pieces of <= 14 bytes are cached
    in a `PieceTable` of 2-word keys and 2 generations of 2**table_bits slots (32 MB at 20 bits,
    2**19 pieces per generation), pieces of 15..30 bytes in one of 4-word keys and 2**(table_bits
    - 2) slots per generation (16 MB), longer ones up to MAX_CACHED_PIECE_BYTES (with their ids) in
    a dict of at most `max_long_pieces` entries and LONG_CACHE_BYTES bytes. Not thread-safe: one counter per thread (`shared_counter()` per
    process).
    """

    IDS_PER_KEY = (0, 0)
    """Token ids kept per cached piece in the (short, medium) tables' stores: none, counts only."""

    def __init__(self, encoding: Any = None, table_bits: int = 20,
                 max_long_pieces: int = 100_000) -> None:
        if encoding is None:
            from slimpajama.io.tokenizer import gpt2_encoding

            encoding = gpt2_encoding()
        if encoding._pat_str != PIECE_PATTERN:
            raise ValueError(f"encoding pattern {encoding._pat_str!r} is not {PIECE_PATTERN!r}")
        self._encoding = encoding
        self._encode_piece = encoding._core_bpe.encode_single_piece
        self._short = PieceTable(SHORT_KEY_WORDS, table_bits, self.IDS_PER_KEY[0])
        self._medium = PieceTable(MEDIUM_KEY_WORDS, max(table_bits - 2, 4), self.IDS_PER_KEY[1])
        self._long: dict[bytes, bytes] = {}  # piece -> its ids as uint16 bytes
        self._long_bytes = 0  # of the dict's pieces and ids
        self._max_long = max_long_pieces
        code_point_classes()

    def __call__(self, text: str) -> int:
        """GPT-2 tokens of one text (a text under SMALL_TEXT_CHARS goes to tiktoken directly:
        numpy's per-call overhead would dominate; batch texts with `count_tokens` instead)."""
        if len(text) < SMALL_TEXT_CHARS:
            return len(self._encoding.encode_ordinary(text))
        counts = np.zeros(1, dtype=np.int64)
        self._count_group([text], [0], text.isascii(), counts, None)
        return int(counts[0])

    def cache_bytes(self) -> int:
        """Bytes held by the piece tables (fixed) plus the long pieces' and their ids' bytes."""
        return self._short.nbytes + self._medium.nbytes + self._long_bytes

    def clear(self) -> None:
        """Forget every cached piece (counts never depend on the cache)."""
        self._short.clear()
        self._medium.clear()
        self._long.clear()
        self._long_bytes = 0

    def count_tokens(self, texts: Sequence[str]) -> np.ndarray:
        """int64 GPT-2 token count of each text, == len(encode_ordinary(text)).

        Texts are split in groups of about CHUNK_CHARS code points (ASCII texts apart), so that
        the working arrays stay in cache whatever the batch size."""
        counts = np.zeros(len(texts), dtype=np.int64)
        self._tokens(texts, counts, None)
        return counts

    def _tokens(self, texts: Sequence[str], counts: np.ndarray, parts: _Parts | None) -> None:
        """Set `counts` of all texts, group by group; with `parts`, append each group's ids."""
        groups: dict[bool, tuple[list[int], int]] = {True: ([], 0), False: ([], 0)}
        for index, text in enumerate(texts):
            if not text:
                continue
            is_ascii = text.isascii()
            members, size = groups[is_ascii]
            if members and size + len(text) > CHUNK_CHARS:
                self._count_group(texts, members, is_ascii, counts, parts)
                members, size = [], 0
            members.append(index)
            groups[is_ascii] = (members, size + len(text))
        for is_ascii, (members, _) in groups.items():
            if members:
                self._count_group(texts, members, is_ascii, counts, parts)

    def _count_group(self, texts: Sequence[str], members: list[int], is_ascii: bool,
                     counts: np.ndarray, parts: _Parts | None) -> None:
        """Set counts[members] for non-empty texts, all ASCII or all not; with `parts`, append
        (members, their ids back to back)."""
        chosen = [texts[i] for i in members]
        joined = "".join(chosen)
        if is_ascii:
            data = joined.encode("ascii")
            counts[members], ids = self._count_joined(
                np.frombuffer(data, dtype=np.uint8), data, _starts_of(chosen), None, parts)
        else:
            try:
                wide = joined.encode("utf-32-le")
            except UnicodeEncodeError:  # lone surrogates: tiktoken repairs them, count those alone
                clean = []
                for i in members:
                    try:
                        texts[i].encode("utf-8")
                        clean.append(i)
                    except UnicodeEncodeError:
                        text_ids = self._encoding.encode_ordinary(texts[i])
                        counts[i] = len(text_ids)
                        if parts is not None:
                            parts.append((np.array([i]), np.array(text_ids, dtype=np.uint32)))
                if clean:
                    self._count_group(texts, clean, False, counts, parts)
                return
            code_points = np.frombuffer(wide, dtype=np.uint32)
            counts[members], ids = self._count_joined(
                code_points, joined.encode("utf-8"), _starts_of(chosen), _utf8_extra(code_points),
                parts)
        if parts is not None:
            parts.append((np.array(members), ids))

    def _count_joined(self, code_points: np.ndarray, data: bytes, text_starts: np.ndarray,
                      utf8_extra: np.ndarray | None,
                      parts: _Parts | None) -> tuple[np.ndarray, np.ndarray | None]:
        """(token count of each of the non-empty texts joined in `code_points` / UTF-8 `data`,
        their ids back to back if `parts` is given, else None); `utf8_extra[i]` = UTF-8 offset of
        code point i minus i (None for ASCII: all zero)."""
        starts = piece_starts(code_points, text_starts)
        first_piece = np.searchsorted(starts, text_starts)
        if utf8_extra is not None:
            starts = starts + utf8_extra[starts]
        lengths = np.empty_like(starts)
        np.subtract(starts[1:], starts[:-1], out=lengths[:-1])
        lengths[-1] = len(data) - starts[-1]
        piece_counts, ids = self._piece_tokens(data, starts, lengths, parts is not None)
        return np.add.reduceat(piece_counts, first_piece), ids

    def _piece_tokens(self, data: bytes, starts: np.ndarray, lengths: np.ndarray,
                      with_ids: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """(int64 BPE length of each piece data[start:start+length], with_ids: uint16 ids of all
        pieces back to back, else None)."""
        padded = data + bytes(8 * MEDIUM_KEY_WORDS)
        words = np.ndarray((len(data) + 8 * MEDIUM_KEY_WORDS - 7,), dtype="<u8", buffer=padded,
                           strides=(1,))
        capacity = _key_capacity(SHORT_KEY_WORDS)
        longer = lengths > capacity
        keys = piece_keys(words, starts, np.minimum(lengths, capacity), SHORT_KEY_WORDS)
        keys[-1][longer] = 0  # never found: the short table holds no longer piece
        first: np.ndarray | None = None
        rests: _Parts = []  # (pieces of more than one id, their ids after the first)
        if with_ids:
            found, first, multi, rest = self._short.lookup(keys, True)
            rests.append((multi, rest))
        else:
            found = self._short.lookup(keys)
        counts = found.astype(np.int64)

        def set_ids(pieces: np.ndarray, ids: tuple[np.ndarray, _Parts] | None) -> None:
            if first is not None and ids is not None:
                first[pieces] = ids[0]
                rests.extend((pieces[multi], rest) for multi, rest in ids[1])

        missing = np.flatnonzero(found == 0)
        missed = missing[~longer[missing]]
        if missed.size:
            counts[missed], ids = self._count_and_cache(
                self._short, [key[missed] for key in keys], data, starts[missed], lengths[missed],
                with_ids)
            set_ids(missed, ids)
        longer_ids = missing[longer[missing]]
        medium = longer_ids[lengths[longer_ids] <= _key_capacity(MEDIUM_KEY_WORDS)]
        if medium.size:
            medium_keys = piece_keys(words, starts[medium], lengths[medium], MEDIUM_KEY_WORDS)
            counts[medium], ids = self._count_and_cache(self._medium, medium_keys, data,
                                                        starts[medium], lengths[medium], with_ids)
            set_ids(medium, ids)
        long_ids = longer_ids[lengths[longer_ids] > _key_capacity(MEDIUM_KEY_WORDS)]
        if long_ids.size:
            long_pieces = [self._long_piece_ids(data[start : start + length])
                           for start, length in zip(starts[long_ids].tolist(),
                                                    lengths[long_ids].tolist(), strict=True)]
            long_counts = np.fromiter(map(len, long_pieces), np.int64, long_ids.size) >> 1
            counts[long_ids] = long_counts
            if with_ids:
                long_first, multi, rest = _first_and_rest(
                    np.frombuffer(b"".join(long_pieces), dtype=np.uint16),
                    np.cumsum(long_counts) - long_counts, long_counts)
                set_ids(long_ids, (long_first, [(multi, rest)]))
        if first is None:
            return counts, None
        ids = np.repeat(first, counts)
        out_starts = np.cumsum(counts) - counts
        for pieces, rest in rests:
            ids[_segment_index(out_starts[pieces] + 1, counts[pieces] - 1)] = rest
        return counts, ids

    def _count_and_cache(self, table: PieceTable, keys: list[np.ndarray], data: bytes,
                         starts: np.ndarray, lengths: np.ndarray,
                         with_ids: bool) -> tuple[np.ndarray, tuple[np.ndarray, _Parts] | None]:
        """(int64 counts of pieces with these keys, with_ids: (first id of each piece, [(pieces
        of more than one id, their ids after the first)]), else None): looked up in `table`
        (unless it is the short table, already looked up), misses encoded by tiktoken once per
        distinct key and cached."""
        rests: _Parts = []
        if table is self._short:
            found, first = np.zeros(starts.size, np.uint8), np.zeros(starts.size, np.uint16)
        elif with_ids:
            found, first, multi, rest = table.lookup(keys, True)
            rests.append((multi, rest))
        else:
            found = table.lookup(keys)
        counts = found.astype(np.int64)
        missed = np.flatnonzero(found == 0)
        if missed.size == 0:
            return counts, ((first, rests) if with_ids else None)
        missed_keys = [key[missed] for key in keys]
        first_key, inverse = _distinct(missed_keys)
        encoded = [self._encode_piece(data[start : start + length])
                   for start, length in zip(starts[missed[first_key]].tolist(),
                                            lengths[missed[first_key]].tolist(), strict=True)]
        fresh = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
        counts[missed] = fresh[inverse]
        fresh_ids = None
        if table.id_capacity or with_ids:
            fresh_ids = np.fromiter(itertools.chain.from_iterable(encoded), dtype=np.uint16,
                                    count=int(fresh.sum()))
        table.insert([key[first_key] for key in missed_keys], fresh,
                     fresh_ids if table.id_capacity else None)
        if not with_ids:
            return counts, None
        first[missed], multi, rest = _first_and_rest(
            fresh_ids, (np.cumsum(fresh) - fresh)[inverse], fresh[inverse])
        rests.append((missed[multi], rest))
        return counts, (first, rests)

    def _long_piece_ids(self, piece: bytes) -> bytes:
        """BPE ids (uint16 bytes) of a piece longer than any table key, via a bounded dict."""
        ids = self._long.get(piece)
        if ids is None:
            ids = array.array("H", self._encode_piece(piece)).tobytes()
            if len(piece) <= MAX_CACHED_PIECE_BYTES:
                size = len(piece) + len(ids)
                if len(self._long) >= self._max_long or self._long_bytes + size > LONG_CACHE_BYTES:
                    self._long.clear()
                    self._long_bytes = 0
                self._long[piece] = ids
                self._long_bytes += size
        return ids


class GPT2TokenEncoder(GPT2TokenCounter):
    """Exact GPT-2 encoding of texts in batches (`encode_batch`), == tiktoken's `encode_ordinary`
    per text, with the counter's piece split and caches keeping each piece's ids too: id stores of
    2 ids per short piece and 8 per medium one on average (2 + 2 MB per generation at 20 bits)
    and a uint32 offset per slot (8 + 2 MB): 69 MB in all with the counter's 50 MB of tables,
    plus the long pieces' dict. Also counts (`count_tokens`). Not thread-safe (`shared_encoder()`
    per process)."""

    IDS_PER_KEY = (2, 8)

    def __init__(self, encoding: Any = None, table_bits: int = 20,
                 max_long_pieces: int = 100_000) -> None:
        super().__init__(encoding, table_bits, max_long_pieces)
        if self._encoding.max_token_value >= 1 << 16:
            raise ValueError("token ids must fit in uint16")

    def encode_batch(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(uint32 token ids of all texts back to back, int64 token count of each text): the ids
        of text i are `encode_ordinary(texts[i])`, at offset counts[:i].sum()."""
        counts = np.zeros(len(texts), dtype=np.int64)
        parts: _Parts = []
        self._tokens(texts, counts, parts)
        return _in_text_order(counts, parts), counts


@lru_cache(maxsize=1)
def shared_counter() -> GPT2TokenCounter:
    """This process's GPT-2 counter, built on first use: its caches warm over every text the
    process counts (a counter per file would start cold and allocate its tables each time)."""
    return GPT2TokenCounter()


@lru_cache(maxsize=1)
def shared_encoder() -> GPT2TokenEncoder:
    """This process's GPT-2 encoder, built on first use (like `shared_counter`)."""
    return GPT2TokenEncoder()


def _segment_index(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """int64 indices starts[0]..starts[0]+lengths[0]-1, starts[1].., ... back to back."""
    ends = np.cumsum(lengths)
    index = np.repeat(starts - (ends - lengths), lengths)
    index += np.arange(index.size)
    return index


def _first_and_rest(source: np.ndarray, starts: np.ndarray,
                    lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Segments source[start:start+length] (length >= 1) as (first element of each, indices of
    the segments longer than 1, their other elements back to back): most pieces are one token,
    so a batch's ids are np.repeat(first, counts) with the rest put in place."""
    multi = np.flatnonzero(lengths > 1)
    return source[starts], multi, source[_segment_index(starts[multi] + 1, lengths[multi] - 1)]


def _in_text_order(counts: np.ndarray, parts: _Parts) -> np.ndarray:
    """uint32 ids of all texts back to back (text i has counts[i] ids) from `parts`: (ascending
    indices of some texts, their ids back to back), covering each text with ids once. Copied a
    text at a time: a batch has few texts and many tokens."""
    by_text: list[np.ndarray | None] = [None] * counts.size
    for items, ids in parts:
        ends = np.cumsum(counts[items]).tolist()
        for item, start, end in zip(items.tolist(), [0, *ends[:-1]], ends, strict=True):
            by_text[item] = ids[start:end]
    chosen = [ids for ids in by_text if ids is not None]
    return np.concatenate(chosen, dtype=np.uint32) if chosen else np.zeros(0, dtype=np.uint32)


def _distinct(keys: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(index of one occurrence of each distinct multi-word key, index into those of every key)."""
    order = np.lexsort(keys)
    new = np.zeros(order.size, dtype=bool)
    new[0] = True
    for key in keys:
        ordered = key[order]
        new[1:] |= ordered[1:] != ordered[:-1]
    inverse = np.empty(order.size, dtype=np.intp)
    inverse[order] = np.cumsum(new) - 1
    return order[new], inverse


def _starts_of(texts: list[str]) -> np.ndarray:
    """Index where each text starts once they are joined (code points)."""
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    return np.cumsum(lengths) - lengths


def _utf8_extra(code_points: np.ndarray) -> np.ndarray:
    """int64 UTF-8 bytes beyond one per code point before each code point (offset - index)."""
    extra = np.empty(code_points.size, dtype=np.uint8)
    extra[0] = 0
    extra[1:] = (code_points[:-1] >= 0x80).view(np.uint8)
    extra[1:] += (code_points[:-1] >= 0x800).view(np.uint8)
    extra[1:] += (code_points[:-1] >= 0x10000).view(np.uint8)
    return np.cumsum(extra, dtype=np.int64)
