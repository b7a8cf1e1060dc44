"""Normalization benchmark: `python -m slimpajama.bench normalize [--mb MB] [--seed N]`.

Measures, per source folder and for the RedPajama byte-share mix, MB (10^6 UTF-8 bytes of the raw text) per CPU-second
of `slimpajama.core.normalize.normalize_text` and of `ftfy.fix_text(text, normalization="NFC")`
in the same run, their ratio, the fraction of documents ftfy changes, and checks that both give
the same text for every document (`mismatches` must be 0). The corpus is
`slimpajama.bench.corpus.realistic_corpus` (RedPajama byte shares, each source with its measured
real-text profile: curly quotes, dashes, accents, CJK, Cyrillic, NBSP, HTML entities, mojibake),
whose profile is printed and stored too; a source whose share of `--mb` is under
`--min-source-mb` is measured on that many MB of its own documents instead. Writes
bench/results/normalize.json.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import ftfy

from slimpajama.bench.corpus import BYTE_SHARES, profile_record, realistic_corpus, source_documents
from slimpajama.core.normalize import normalize_text

RESULTS = Path("bench/results")


def _cpu_seconds(fn: Callable[[str], str], texts: Sequence[str]) -> tuple[float, list[str]]:
    start = time.process_time()
    out = [fn(t) for t in texts]
    return time.process_time() - start, out


def _reference(text: str) -> str:
    return ftfy.fix_text(text, normalization="NFC")


def main(argv: Sequence[str] | None = None) -> dict:
    """Run the benchmark; print and write bench/results/normalize.json; return the results."""
    parser = argparse.ArgumentParser(prog="python -m slimpajama.bench normalize")
    parser.add_argument("--mb", type=float, default=24.0, help="corpus size, MB")
    parser.add_argument("--min-source-mb", type=float, default=1.5,
                        help="a source under this share of --mb gets this many MB of its own")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(list(argv or []))
    corpus = realistic_corpus(args.mb, args.seed)
    topped_up = [s for s in corpus if BYTE_SHARES[s] * args.mb < args.min_source_mb]
    for source in topped_up:
        corpus[source] = source_documents(source, int(args.min_source_mb * 1e6), args.seed)
    profile = profile_record(corpus, "bench normalize")
    per_source = {}
    totals = dict(mb=0.0, fast_cpu_s=0.0, ftfy_cpu_s=0.0, documents=0, changed=0, mismatches=0)
    for source, texts in corpus.items():
        mb = sum(len(t.encode("utf-8", "surrogatepass")) for t in texts) / 1e6
        fast_s, fast = _cpu_seconds(normalize_text, texts)
        ftfy_s, reference = _cpu_seconds(_reference, texts)
        changed = sum(r != t for r, t in zip(reference, texts, strict=True))
        mismatches = sum(f != r for f, r in zip(fast, reference, strict=True))
        per_source[source] = dict(
            documents=len(texts), mb=round(mb, 3),
            fast_mb_per_cpu_s=round(mb / fast_s, 2), ftfy_mb_per_cpu_s=round(mb / ftfy_s, 2),
            speedup=round(ftfy_s / fast_s, 2), ftfy_changed_fraction=round(changed / len(texts), 4),
            mismatches=mismatches,
        )
        for key, value in (("mb", mb), ("fast_cpu_s", fast_s), ("ftfy_cpu_s", ftfy_s),
                           ("documents", len(texts)), ("changed", changed),
                           ("mismatches", mismatches)):
            totals[key] += value
        print(f"[normalize] {source:14s} {per_source[source]}")
    # the realistic mix: CPU-seconds per MB of each source weighted by its byte share
    fast_s_per_mb = sum(BYTE_SHARES[s] / per_source[s]["fast_mb_per_cpu_s"] for s in per_source)
    ftfy_s_per_mb = sum(BYTE_SHARES[s] / per_source[s]["ftfy_mb_per_cpu_s"] for s in per_source)
    overall = dict(
        documents=totals["documents"], mb=round(totals["mb"], 3),
        fast_mb_per_cpu_s=round(1 / fast_s_per_mb, 2), ftfy_mb_per_cpu_s=round(1 / ftfy_s_per_mb, 2),
        speedup=round(ftfy_s_per_mb / fast_s_per_mb, 2),
        ftfy_changed_fraction=round(totals["changed"] / totals["documents"], 4),
        mismatches=totals["mismatches"],
    )
    print(f"[normalize] {'overall':14s} {overall}")
    result = dict(
        benchmark="normalize", corpus="bench.corpus.realistic_corpus", corpus_mb=args.mb,
        seed=args.seed, topped_up_sources=topped_up, min_source_mb=args.min_source_mb,
        overall_is="RedPajama byte-share mix of the per-source rates; documents, mb and "
                   "ftfy_changed_fraction are over all measured documents",
        profile=profile,
        ftfy_version=ftfy.__version__, units="MB (10^6 UTF-8 bytes of raw text) per CPU-second",
        overall=overall, per_source=per_source,
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "normalize.json").write_text(json.dumps(result, indent=2) + "\n")
    return result
