"""Deterministic documents for benchmarks.

`realistic_corpus(mb, seed)` is what benchmarks run on: documents per RedPajama source (arxiv,
book, c4, common_crawl, github, stackexchange, wikipedia) in RedPajama-1T byte shares, each source
reproducing the real one's profile (`TARGET_PROFILE`, measured on RedPajama for issue 13): mean
document size (lognormal sizes), layout (web text as many short lines, code-like GitHub files,
LaTeX, Q&A, articles, hard-wrapped books), and which documents / lines / characters carry curly
quotes, dashes, accented letters, CJK, Cyrillic, NBSP, HTML entities and real mojibake, so that
ftfy changes the same share of documents as on real text. `corpus_profile` measures those
columns and `format_profile` prints them next to the targets. Words come from a seeded
English-looking vocabulary with Zipf frequencies, sampled with numpy; per-document planting is
plain Python driven by `random.Random` seeded per (seed, source).

`synthetic_texts(total_bytes, seed)` is the older generator (one undifferentiated stream of
documents); tests and the quality benchmark still use it for near-duplicate pairs:

`synthetic_texts(total_bytes, seed)` draws document sizes from a lognormal (median 3 KB, about
0.4 % of documents past 100 KB, capped at 2 MB) and fills them with Zipf-distributed words of
a seeded pseudo-vocabulary (about 5 % of the vocabulary accented, 1 % CJK, 0.2 % emoji),
sentences with commas and full stops, capitalized sentence starts and paragraph breaks.
Everything is numpy-vectorized (> 50 MB/s); the same (total_bytes, seed) gives the same texts
with the same numpy version.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Sequence
from typing import TypeVar

import numpy as np

_T = TypeVar("_T")

MEDIAN_DOC_BYTES = 3000
DOC_SIGMA = 1.3
MAX_DOC_BYTES = 2_000_000
VOCABULARY = 40_000
_LETTERS = "etaoinshrdlcumwfgypbvkjxqz"
_LETTER_WEIGHTS = np.array(  # English letter frequencies (%), in the order of _LETTERS
    "12.7 9.1 8.2 7.5 7.0 6.7 6.3 6.1 6.0 4.3 4.0 2.8 2.8 2.4 2.4 2.2 2.0 2.0 1.9 1.5 1.0 0.8 "
    "0.2 0.2 0.1 0.1".split(),
    dtype=np.float64,
)
_ACCENTED = "éèêàçüöäñßøå"
_EMOJI = "😀🎉🚀🌍🔥✨📚🤖"
# what follows a word; after a full stop the next word is capitalized
_SUFFIXES = (b" ", b", ", b". ", b".\n\n")
_SUFFIX_RATES = (0.86, 0.06, 0.072, 0.008)
_BLOCK_TOKENS = 1 << 16


def _vocabulary(rng: np.random.Generator) -> list[str]:
    """Pseudo-words of 1-12 letters; a few accented, CJK or emoji words."""
    lengths = np.clip(rng.poisson(5.0, VOCABULARY), 1, 12)
    letters = rng.choice(
        len(_LETTERS), size=int(lengths.sum()), p=_LETTER_WEIGHTS / _LETTER_WEIGHTS.sum()
    )
    flat = "".join(_LETTERS[i] for i in letters)
    ends = np.cumsum(lengths)
    words = [flat[e - n : e] for e, n in zip(ends.tolist(), lengths.tolist(), strict=True)]
    kind = rng.random(VOCABULARY)
    for i in np.flatnonzero(kind < 0.05).tolist():  # accented letter in place of one letter
        j = int(rng.integers(len(words[i])))
        words[i] = words[i][:j] + _ACCENTED[int(rng.integers(len(_ACCENTED)))] + words[i][j + 1 :]
    for i in np.flatnonzero((kind >= 0.05) & (kind < 0.06)).tolist():
        words[i] = "".join(chr(c) for c in rng.integers(0x4E00, 0x9FA5, int(rng.integers(2, 5))))
    for i in np.flatnonzero((kind >= 0.06) & (kind < 0.062)).tolist():
        words[i] = _EMOJI[int(rng.integers(len(_EMOJI)))]
    return words


def _token_table(words: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Zero-padded UTF-8 rows of every token, their byte lengths, and the rows' used-byte masks.

    Token id = word + VOCABULARY * (2 * suffix + capitalized), suffix indexing `_SUFFIXES`.
    """
    variants = words + [w[:1].upper() + w[1:] for w in words]
    encoded = [v.encode("utf-8") for v in variants]
    base_lengths = np.array([len(e) for e in encoded], dtype=np.int64)
    width = int(base_lengths.max()) + max(len(s) for s in _SUFFIXES)
    flat = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    rows = np.repeat(np.arange(len(variants)), base_lengths)
    columns = np.arange(flat.size) - np.repeat(np.cumsum(base_lengths) - base_lengths, base_lengths)
    base = np.zeros((len(variants), width), dtype=np.uint8)
    base[rows, columns] = flat
    tables, lengths = [], []
    for suffix in _SUFFIXES:
        table = base.copy()
        for offset, byte in enumerate(suffix):
            table[np.arange(len(variants)), base_lengths + offset] = byte
        tables.append(table)
        lengths.append(base_lengths + len(suffix))
    table = np.concatenate(tables)
    token_lengths = np.concatenate(lengths)
    return table, token_lengths, np.arange(width)[None, :] < token_lengths[:, None]


def _document_sizes(rng: np.random.Generator, total_bytes: int) -> np.ndarray:
    """Lognormal document sizes (bytes) whose sum first reaches `total_bytes`."""
    sizes = []
    remaining = total_bytes
    while remaining > 0:
        draw = rng.lognormal(np.log(MEDIAN_DOC_BYTES), DOC_SIGMA, 1024)
        draw = np.clip(draw, 50, MAX_DOC_BYTES).astype(np.int64)
        ends = np.cumsum(draw)
        take = int(np.searchsorted(ends, remaining)) + 1
        sizes.append(draw[:take])
        remaining -= int(ends[min(take, draw.size) - 1])
    return np.concatenate(sizes)


def synthetic_texts(total_bytes: int, seed: int = 0) -> list[str]:
    """Deterministic synthetic documents of about `total_bytes` UTF-8 bytes in total."""
    rng = np.random.default_rng(seed)
    table, token_bytes, used = _token_table(_vocabulary(rng))
    targets = np.cumsum(_document_sizes(rng, total_bytes))
    weights = 1.0 / (np.arange(VOCABULARY) + 2.7)  # Zipf ranks via an inverse-CDF table
    inverse_cdf = np.searchsorted(
        np.cumsum(weights) / weights.sum(), (np.arange(1 << 18) + 0.5) / (1 << 18)
    )
    inverse_cdf = np.minimum(inverse_cdf, VOCABULARY - 1).astype(np.int32)
    suffix_cuts = np.cumsum(_SUFFIX_RATES)[:-1].tolist()

    blocks: list[bytes] = []
    doc_ends: list[np.ndarray] = []  # byte offset where each document ends (a token end)
    written = done = 0
    capitalize_next = True
    while done < targets.size:
        words = inverse_cdf[rng.integers(0, 1 << 18, _BLOCK_TOKENS, dtype=np.int32)]
        draw = rng.random(_BLOCK_TOKENS)
        suffix = sum((draw >= cut).astype(np.int32) for cut in suffix_cuts)
        capitalized = np.empty(_BLOCK_TOKENS, dtype=np.int32)
        capitalized[0] = capitalize_next
        capitalized[1:] = suffix[:-1] >= 2  # after a full stop
        capitalize_next = bool(suffix[-1] >= 2)
        tokens = words + VOCABULARY * (2 * suffix + capitalized)
        lengths = np.take(token_bytes, tokens)
        blocks.append(np.take(table, tokens, axis=0)[np.take(used, tokens, axis=0)].tobytes())
        ends = written + np.cumsum(lengths)
        reached = int(np.searchsorted(targets, ends[-1], "right"))
        doc_ends.append(ends[np.searchsorted(ends, targets[done:reached], "left")])
        done, written = reached, int(ends[-1])
    blob = b"".join(blocks)
    texts = []
    start = 0
    for stop in np.concatenate(doc_ends).tolist():
        text = blob[start:stop].rstrip().decode("utf-8")
        texts.append(text[:1].upper() + text[1:])
        start = stop
    return texts


def mutated_pairs(
    count: int, low: int, high: int, seed: int = 0, max_rate: float = 0.04
) -> tuple[list[str], list[str]]:
    """`count` pairs (key-text slice of length in [low, high), copy with a uniform random fraction
    in [0, max_rate) of its characters replaced): near-duplicates with a spread of Jaccard values."""
    from slimpajama.core.keytext import key_text

    rng = np.random.default_rng(seed)
    corpus = key_text(" ".join(synthetic_texts(max(1_500_000, 4 * high), seed=seed)))
    letters = np.array(list("abcdefghij "))
    first, second = [], []
    for _ in range(count):
        length = int(rng.integers(low, high))
        start = int(rng.integers(0, len(corpus) - length))
        text = corpus[start : start + length]
        chars = np.array(list(text))
        changed = rng.random(length) < rng.uniform(0.0, max_rate)
        chars[changed] = rng.choice(letters, int(changed.sum()))
        first.append(text)
        second.append("".join(chars))
    return first, second


# ------------------------------------------------------------------------------------------------
# Realistic RedPajama-like corpus: per-source document sizes, line shapes and non-ASCII profile.
# ------------------------------------------------------------------------------------------------

CORPUS_VERSION = 5
"""Bumped whenever `realistic_corpus` output changes (benchmarks key their cached corpora on it)."""
SOURCES = ("arxiv", "book", "c4", "common_crawl", "github", "stackexchange", "wikipedia")
BYTE_SHARES = {  # RedPajama-1T token shares (tokens ~ bytes), summing to 1
    "arxiv": 0.023, "book": 0.021, "c4": 0.144, "common_crawl": 0.726, "github": 0.049,
    "stackexchange": 0.017, "wikipedia": 0.020,
}
PROFILE_COLUMNS = (
    "mean_kb", "any_non_ascii", "curly_quotes", "dash", "latin_accents", "cjk", "cyrillic", "nbsp",
    "html_entity", "non_ascii_lines", "non_ascii_chars",
)
_TARGET_ROWS = {  # measured on real RedPajama samples (issue 13)
    "arxiv": (68, 0.14, 0.06, 0.04, 0.04, 0.01, 0.003, 0.001, 0, 0.004, 0.002),
    "book": (360, 0.54, 0.41, 0.16, 0.25, 0, 0, 0.05, 0.02, 0.14, 0.006),
    "c4": (6.7, 0.52, 0.44, 0.20, 0.05, 0.001, 0, 0.04, 0, 0.23, 0.002),
    "common_crawl": (8.8, 0.63, 0.43, 0.39, 0.09, 0.01, 0.004, 0.005, 0.01, 0.09, 0.004),
    "github": (9.1, 0.06, 0.006, 0.009, 0.02, 0.006, 0.003, 0.001, 0.04, 0.003, 0.0003),
    "stackexchange": (2.9, 0.27, 0.13, 0.09, 0.10, 0.002, 0.002, 0.05, 0.001, 0.03, 0.001),
    "wikipedia": (2.1, 0.61, 0.05, 0.16, 0.44, 0.008, 0.07, 0.25, 0, 0.66, 0.24),
}
_FTFY_CHANGED = {"arxiv": 0.06, "book": 0.45, "c4": 0.45, "common_crawl": 0.45, "github": 0.01,
                 "stackexchange": 0.13, "wikipedia": 0.05}
_MOJIBAKE = {"arxiv": 0.0, "book": 0.0, "c4": 0.007, "common_crawl": 0.02, "github": 0.0,
             "stackexchange": 0.0, "wikipedia": 0.0}
TARGET_PROFILE: dict[str, dict[str, float]] = {
    source: {**dict(zip(PROFILE_COLUMNS, row, strict=True)),
             "ftfy_changed": _FTFY_CHANGED[source], "mojibake": _MOJIBAKE[source]}
    for source, row in _TARGET_ROWS.items()
}
"""Per source: the table's columns (document fractions unless named *_lines / *_chars; mean_kb in
1000-byte units), `ftfy_changed` (documents ftfy.fix_text(NFC) changes) and `mojibake` (documents
ftfy.fix_encoding changes)."""

_FEATURES = ("curly_quotes", "dash", "latin_accents", "cjk", "cyrillic", "nbsp")
"""Non-ASCII features planted per document (html_entity is ASCII and drawn independently)."""
_FEATURE_PATTERNS = {
    "curly_quotes": "[\u2018\u2019\u201c\u201d]",
    "dash": "[\u2013\u2014]",
    "latin_accents": "[\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff]",
    "cjk": "[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]",
    "cyrillic": "[\u0400-\u04ff]",
    "nbsp": "\u00a0",
    "html_entity": "&(?:[a-zA-Z]{2,8}|#[0-9]{1,5}|#x[0-9a-fA-F]{1,4});",
}
_MINOR_FTFY_RATE = 0.001
"""Documents per source given each of: full-width letters, a ligature, a control character, CRLF
line breaks (ftfy changes them all; real rates are well under 1 %)."""


class _Shape:
    """How one source's documents look: sizes, lines, and how densely non-ASCII text is planted.

    `line_tokens`/`line_sigma`: lognormal words per line; `title_share`: lines without a final full
    stop; `hot_lines`: probability that a line of a non-ASCII document carries a planted feature;
    `extra`: mean planted items per such line beyond the first; `script_full`: probability that a
    Cyrillic/CJK line is written wholly in that script; `non_ascii_size`: size factor of non-ASCII
    documents (ASCII documents get the complementary factor so the mean stays `mean_kb`);
    `script_hot`: `hot_lines` in documents with Cyrillic or CJK text; `accent_heavy`: accented
    lines are wholly in accent-heavy words; `overhead`: measured bytes added by layout and
    planting per base byte (sizes are drawn divided by it).
    """

    def __init__(self, sigma: float, line_tokens: float, line_sigma: float, title_share: float,
                 hot_lines: float, extra: float, script_full: float, non_ascii_size: float = 1.0,
                 script_hot: float | None = None, accent_heavy: bool = False,
                 overhead: float = 1.0) -> None:
        self.sigma, self.line_tokens, self.line_sigma = sigma, line_tokens, line_sigma
        self.title_share, self.hot_lines, self.extra = title_share, hot_lines, extra
        self.script_full, self.non_ascii_size, self.accent_heavy = (
            script_full, non_ascii_size, accent_heavy)
        self.script_hot = hot_lines if script_hot is None else script_hot
        self.overhead = overhead


_SHAPES = {
    "arxiv": _Shape(0.7, 16, 0.5, 0.02, 0.02, 25.0, 1.0, script_hot=0.1, overhead=1.065),
    "book": _Shape(0.6, 12, 0.15, 0.0, 0.26, 4.0, 0.0),
    "c4": _Shape(0.9, 38, 0.7, 0.05, 0.42, 1.2, 0.3),
    "common_crawl": _Shape(0.9, 16, 0.9, 0.25, 0.14, 3.5, 0.5, overhead=1.015),
    "github": _Shape(1.0, 0, 0, 0, 0.04, 4.0, 0.8),
    "stackexchange": _Shape(0.9, 28, 0.8, 0.05, 0.075, 2.0, 0.5, overhead=1.18),
    "wikipedia": _Shape(0.8, 45, 0.6, 0.02, 0.95, 6.0, 1.0, non_ascii_size=1.2, accent_heavy=True,
                        overhead=1.29),
}

_FUNCTION_WORDS = (
    "the of and to a in is that for it was on with as he be by at this are from his or an have "
    "not they which you were but her had their one all has its been we she there more can will "
    "also who when would first after two into other some time than new only these may years them "
    "most made about over such between him our any people many where state world three during "
    "used through while each part well those both under very same since found number"
).split()
_COMMON_WORDS = (
    "make like just know take into year good some could them see other than then now look only "
    "come over think also back after use work first well way even want because any give day most "
    "us great man need life child world school still try last ask feel become leave put mean keep "
    "let begin seem help talk turn start show hear play run move live believe hold bring happen "
    "write provide sit stand lose pay meet include continue set learn change lead understand watch "
    "follow stop create speak read allow add spend grow open walk win offer remember love consider "
    "appear buy wait serve die send expect build stay fall cut reach kill remain suggest raise pass "
    "sell require report decide pull home water room mother area money story fact month lot right "
    "study book eye job word business issue side kind head house service friend father power hour "
    "game line end member law car city community name president team minute idea kid body "
    "information back parent face others level office door health person art war history party "
    "result morning reason research girl guy moment air teacher force education foot boy age "
    "policy process music market sense nation plan college interest death experience effect class "
    "control care field development role effort rate heart drug show leader light voice wife "
    "police mind price report decision son view relationship town road arm difference value "
    "building action model season society tax director position player record paper space ground "
    "form event official matter center couple site project activity star table need court oil "
    "situation cost industry figure street image phone data picture practice piece land product "
    "doctor wall patient worker news test movie north love support technology step baby computer "
    "type attention film tree source organization hair window evidence population site fire "
    "problem system program question government company number group country week point hand "
    "place case night public small large national young different important local social high "
    "possible political real whole economic free military true federal international full "
    "special easy clear recent certain personal open red difficult available likely short single "
    "medical current wrong private past foreign fine common poor natural significant similar hot "
    "dead central happy serious ready simple left physical general environmental financial blue "
    "democratic dark various entire close legal religious cold final main green nice huge popular "
    "traditional cultural new old long little own other great big"
).split()
_ONSETS = "b c d f g h l m n p r s t v w b c d l m p r s t st tr pr ch sh th br gr cl pl fr".split()
_VOWELS = "a e i o u a e i o ea ou io ai ee".split()
_CODAS = ["", "", "", "n", "r", "s", "t", "l", "nd", "st", "rt", "ng", "ck", "m", "ll"]
_ENDINGS = ["", "", "", "", "s", "s", "ed", "ing", "er", "ly", "tion", "al", "ment", "ness", "able",
            "ers", "ful"]
_PREFIXES = ["", "un", "re", "in", "dis", "pre", "over", "out", "non", "sub"]
"""Word prefixes; a quarter of the derived words get one (index 0 = none)."""
_WORDS = 30_000
_SUFFIX_TEXT = (" ", ", ", ". ", "? ", ": ", ".\n", "\n", "?\n")
"""What follows a word: 0-4 inside a line, 5-7 at a line end (full stop, none, question)."""
_INNER_RATES = np.array([0.845, 0.07, 0.07, 0.005, 0.01])
_SENTENCE_END = (2, 3)
"""The (contiguous) inner suffixes after which the next word is capitalized."""


class _Vocabulary:
    """Seeded English-looking words by Zipf rank (function words, common words, then derived words
    (prefix + common word + ending), syllable words and numbers), their Zipf inverse CDF, and every
    token string (suffix-major: word x capitalized x suffix)."""

    def __init__(self, seed: int) -> None:
        rng = np.random.default_rng([seed, 7919])
        common = list(dict.fromkeys(w for w in _COMMON_WORDS if w not in _FUNCTION_WORDS))
        count = _WORDS - len(_FUNCTION_WORDS) - len(common)
        # a third syllable words, two thirds a common word with an English prefix / suffix
        syllables = np.minimum(rng.geometric(0.7, count), 3)
        onsets, vowels, codas = (rng.integers(len(table), size=(count, 3))
                                 for table in (_ONSETS, _VOWELS, _CODAS))
        roots = rng.integers(len(common), size=count)
        prefixes = np.where(rng.random(count) < 0.25, rng.integers(1, len(_PREFIXES), size=count), 0)
        endings = rng.integers(len(_ENDINGS), size=count)
        kinds = rng.random(count)
        words = []
        for i in range(count):
            if kinds[i] < 0.33:
                stem = "".join(_ONSETS[onsets[i, j]] + _VOWELS[vowels[i, j]] + _CODAS[codas[i, j]]
                               for j in range(int(syllables[i])))
            else:
                stem = _PREFIXES[prefixes[i]] + common[roots[i]]
            words.append(stem + _ENDINGS[endings[i]])
        numbers = rng.integers(0, 6, count)
        for i in np.flatnonzero(rng.random(count) < 0.04).tolist():  # numbers at random ranks
            kind = int(numbers[i])
            words[i] = (str(int(rng.integers(1800, 2025))) if kind < 2 else
                        str(int(rng.integers(2, 100))) if kind < 4 else
                        f"{rng.integers(1, 10)}.{rng.integers(0, 10)}" if kind == 4 else
                        f"{rng.integers(1, 100)}%")
        self.words = _FUNCTION_WORDS + common + words
        weights = 1.0 / (np.arange(_WORDS) + 1.7)  # "the" ~ 5.5 % of words, as in English
        self.inverse_cdf = np.minimum(
            np.searchsorted(np.cumsum(weights) / weights.sum(), (np.arange(1 << 18) + 0.5) / (1 << 18)),
            _WORDS - 1).astype(np.int32)
        variants = self.words + [w[:1].upper() + w[1:] for w in self.words]
        self.tokens = np.array([v + suffix for suffix in _SUFFIX_TEXT for v in variants], dtype=object)
        cuts = np.cumsum(_INNER_RATES / _INNER_RATES.sum())[:-1]
        self.suffix_lut = np.searchsorted(cuts, (np.arange(1024) + 0.5) / 1024, "right").astype(np.int32)

    def lines(self, rng: np.random.Generator, words_per_line: np.ndarray,
              titles: np.ndarray) -> list[str]:
        """ASCII lines of the given word counts: sentences with commas, full stops and capitals;
        lines flagged in `titles` end without a full stop."""
        counts = np.maximum(words_per_line.astype(np.int64), 1)
        total = int(counts.sum())
        draws = rng.integers(0, 1 << 28, total, dtype=np.int32)  # 18 bits word, 10 bits suffix
        words = self.inverse_cdf[draws & ((1 << 18) - 1)]
        suffix = self.suffix_lut[draws >> 18]  # int32
        ends = np.cumsum(counts) - 1
        ending = np.where(titles, 6, np.where(rng.random(counts.size) < 0.04, 7, 5))
        suffix[ends] = ending
        capital = np.empty(total, dtype=np.int32)
        capital[1:] = (suffix[:-1] >= _SENTENCE_END[0]) & (suffix[:-1] <= _SENTENCE_END[-1])
        capital[ends[:-1] + 1] = 1
        capital[0] = 1
        tokens = words + _WORDS * (2 * suffix + capital)
        lines = "".join(self.tokens[tokens].tolist()).split("\n")
        lines.pop()  # after the last line end
        return lines


_VOCABULARIES: dict[int, _Vocabulary] = {}


def _vocabulary_for(seed: int) -> _Vocabulary:
    if seed not in _VOCABULARIES:
        _VOCABULARIES.clear()
        _VOCABULARIES[seed] = _Vocabulary(seed)
    return _VOCABULARIES[seed]


def _pick(rnd: random.Random, seq: Sequence[_T]) -> _T:
    """A uniformly chosen element of `seq` (random.choice is ~3x slower on this hot path)."""
    return seq[int(rnd.random() * len(seq))]


def _below(rnd: random.Random, n: int) -> int:
    """A uniform integer in [0, n)."""
    return int(rnd.random() * n)


def _between(rnd: random.Random, low: int, high: int) -> int:
    """A uniform integer in [low, high]."""
    return low + int(rnd.random() * (high - low + 1))


_CONTRACTIONS = ("don\u2019t", "it\u2019s", "I\u2019m", "can\u2019t", "we\u2019re", "you\u2019ll",
                 "isn\u2019t", "that\u2019s", "didn\u2019t", "won\u2019t", "I\u2019ve", "let\u2019s")
_ACCENT_LETTERS = "éèêëàáâäçíìîïñóòôöúùûüýøåæœłśźżčšžřěőűășțğı"
_HEAVY = {"a": "áàâäãåą", "e": "éèêëěę", "i": "íìîï", "o": "óòôöőø", "u": "úùûüůű",
          "c": "čćç", "s": "šś", "z": "žźż", "r": "ř", "n": "ňñń", "l": "ł", "t": "ťț", "d": "ď"}
_NAMES = ("José", "François", "Müller", "Zürich", "São Paulo", "Dvořák", "Łódź", "Gödel",
          "Ångström", "Škoda", "Málaga", "Côte", "Béla", "Håkon", "Ibáñez", "Renée", "Chloé")
_OTHER_SYMBOLS = ("\u2026", "\u2022", "\u00a9", "\u00ae", "\u2122", "\u00b0", "\u20ac", "\u00a3",
                  "\u00bd", "\u2192", "\u00b7", "\u2605", "\U0001f600", "\u00b1")
_ENTITIES = ("&amp;", "&quot;", "&#39;", "&nbsp;", "&lt;", "&gt;", "&#8217;")
_LICENCE = (
    "Copyright (c) {year} {name} and contributors. All rights reserved.",
    "Licensed under the Apache License, Version 2.0 (the \"License\");",
    "you may not use this file except in compliance with the License.",
    "Unless required by applicable law or agreed to in writing, software",
    "distributed under the License is distributed on an \"AS IS\" BASIS.",
)
_CODE_LINES = (
    "def {a}({b}, {c}):", "{a} = {b}({c}, {n})", "if {a} < {n}:", "return {a}.{b}({c})",
    "# {w}", "// {w}", "for (int {a} = 0; {a} < {b}; {a}++) {{", "#include <{a}.h>", "}}", "",
    "const {a} = require('{b}');", "self.{a} = {b}", "{a}.{b}({c}, \"{w}\")", "}} else {{",
    "<div class=\"{a}\">{w}</div>", "while ({a} != NULL) {{", "import {a}", "from {a} import {b}",
    "{a}: {b} = {n}", "    \"\"\"{w}\"\"\"", "raise ValueError(\"{w}\")", "public {a} {b}() {{",
)
_CODE_TEMPLATES = tuple(
    (t, bool(t) and not t.startswith(("#include", "import", "from", "def", "public"))) for t in _CODE_LINES)
_MATH = ("$x_{i}$", "$\\alpha$", "$\\mathcal{O}(n^2)$", "$f(x)$", "$\\beta_{1}$", "$k$", "$N=128$",
         "\\cite{ref%d}", "\\ref{fig:%d}", "$\\sum_{i=1}^{n} x_i$", "(\\ref{eq:%d})", "$\\epsilon$")


class _Materials:
    """Seeded pools of planted words: accented, accent-heavy, CJK, Cyrillic; code identifiers."""

    def __init__(self, vocabulary: _Vocabulary, seed: int) -> None:
        rnd = random.Random(f"materials/{seed}")
        plain = [w for w in vocabulary.words[200:6000] if w.isalpha() and len(w) > 3]
        self.accented = list(_NAMES)
        self.heavy = []
        for word in plain[:3000]:
            vowels = [i for i, ch in enumerate(word) if ch in "aeiouyc"]
            i = _pick(rnd, vowels) if vowels else 0
            self.accented.append(word[:i] + _pick(rnd, _ACCENT_LETTERS) + word[i + 1 :])
            heavy = "".join(_pick(rnd, _HEAVY[ch]) if ch in _HEAVY and rnd.random() < 0.8
                            else ch for ch in word)
            self.heavy.append(heavy)
        self.cjk = ["".join(chr(_between(rnd, 0x4E00, 0x9FA4)) for _ in range(_between(rnd, 2, 4)))
                    for _ in range(1500)]
        self.cjk += ["".join(chr(_between(rnd, 0x3041, 0x3093)) for _ in range(_between(rnd, 2, 5)))
                     for _ in range(300)]
        cyrillic = "абвгдежзийклмнопрстуфхцчшщыьэюяабвгдеиклмнопрст"
        self.cyrillic = ["".join(_pick(rnd, cyrillic) for _ in range(_between(rnd, 2, 10)))
                         for _ in range(3000)]
        self.identifiers = []
        for _ in range(3000):
            a, b = _pick(rnd, plain), _pick(rnd, plain)
            style = rnd.random()
            self.identifiers.append(a if style < 0.3 else f"{a}_{b}" if style < 0.7
                                    else a + b.capitalize())
        self.plain = plain
        self.code: list[str] = []  # filled by _materials_for (`_code_pool` needs the identifiers)
        self.code_bytes = np.zeros(0, dtype=np.int64)


def _script_word(word: str, pool: list[str], rnd: random.Random) -> str:
    """`word` written in another script, keeping its trailing punctuation and capital."""
    stem = word.rstrip(".,?:;")
    other = _pick(rnd, pool)
    return (other.capitalize() if stem[:1].isupper() else other) + word[len(stem) :]


def _plant_line(line: str, feature: str, items: int, full: bool, materials: _Materials,
                rnd: random.Random, heavy: bool) -> str:
    """`line` with `items` instances of `feature` planted (or wholly in its script if `full`)."""
    words = line.split(" ")
    if feature in ("cjk", "cyrillic") and full:
        pool = materials.cjk if feature == "cjk" else materials.cyrillic
        return " ".join(_script_word(w, pool, rnd) for w in words)
    if feature == "latin_accents" and heavy and full:
        words = [_script_word(w, materials.heavy, rnd) if w[:1].isalpha() else w for w in words]
        words.insert(_below(rnd, len(words) + 1), _pick(rnd, materials.accented))
        return " ".join(words)
    for _ in range(items):
        n = len(words)
        i = _below(rnd, n)
        if not words[i]:  # an empty word between indentation spaces: use the last word
            i = n - 1
        if feature == "curly_quotes":
            kind = rnd.random()
            if kind < 0.4:
                words.insert(i, _pick(rnd, _CONTRACTIONS))
            elif kind < 0.6 and words[i][-1:].isalpha():
                words[i] += "\u2019s"
            else:
                j = min(n - 1, i + _between(rnd, 0, 5))
                left, right = ("\u201c", "\u201d") if kind < 0.9 else ("\u2018", "\u2019")
                words[i] = left + words[i]
                words[j] = words[j] + right
        elif feature == "dash":
            kind = rnd.random()
            if kind < 0.5:
                words.insert(i, "\u2014" if kind < 0.3 else "\u2013")
            else:
                start = _between(rnd, 1900, 2020)
                words.insert(i, f"{start}\u2013{start + _between(rnd, 1, 9)}")
        elif feature == "latin_accents":
            words.insert(i, _pick(rnd, materials.heavy if heavy else materials.accented))
        elif feature in ("cjk", "cyrillic"):
            words.insert(i, _pick(rnd, materials.cjk if feature == "cjk" else materials.cyrillic))
        elif feature == "nbsp":
            if n > 1 and i < n - 1:
                words[i] = words[i] + "\u00a0" + words.pop(i + 1)
            else:
                words.insert(i, f"{_between(rnd, 2, 99)}\u00a0km")
        elif feature == "other":
            words.insert(i, _pick(rnd, _OTHER_SYMBOLS))
        elif feature == "html_entity":
            words.insert(i, _pick(rnd, _ENTITIES))
    return " ".join(words)


def _mojibake(text: str) -> str:
    """UTF-8 bytes of `text` decoded as Windows-1252 (Latin-1 where 1252 has holes)."""
    data = text.encode("utf-8")
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


class _DocumentPlan:
    """Per-document draws for one source: target bytes and which features to plant."""

    def __init__(self, source: str, budget: int, np_rng: np.random.Generator) -> None:
        target, shape = TARGET_PROFILE[source], _SHAPES[source]
        mean = target["mean_kb"] * 1000 / shape.overhead
        p_any = target["any_non_ascii"]
        ascii_size = (1 - p_any * shape.non_ascii_size) / (1 - p_any)
        chunks, total = [], 0
        while total < budget:  # lognormal sizes with the source's mean, until the budget is met
            n = max(16, int(2 * (budget - total) / mean))
            any_flag = np_rng.random(n) < p_any
            sizes = np_rng.lognormal(np.log(mean) - shape.sigma**2 / 2, shape.sigma, n)
            sizes *= np.where(any_flag, shape.non_ascii_size, ascii_size)
            sizes = np.clip(sizes, 120, 40 * mean)
            chunks.append((sizes, any_flag))
            total += float(sizes.sum())
        sizes = np.concatenate([c[0] for c in chunks])
        self.any = np.concatenate([c[1] for c in chunks])
        ends = np.cumsum(sizes)
        count = int(np.searchsorted(ends, budget)) + 1
        sizes, self.any = sizes[:count], self.any[:count]
        sizes[-1] -= ends[count - 1] - budget  # the last document fills the budget exactly
        if count > 1 and sizes[-1] < 120:
            sizes, self.any = sizes[:-1], self.any[:-1]
            count -= 1
        self.sizes = np.maximum(sizes, 60).astype(np.int64)
        self.features = np.zeros((count, len(_FEATURES)), dtype=bool)
        for j, feature in enumerate(_FEATURES):
            rate = target[feature] - (target["mojibake"] if feature == "latin_accents" else 0)
            self.features[:, j] = self.any & (np_rng.random(count) < rate / p_any)
        self.html = np_rng.random(count) < target["html_entity"]
        self.mojibake = self.any & (np_rng.random(count) < target["mojibake"] / p_any)
        self.minor = np_rng.random((count, 4)) < _MINOR_FTFY_RATE  # width, ligature, control, CRLF

    def __len__(self) -> int:
        return int(self.sizes.size)


_MATERIALS: dict[int, _Materials] = {}


def _materials_for(seed: int) -> _Materials:
    if seed not in _MATERIALS:
        _MATERIALS.clear()
        materials = _Materials(_vocabulary_for(seed), seed)
        materials.code = _code_pool(_CODE_POOL_BYTES, random.Random(f"code/{seed}"), materials)
        materials.code_bytes = np.array([len(line) + 1 for line in materials.code], dtype=np.int64)
        _MATERIALS[seed] = materials
    return _MATERIALS[seed]


_CODE_POOL_BYTES = 1_500_000
"""Code lines generated once per seed; GitHub files draw lines from them (two 9 KB files share
about two lines)."""


def _code_pool(total_bytes: int, rnd: random.Random, materials: _Materials) -> list[str]:
    """Code-like lines (identifiers, calls, comments, includes, indentation) of >= total_bytes."""
    lines, size = [], 0
    ids, words = materials.identifiers, materials.plain
    indents = ("", "    ", "    ", "        ", "        ", "            ")
    while size < total_bytes:
        template, indented = _pick(rnd, _CODE_TEMPLATES)
        fields = {"a": _pick(rnd, ids), "b": _pick(rnd, ids), "c": _pick(rnd, ids),
                  "n": _below(rnd, 4096)}
        if "{w}" in template:
            fields["w"] = " ".join(rnd.choices(words, k=_between(rnd, 3, 9)))
        line = template.format(**fields)
        if indented:
            line = _pick(rnd, indents) + line
        lines.append(line)
        size += len(line) + 1
    return lines


def _code_lines(total_bytes: int, np_rng: np.random.Generator, materials: _Materials) -> list[str]:
    """Lines drawn at random from the seed's code pool, >= total_bytes in all."""
    pool, line_bytes = materials.code, materials.code_bytes
    lines: list[str] = []
    while total_bytes > 0:
        picks = np_rng.integers(0, len(pool), int(total_bytes / line_bytes.mean()) + 16)
        ends = np.cumsum(line_bytes[picks])
        cut = int(np.searchsorted(ends, total_bytes)) + 1
        lines += [pool[i] for i in picks[:cut].tolist()]
        total_bytes -= int(ends[min(cut, ends.size) - 1])
    return lines


def _prose_lines(total_bytes: int, shape: _Shape, vocabulary: _Vocabulary,
                 np_rng: np.random.Generator) -> list[str]:
    """ASCII prose lines of the source's shape, >= total_bytes in all."""
    lines: list[str] = []
    size = 0
    while size < total_bytes:
        n = int((total_bytes - size) / (shape.line_tokens * 6.0)) + 64
        counts = np_rng.lognormal(np.log(shape.line_tokens) - shape.line_sigma**2 / 2,
                                  shape.line_sigma, n)
        titles = np_rng.random(n) < shape.title_share
        counts = np.where(titles, counts // 5 + 1, counts + 1)
        more = vocabulary.lines(np_rng, counts, titles)
        lines.extend(more)
        size += sum(map(len, more)) + len(more)
    return lines


def _compose(source: str, body: list[str], rnd: random.Random, materials: _Materials,
             markup: bool) -> list[str]:
    """A document's lines ("" = blank line) in its source's layout around the body lines;
    `markup`: a GitHub file that will hold HTML entities (it mostly starts with a '<' line, so
    ftfy leaves its entities alone, as on real code)."""
    if source in ("common_crawl", "c4"):
        return body
    if source == "github":
        if markup and rnd.random() < 0.95:
            body = [_pick(rnd, ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>", "#include <stdio.h>",
                                "<!DOCTYPE html>")), *body]
        if rnd.random() < 0.35:
            mark = _pick(rnd, ("# ", "// ", " * "))
            header = [mark + line.format(year=_between(rnd, 1998, 2023), name=_pick(rnd, materials.plain).capitalize())
                      for line in _LICENCE]
            return header + [""] + body
        return body
    if source == "wikipedia":
        out = [body[0].rstrip(".?").title(), ""]
        for line in body[1:]:
            out += [line, ""]
        return out[:-1] if len(out) > 2 else out
    if source == "stackexchange":  # title, question paragraphs, answer paragraphs (>= 1)
        rest = body[1:]
        answer = len(rest) // 2
        out = ["Q:", "", body[0].rstrip(".") + "?", ""]
        for k, line in enumerate(rest or body):
            if k == answer:
                out += ["A:", ""]
            out += [line, ""]
            if rnd.random() < 0.15:  # a code block: a few consecutive lines of the code pool
                first = _below(rnd, len(materials.code) - 8)
                out += ["    " + c for c in materials.code[first : first + _between(rnd, 2, 8)]] + [""]
        return out[:-1]
    if source == "arxiv":
        out = ["\\section{Introduction}", ""]
        for line in body:
            if rnd.random() < 0.4:
                words = line.split(" ")
                math = _pick(rnd, _MATH)
                words.insert(_below(rnd, len(words) + 1), math % _between(rnd, 1, 40) if "%d" in math else math)
                line = " ".join(words)
            out.append(line)
            roll = rnd.random()
            if roll < 0.04:
                out += ["\\begin{equation}", f"  {_pick(rnd, _MATH)} = \\int_0^1 f(x)\\,dx", "\\end{equation}"]
            elif roll < 0.15:
                out.append("")
            elif roll < 0.16:
                out += ["", f"\\section{{{_pick(rnd, materials.plain).capitalize()}}}", ""]
        return out
    # book: hard-wrapped lines, blank lines between paragraphs, chapters
    out = [body[0].rstrip(".").upper(), "", "CHAPTER I", ""]
    chapter = 1
    for line in body[1:]:
        out.append(line)
        roll = rnd.random()
        if roll < 0.002:
            chapter += 1
            out += ["", f"CHAPTER {chapter}", ""]
        elif roll < 0.12:
            out.append("")
    return out


def _bernoulli_subset(items: list[int], rate: float, rnd: random.Random) -> list[int]:
    """Each item kept with probability `rate` (geometric gaps: one draw per kept item)."""
    if rate >= 1.0:
        return list(items)
    log_miss = math.log1p(-rate)
    kept, position = [], -1
    while True:
        position += 1 + int(math.log(1.0 - rnd.random()) / log_miss)
        if position >= len(items):
            return kept
        kept.append(items[position])


def _plant(lines: list[str], plan: _DocumentPlan, doc: int, source: str, rnd: random.Random,
           materials: _Materials) -> None:
    """Plant the document's drawn features into `lines` (in place)."""
    shape = _SHAPES[source]
    width, ligature, control, _ = plan.minor[doc].tolist()
    if not (plan.any[doc] or plan.html[doc] or control):
        return
    candidates = [k for k, line in enumerate(lines) if " " in line]  # mostly >= 2 words
    if not candidates:
        candidates = [k for k, line in enumerate(lines) if line and not line.isspace()]
    features = [f for f, on in zip(_FEATURES, plan.features[doc].tolist(), strict=True) if on]
    if plan.any[doc] and not features:
        features = ["other"]
    script = next((f for f in ("cyrillic", "cjk") if f in features), None)
    script_doc = script is not None and shape.script_full >= 1.0
    if features:
        hot_rate = shape.script_hot if script else shape.hot_lines
        hot = _bernoulli_subset(candidates, hot_rate, rnd)
        if len(hot) < len(features):
            hot = sorted(set(hot) | set(rnd.sample(candidates, min(len(candidates), len(features)))))
        rnd.shuffle(hot)
        plants = [(k, features[j] if j < len(features) else script if script_doc
                   else _pick(rnd, features), rnd.random() < shape.script_full)
                  for j, k in enumerate(hot)]
        # fewer lines than features: the rest go on top of planted lines, never wholly rewritten
        plants += [(_pick(rnd, hot), feature, False) for feature in features[len(hot) :]]
        for k, feature, full in plants:
            items = 1 + (int(rnd.expovariate(1 / shape.extra)) if shape.extra else 0)
            lines[k] = _plant_line(lines[k], feature, items, full, materials, rnd, shape.accent_heavy)
    if plan.html[doc]:
        for _ in range(_between(rnd, 1, 3)):
            k = _pick(rnd, candidates)
            lines[k] = _plant_line(lines[k], "html_entity", 1, False, materials, rnd, False)
    if plan.mojibake[doc]:
        k = _pick(rnd, candidates)
        feature = _pick(rnd, ("curly_quotes", "latin_accents"))
        lines[k] = _mojibake(_plant_line(lines[k], feature, 2, False, materials, rnd, False))
    if plan.any[doc] and width:
        k = _pick(rnd, candidates)
        lines[k] = "".join(chr(ord(c) + 0xFEE0) if c.isalpha() else c for c in lines[k][:12]) + lines[k][12:]
    if plan.any[doc] and ligature:
        k = _pick(rnd, candidates)
        lines[k] = lines[k].replace("fi", "\ufb01", 1) if "fi" in lines[k] else lines[k] + " \ufb01le"
    if control:
        k = _pick(rnd, candidates)
        lines[k] = lines[k] + "\x07"


def source_documents(source: str, budget: int, seed: int) -> list[str]:
    """The documents of one source, about `budget` UTF-8 bytes in all (document sizes are drawn to
    fill `budget` exactly, divided by the source's measured layout overhead)."""
    index = SOURCES.index(source)
    np_rng = np.random.default_rng([seed, index, 1])
    rnd = random.Random(f"{seed}/{source}")
    vocabulary, materials = _vocabulary_for(seed), _materials_for(seed)
    plan = _DocumentPlan(source, budget, np_rng)
    shape = _SHAPES[source]
    targets = np.cumsum(plan.sizes)
    slack = int(targets[-1]) + 2 * len(plan) * (shape.line_tokens * 7 + 60)
    pool = (_code_lines(slack, np_rng, materials) if source == "github"
            else _prose_lines(slack, shape, vocabulary, np_rng))
    line_ends = np.cumsum(np.fromiter(map(len, pool), dtype=np.int64, count=len(pool)) + 1)
    half_line = line_ends[-1] / len(pool) / 2  # cut at the nearest line end: sizes unbiased
    bounds = np.searchsorted(line_ends, targets - half_line) + 1
    steps = np.arange(bounds.size)
    bounds = np.maximum.accumulate(bounds - steps) + steps  # every document gets >= 1 line
    docs = []
    start = 0
    for doc, stop in enumerate(bounds.tolist()):
        lines = _compose(source, pool[start:stop], rnd, materials, bool(plan.html[doc]))
        _plant(lines, plan, doc, source, rnd, materials)
        docs.append(("\r\n" if plan.minor[doc, 3] else "\n").join(lines))
        start = stop
    return docs


def realistic_corpus(mb: float, seed: int = 0) -> dict[str, list[str]]:
    """Documents per RedPajama folder name, about `mb` MB (10^6 UTF-8 bytes) in all, split in
    RedPajama-1T byte shares, each source shaped like the real one (`TARGET_PROFILE`: sizes,
    non-ASCII features per document/line/character, what ftfy changes, mojibake). Deterministic
    for a given (mb, seed) and numpy version."""
    return {source: source_documents(source, int(round(mb * 1e6 * BYTE_SHARES[source])), seed)
            if mb * 1e6 * BYTE_SHARES[source] >= 1 else []
            for source in SOURCES}


_COMPILED = {name: re.compile(pattern) for name, pattern in _FEATURE_PATTERNS.items()}
_MOJIBAKE_HINT = re.compile("[\u00c2\u00c3\u00c5\u00e2][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013-\u203a\u20ac\u2122]")


_FTFY_SAFE_LINE = re.compile("[\t\n\x20-\x25\x27-\x7e]*")
"""A line ftfy.fix_text leaves alone: printable ASCII without '&' (no entity, control character,
CR, or anything to re-decode, normalize, widen or uncurl)."""


def ftfy_changes(text: str) -> bool:
    """Whether `ftfy.fix_text(text, normalization="NFC")` changes `text`, computed exactly the way
    fix_text works (line by line, HTML unescaping off from the first line holding '<' on) but
    running ftfy only on the lines that are not plain ASCII without '&'."""
    import ftfy

    if _FTFY_SAFE_LINE.fullmatch(text):
        return False
    markup = False
    segments = text.split("\n")
    for number, segment in enumerate(segments):
        markup = markup or "<" in segment
        if _FTFY_SAFE_LINE.fullmatch(segment):
            continue
        if number < len(segments) - 1:
            segment += "\n"  # fix_text's segments keep their line break
        fixed = ftfy.fix_text(segment, normalization="NFC", unescape_html=False if markup else "auto")
        if fixed != segment:
            return True
    return False


def corpus_profile(corpus: dict[str, list[str]], ftfy_sample_bytes: int | None = None,
                   ) -> dict[str, dict[str, float]]:
    """The `TARGET_PROFILE` columns measured per source. Lines are the non-blank lines; characters
    are code points; `ftfy_changed` (`ftfy_changes`) on every document, or on an evenly strided
    sample of about `ftfy_sample_bytes` per source (at least one document); `mojibake` on every
    document that has a mojibake-looking pair of characters."""
    import ftfy

    profile = {}
    for source, docs in corpus.items():
        if not docs:
            continue
        counts = dict.fromkeys(_FEATURE_PATTERNS, 0)
        any_docs = lines = hot_lines = chars = non_ascii = mojibake = 0
        total_bytes = 0
        for text in docs:
            total_bytes += len(text.encode("utf-8"))
            chars += len(text)
            counts["html_entity"] += "&" in text and _COMPILED["html_entity"].search(text) is not None
            rows = [row for row in text.split("\n") if row.strip()]
            lines += len(rows)
            if text.isascii():
                continue
            any_docs += 1
            non_ascii += len(text) - len(text.encode("ascii", "ignore"))
            hot_lines += sum(not row.isascii() for row in rows)
            for name in _FEATURES:
                counts[name] += _COMPILED[name].search(text) is not None
            if _MOJIBAKE_HINT.search(text) and ftfy.fix_encoding(text) != text:
                mojibake += 1
        stride = max(1, int(total_bytes // ftfy_sample_bytes)) if ftfy_sample_bytes else 1
        sample = docs[::stride]
        changed = sum(map(ftfy_changes, sample))
        n = len(docs)
        profile[source] = {
            "docs": n,
            "mean_kb": total_bytes / n / 1000,
            "any_non_ascii": any_docs / n,
            **{name: counts[name] / n for name in _FEATURE_PATTERNS},
            "non_ascii_lines": hot_lines / max(lines, 1),
            "non_ascii_chars": non_ascii / max(chars, 1),
            "ftfy_changed": changed / len(sample),
            "ftfy_sample_docs": len(sample),
            "mojibake": mojibake / n,
        }
    return profile


def format_profile(measured: dict[str, dict[str, float]]) -> str:
    """A table: per source, each column as `measured/target`."""
    columns = (*PROFILE_COLUMNS, "ftfy_changed", "mojibake")
    short = {"mean_kb": "KB", "any_non_ascii": "any", "curly_quotes": "curly", "latin_accents": "accents",
             "html_entity": "html", "non_ascii_lines": "lines", "non_ascii_chars": "chars",
             "ftfy_changed": "ftfy", "mojibake": "moji", "cyrillic": "cyr"}
    header = f"{'source (measured/target)':24s} {'docs':>6s} " + " ".join(
        f"{short.get(c, c):>13s}" for c in columns)
    rows = [header]
    for source, values in measured.items():
        target = TARGET_PROFILE[source]
        cells = []
        for column in columns:
            digits = 1 if column == "mean_kb" else 4 if column in ("non_ascii_chars", "non_ascii_lines") else 3
            cells.append(f"{values[column]:.{digits}f}/{target[column]:g}".rjust(13))
        rows.append(f"{source:24s} {int(values['docs']):6d} " + " ".join(cells))
    return "\n".join(rows)


def flat_documents(corpus: dict[str, list[str]]) -> list[tuple[str, str]]:
    """(folder, text) of every document, sources interleaved in a fixed order (the i-th document
    of each source, then the (i+1)-th, ...), so any prefix or stride sample holds every source."""
    lists = [[(source, text) for text in corpus[source]] for source in SOURCES if corpus.get(source)]
    longest = max((len(docs) for docs in lists), default=0)
    return [docs[i] for i in range(longest) for docs in lists if i < len(docs)]


def profile_record(corpus: dict[str, list[str]], label: str,
                   ftfy_sample_bytes: int | None = None) -> dict[str, dict]:
    """Measure `corpus`, print the profile next to `TARGET_PROFILE` (prefixed with `label`), and
    return {"measured": ..., "target": ...} for a benchmark's JSON."""
    measured = corpus_profile(corpus, ftfy_sample_bytes)
    print(f"[{label}] corpus profile, measured/target per source:")
    print(format_profile(measured))
    return {"measured": {s: {k: round(v, 5) for k, v in row.items()} for s, row in measured.items()},
            "target": {s: TARGET_PROFILE[s] for s in measured}}
