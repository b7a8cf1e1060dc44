"""GPT-2 token counting benchmark: `python -m slimpajama.bench.count [--mb MB] [--seed N] [--batch N]`.

Measures, per source of `slimpajama.bench.corpus.realistic_corpus(mb, seed)` and overall, MB (10^6
UTF-8 bytes) per CPU-second of tiktoken (`len(encode_to_numpy(text))` per document, what
`slimpajama.mix.counters.GPT2Counter` does) and of `slimpajama.io.gpt2_count.GPT2TokenCounter`, in
the same run: `count_tokens` on batches of `--batch` documents with a fresh counter (cold cache)
then again (warm cache), and `counter(text)` per document (warm). Encoding likewise: tiktoken's
`encode_ordinary` per document against `GPT2TokenEncoder.encode_batch` on the same batches, cold
then warm. Every count and every id is checked against tiktoken (`mismatches`, `encode_mismatches`
must be 0). Also records the counter's and the encoder's cache sizes and the process's peak RSS.
Writes bench/results/count.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from slimpajama.bench.corpus import realistic_corpus
from slimpajama.io.gpt2_count import GPT2TokenCounter, GPT2TokenEncoder
from slimpajama.io.tokenizer import gpt2_encoding

RESULTS = Path("bench/results")


def _timed(fn: Callable[..., np.ndarray], *args: object) -> tuple[float, np.ndarray]:
    start = time.process_time()
    result = fn(*args)
    return time.process_time() - start, result


def _tiktoken(encoding: object, texts: Sequence[str]) -> np.ndarray:
    encode = encoding.encode_to_numpy  # type: ignore[attr-defined]
    return np.array([len(encode(text)) for text in texts], dtype=np.int64)


def _batched(counter: GPT2TokenCounter, texts: Sequence[str], batch: int) -> np.ndarray:
    return np.concatenate([counter.count_tokens(texts[i : i + batch])
                           for i in range(0, len(texts), batch)])


def _tiktoken_ids(encoding: object, texts: Sequence[str]) -> list[list[int]]:
    encode = encoding.encode_ordinary  # type: ignore[attr-defined]
    return [encode(text) for text in texts]


def _encoded(encoder: GPT2TokenEncoder, texts: Sequence[str], batch: int) -> np.ndarray:
    """uint32 ids of all texts back to back, encoded in batches of `batch` texts."""
    return np.concatenate([encoder.encode_batch(texts[i : i + batch])[0]
                           for i in range(0, len(texts), batch)])


def _single(counter: GPT2TokenCounter, texts: Sequence[str]) -> np.ndarray:
    return np.array([counter(text) for text in texts], dtype=np.int64)


def main(argv: Sequence[str] | None = None) -> dict:
    """Run the benchmark; print and write bench/results/count.json; return the results."""
    parser = argparse.ArgumentParser(prog="python -m slimpajama.bench.count")
    parser.add_argument("--mb", type=float, default=20.0, help="corpus size, MB")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch", type=int, default=256, help="documents per count_tokens call")
    args = parser.parse_args(list(argv or []))
    corpus = realistic_corpus(args.mb, args.seed)
    encoding = gpt2_encoding()
    methods = ("tiktoken", "batch_cold", "batch_warm", "single_warm")
    encodes = ("encode_tiktoken", "encode_cold", "encode_warm")
    totals = dict.fromkeys(methods + encodes, 0.0)
    per_source: dict[str, dict] = {}
    total_mb, mismatches, encode_mismatches, cache_bytes, encoder_bytes = 0.0, 0, 0, 0, 0
    for source, texts in corpus.items():
        mb = sum(len(text.encode("utf-8")) for text in texts) / 1e6
        counter, encoder = GPT2TokenCounter(encoding), GPT2TokenEncoder(encoding)
        seconds, counts, ids = {}, {}, {}
        runs = dict(tiktoken=(_tiktoken, encoding, texts),
                    batch_cold=(_batched, counter, texts, args.batch),
                    batch_warm=(_batched, counter, texts, args.batch),
                    single_warm=(_single, counter, texts))
        for method, (fn, *fn_args) in runs.items():
            seconds[method], counts[method] = _timed(fn, *fn_args)
        wrong = sum(int(np.sum(counts[m] != counts["tiktoken"])) for m in methods[1:])
        encode_runs = dict(encode_tiktoken=(_tiktoken_ids, encoding, texts),
                           encode_cold=(_encoded, encoder, texts, args.batch),
                           encode_warm=(_encoded, encoder, texts, args.batch))
        for method, (fn, *fn_args) in encode_runs.items():
            seconds[method], ids[method] = _timed(fn, *fn_args)
        want = np.fromiter((i for text_ids in ids["encode_tiktoken"] for i in text_ids),
                           dtype=np.uint32)
        wrong_ids = sum(int(not np.array_equal(ids[m], want)) for m in encodes[1:])
        per_source[source] = dict(
            documents=len(texts), mb=round(mb, 3), tokens=int(counts["tiktoken"].sum()),
            **{f"{m}_mb_per_cpu_s": round(mb / seconds[m], 2) for m in methods},
            **{f"{m}_speedup": round(seconds["tiktoken"] / seconds[m], 2) for m in methods[1:]},
            mismatches=wrong,
            **{f"{m}_mb_per_cpu_s": round(mb / seconds[m], 2) for m in encodes},
            **{f"{m}_speedup": round(seconds["encode_tiktoken"] / seconds[m], 2)
               for m in encodes[1:]},
            encode_mismatches=wrong_ids,
        )
        print(f"[count] {source:14s} {per_source[source]}")
        for method in methods + encodes:
            totals[method] += seconds[method]
        total_mb += mb
        mismatches += wrong
        encode_mismatches += wrong_ids
        cache_bytes = max(cache_bytes, counter.cache_bytes())
        encoder_bytes = max(encoder_bytes, encoder.cache_bytes())
    overall = dict(
        mb=round(total_mb, 3),
        **{f"{m}_mb_per_cpu_s": round(total_mb / totals[m], 2) for m in methods},
        **{f"{m}_speedup": round(totals["tiktoken"] / totals[m], 2) for m in methods[1:]},
        mismatches=mismatches,
        cache_mb=round(cache_bytes / 1e6, 1),
        **{f"{m}_mb_per_cpu_s": round(total_mb / totals[m], 2) for m in encodes},
        **{f"{m}_speedup": round(totals["encode_tiktoken"] / totals[m], 2) for m in encodes[1:]},
        encode_mismatches=encode_mismatches,
        encoder_cache_mb=round(encoder_bytes / 1e6, 1),
        peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3, 1),
    )
    print(f"[count] overall {overall}")
    results = dict(benchmark="count", mb=args.mb, seed=args.seed, batch=args.batch,
                   per_source=per_source, overall=overall)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "count.json").write_text(json.dumps(results, indent=2) + "\n")
    return results


if __name__ == "__main__":
    main(__import__("sys").argv[1:])
