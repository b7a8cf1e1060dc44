"""MinHash benchmark: our schemes vs datasketch 2.0 on one realistic corpus, in one process.

`python -m slimpajama.bench minhash [--quick] [--mb N] [--peer-mb N] [--out PATH]`

- Corpus: `realistic_corpus(N MB)` (default 50 MB; RedPajama sources in their byte shares, each
  with the real non-ASCII profile, stored as `corpus.profile`); key texts are computed once,
  untimed for the signers, and timed separately (`key_text` row).
- Peers: datasketch `MinHash(128, seed=1, hashfunc=sha1_hash32, scheme="legacy")` (SlimPajama's
  signatures) and the default `scheme="affine32"`, each built once and `.copy()`-ed per document
  (their fastest documented use), fed with `update_batch` of the UTF-8 shingles built in Python.
  datasketch is slow, so peers run on a deterministic subsample (every k-th document, about
  `--peer-mb` MB); ours run on the whole corpus AND on that subsample. Ratios compare MB/s by CPU
  time: `vs_peer` = ours on the whole corpus / peer on the subsample, `same_texts` = ours on the
  subsample / peer on the subsample.
- MB = 10^6 UTF-8 bytes of the raw documents. CPU time = `time.process_time()` of this process
  (one core); wall = `time.perf_counter()`.
Writes bench/results/minhash.json (or --out) and prints a table.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from slimpajama.bench.corpus import flat_documents, mutated_pairs, profile_record, realistic_corpus
from slimpajama.core.jaccard import jaccard, shingle_hash_sets
from slimpajama.core.keytext import key_text
from slimpajama.core.lsh import band_keys
from slimpajama.core.minhash import MinHashParams, signatures

NUM_PERM = 128
SHINGLINGS = (("char", 13), ("word", 5))
TARGETS = (
    # (description, measured run, peer run or None, minimum)
    ("fast char-13 MB/s per core (CPU)", "fast char13", None, 15.0),
    (
        "fast char-13 / datasketch affine32 char-13",
        "fast char13",
        "datasketch-affine32 char13",
        20.0,
    ),
    ("fast word-5 MB/s per core (CPU)", "fast word5", None, 40.0),
    (
        "reference char-13 / datasketch legacy char-13",
        "reference char13",
        "datasketch-legacy char13",
        1.5,
    ),
)


def datasketch_signer(
    scheme: str, ngram: int, shingle: str
) -> Callable[[Sequence[str]], np.ndarray]:
    """A function signing key texts with datasketch the way SlimPajama did (per-document MinHash)."""
    from datasketch import MinHash
    from datasketch.hashfunc import sha1_hash32

    prototype = MinHash(num_perm=NUM_PERM, seed=1, hashfunc=sha1_hash32, scheme=scheme)

    def shingles(text: str) -> list[bytes]:
        if shingle == "char":
            return [text[i : i + ngram].encode("utf-8") for i in range(len(text) - ngram + 1)]
        words = text.split(" ")
        return [
            " ".join(words[i : i + ngram]).encode("utf-8") for i in range(len(words) - ngram + 1)
        ]

    def sign(texts: Sequence[str]) -> np.ndarray:
        out = np.empty((len(texts), NUM_PERM), dtype=np.uint32)
        for row, text in enumerate(texts):
            sketch = prototype.copy()
            sketch.update_batch(shingles(text))
            out[row] = sketch.hashvalues
        return out

    return sign


def timed(function: Callable[[], object]) -> tuple[object, float, float]:
    """(result, CPU seconds, wall seconds)."""
    cpu, wall = time.process_time(), time.perf_counter()
    result = function()
    return result, time.process_time() - cpu, time.perf_counter() - wall


def run_row(name: str, corpus: str, docs: int, mb: float, cpu: float, wall: float) -> dict:
    return {
        "name": name,
        "corpus": corpus,
        "docs": docs,
        "mb": round(mb, 3),
        "cpu_s": round(cpu, 3),
        "wall_s": round(wall, 3),
        "mb_per_s_cpu": round(mb / cpu, 3),
        "mb_per_s_wall": round(mb / wall, 3),
        "docs_per_s_cpu": round(docs / cpu, 1),
        "docs_per_s_wall": round(docs / wall, 1),
    }


def subsample(texts: Sequence[str], sizes: np.ndarray, mb: float) -> list[int]:
    """Every k-th document index, k chosen so the sample holds about `mb` MB."""
    step = max(1, int(round(sizes.sum() / 1e6 / mb)))
    return list(range(0, len(texts), step))


def accuracy(quick: bool) -> list[dict]:
    """Bias and RMSE of the fast scheme's Jaccard estimate on mutated pairs of known Jaccard."""
    rows = []
    for shingle, ngram, low, high, count, rate in (
        ("char", 13, 200, 1000, 2000, 0.04),
        ("char", 13, 2000, 6000, 600, 0.04),
        ("word", 5, 1000, 8000, 600, 0.1),
    ):
        count = count // 4 if quick else count
        first, second = mutated_pairs(count, low, high, seed=low, max_rate=rate)
        params = MinHashParams(num_perm=NUM_PERM, ngram=ngram, shingle=shingle)
        estimate = (signatures(first, params) == signatures(second, params)).mean(axis=1)
        sets = zip(
            shingle_hash_sets(first, ngram, shingle),
            shingle_hash_sets(second, ngram, shingle),
            strict=True,
        )
        exact = np.array([jaccard(a, b) for a, b in sets])
        error = estimate - exact
        rmse = float(np.sqrt(np.mean(error**2)))
        theory = float(np.sqrt(np.mean(exact * (1 - exact) / NUM_PERM)))
        rows.append(
            {
                "shingles": f"{shingle}{ngram}",
                "doc_chars": [low, high],
                "pairs": count,
                "mean_exact_jaccard": round(float(exact.mean()), 4),
                "mean_error": round(float(error.mean()), 5),
                "rmse": round(rmse, 5),
                "minhash_rmse_sqrt_J(1-J)/k": round(theory, 5),
                "rmse_ratio": round(rmse / theory, 3),
            }
        )
    return rows


def verification_speed(key_texts: Sequence[str]) -> dict:
    """Exact-Jaccard throughput on documents of >= 3,000 key-text characters."""
    long_texts = [t for t in key_texts if len(t) >= 3000][:2000]
    sets, cpu_sets, _ = timed(lambda: shingle_hash_sets(long_texts))
    pairs = list(zip(sets[:-1], sets[1:], strict=True))
    _, cpu_pairs, _ = timed(lambda: [jaccard(a, b) for a, b in pairs])
    return {
        "docs": len(long_texts),
        "mean_shingles_per_doc": round(float(np.mean([s.size for s in sets])), 1),
        "shingle_sets_docs_per_s_cpu": round(len(long_texts) / cpu_sets, 1),
        "jaccard_pairs_per_s_cpu": round(len(pairs) / cpu_pairs, 1),
    }


def main(argv: list[str]) -> dict:
    parser = argparse.ArgumentParser(prog="python -m slimpajama.bench minhash")
    parser.add_argument("--quick", action="store_true", help="small corpus, for smoke runs")
    parser.add_argument("--mb", type=float, default=None, help="corpus size in MB (default 50)")
    parser.add_argument(
        "--peer-mb", type=float, default=None, help="datasketch subsample MB (default 4)"
    )
    parser.add_argument("--out", default="bench/results/minhash.json")
    args = parser.parse_args(argv)
    corpus_mb = args.mb or (2.0 if args.quick else 50.0)
    peer_mb = args.peer_mb or (0.5 if args.quick else 4.0)

    generated, gen_cpu, _ = timed(lambda: realistic_corpus(corpus_mb))
    texts = [text for _, text in flat_documents(generated)]
    profile = profile_record(generated, "bench minhash")
    sizes = np.array([len(t.encode("utf-8")) for t in texts], dtype=np.int64)
    total_mb = sizes.sum() / 1e6
    keys, key_cpu, key_wall = timed(lambda: [key_text(t) for t in texts])
    sample = subsample(texts, sizes, peer_mb)
    sample_keys = [keys[i] for i in sample]
    sample_mb = sizes[sample].sum() / 1e6
    runs = [run_row("key_text", "full", len(texts), total_mb, key_cpu, key_wall)]

    bit_identical = {}
    for shingle, ngram in SHINGLINGS:
        label = f"{shingle}{ngram}"
        peer_signatures = {}
        for scheme in ("legacy", "affine32"):
            sign = datasketch_signer(scheme, ngram, shingle)
            result, cpu, wall = timed(lambda sign=sign: sign(sample_keys))
            peer_signatures[scheme] = result
            runs.append(
                run_row(
                    f"datasketch-{scheme} {label}", "subsample", len(sample), sample_mb, cpu, wall
                )
            )
        for scheme in ("fast", "reference", "affine32"):
            params = MinHashParams(scheme=scheme, num_perm=NUM_PERM, ngram=ngram, shingle=shingle)
            signatures(sample_keys[:8], params)  # warm-up: cached permutations and tables
            result, cpu, wall = timed(lambda params=params: signatures(sample_keys, params))
            runs.append(
                run_row(
                    f"{scheme} {label} (subsample)", "subsample", len(sample), sample_mb, cpu, wall
                )
            )
            if scheme != "fast":
                peer = peer_signatures["legacy" if scheme == "reference" else "affine32"]
                bit_identical[f"{scheme} {label}"] = bool(np.array_equal(result, peer))
            full, cpu, wall = timed(lambda params=params: signatures(keys, params))
            runs.append(run_row(f"{scheme} {label}", "full", len(texts), total_mb, cpu, wall))
            if scheme == "fast" and shingle == "char":
                _, band_cpu, band_wall = timed(lambda full=full: band_keys(full, 9, 13))
                runs.append(
                    run_row("band_keys 9x13", "full", len(texts), total_mb, band_cpu, band_wall)
                )

    by_name = {run["name"]: run for run in runs}
    ratios = {}
    for name, run in by_name.items():
        if run["corpus"] != "full" or name.split()[0] not in ("fast", "reference", "affine32"):
            continue
        label = name.split()[1]
        same = by_name[f"{name} (subsample)"]
        for peer in ("legacy", "affine32"):
            peer_run = by_name[f"datasketch-{peer} {label}"]
            ratios[f"{name} / datasketch-{peer}"] = {
                "vs_peer": round(run["mb_per_s_cpu"] / peer_run["mb_per_s_cpu"], 2),
                "same_texts": round(same["mb_per_s_cpu"] / peer_run["mb_per_s_cpu"], 2),
            }
    targets = []
    for description, measured, peer, minimum in TARGETS:
        value = by_name[measured]["mb_per_s_cpu"]
        if peer:
            value = round(value / by_name[peer]["mb_per_s_cpu"], 2)
        targets.append(
            {
                "target": description,
                "minimum": minimum,
                "measured": float(value),
                "met": bool(value >= minimum),
            }
        )

    result = {
        "benchmark": "minhash",
        "quick": args.quick,
        "num_perm": NUM_PERM,
        "machine": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "datasketch": __import__("datasketch").__version__,
            "cpu": platform.processor() or platform.machine(),
        },
        "corpus": {
            "docs": len(texts),
            "mb": round(total_mb, 3),
            "median_doc_bytes": int(np.median(sizes)),
            "max_doc_bytes": int(sizes.max()),
            "docs_over_100kb": int((sizes > 100_000).sum()),
            "non_ascii_docs": sum(not t.isascii() for t in texts),
            "generation_mb_per_s_cpu": round(total_mb / gen_cpu, 1),
            "generator": "bench.corpus.realistic_corpus, seed 0",
            "profile": profile,
        },
        "subsample": {
            "docs": len(sample),
            "mb": round(sample_mb, 3),
            "how": f"every {len(texts) // max(len(sample), 1)}-th document; datasketch peers run only here",
        },
        "notes": "MB = 1e6 UTF-8 bytes of raw documents; signers get precomputed key texts; "
        "ratios are CPU MB/s over CPU MB/s; datasketch MinHash built once, copied per document",
        "runs": runs,
        "ratios": ratios,
        "bit_identical_to_datasketch_on_subsample": bit_identical,
        "targets": targets,
        "fast_accuracy": accuracy(args.quick),
        "exact_jaccard": verification_speed(keys),
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print_table(result)
    print(f"[bench] minhash: wrote {out}")
    return result


def print_table(result: dict) -> None:
    corpus, sub = result["corpus"], result["subsample"]
    print(
        f"minhash: corpus {corpus['mb']} MB / {corpus['docs']} docs; datasketch on {sub['mb']} MB subsample"
    )
    print(f"{'run':36s} {'corpus':9s} {'MB/s cpu':>9s} {'MB/s wall':>9s} {'docs/s cpu':>11s}")
    for run in result["runs"]:
        print(
            f"{run['name']:36s} {run['corpus']:9s} {run['mb_per_s_cpu']:9.2f} "
            f"{run['mb_per_s_wall']:9.2f} {run['docs_per_s_cpu']:11.1f}"
        )
    for name, ratio in result["ratios"].items():
        print(f"ratio {name:50s} {ratio['vs_peer']:7.2f}x (same texts {ratio['same_texts']:.2f}x)")
    for target in result["targets"]:
        status = "MET" if target["met"] else "MISSED"
        print(
            f"target {target['target']:46s} >= {target['minimum']:<5} measured {target['measured']:<8} {status}"
        )
    for row in result["fast_accuracy"]:
        print(
            f"fast accuracy {row['shingles']} {row['doc_chars']}: bias {row['mean_error']:+.4f} "
            f"rmse {row['rmse']:.4f} vs MinHash {row['minhash_rmse_sqrt_J(1-J)/k']:.4f} (x{row['rmse_ratio']})"
        )
    print(f"bit-identical to datasketch: {result['bit_identical_to_datasketch_on_subsample']}")
    print(f"exact Jaccard: {result['exact_jaccard']}")
