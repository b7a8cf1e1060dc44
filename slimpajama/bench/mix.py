"""Benchmark `slimpajama mix`: peak RSS and wall time vs files-per-chunk and docs-per-file.

A realistic corpus (`bench.corpus.realistic_corpus`, 200 MB by default, `--quick` for 50 MB:
RedPajama sources in their byte shares, each with the real non-ASCII profile, printed and stored
next to the target) is written in the release layout, sources interleaved, then mixed to slimpajama-627b once per layout
configuration, each run in a fresh process (FnApiRunner, in-process) so its peak RSS is its own.
The peer, measured in the same run, is the reference's pass 2: one chunk loaded whole into RAM,
shuffled with `random.seed(42)` and written back; the floor is an empty FnApiRunner pipeline.
Writes bench/results/mix.json.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from slimpajama.core.sources import SET_NAMES

RESULTS = Path("bench/results/mix.json")
LAYOUTS = ((1, 100), (1000, 100), (1000, 1000), (1000, 100_000))
"""(files_per_chunk, docs_per_file) per run: chunk size from 100 documents to the whole output."""
INPUT_FILES = 8


def write_corpus(root: Path, total_bytes: int) -> tuple[int, int, dict]:
    """Release-layout input of about `total_bytes` text bytes (RedPajama byte shares, so CC is
    over-represented vs slimpajama-627b and the rest under); returns (documents, text bytes,
    profile record)."""
    from slimpajama.bench.corpus import flat_documents, profile_record, realistic_corpus
    from slimpajama.io.release import encode_record, release_relpath, write_release_file

    generated = realistic_corpus(total_bytes / 1e6, seed=0)
    profile = profile_record(generated, "bench mix")
    docs = flat_documents(generated)
    for f in range(INPUT_FILES):
        lines = (encode_record(docs[i][1], SET_NAMES[docs[i][0]], {"i": i})
                 for i in range(f, len(docs), INPUT_FILES))
        write_release_file(str(root / release_relpath("train", 1, f)), lines)
    return len(docs), sum(len(text.encode()) for _, text in docs), profile


def peak_rss_mb() -> float:
    """This process's peak resident set size in MiB: VmHWM, which exec resets (ru_maxrss does not:
    a child would report its parent's peak), else ru_maxrss."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def mix_once(spec: dict[str, Any]) -> dict[str, Any]:
    """One mix run (in the child process)."""
    from slimpajama.core.mixture import load_mixture
    from slimpajama.mix.config import MixConfig
    from slimpajama.mix.run import run_mix

    config = MixConfig(load_mixture("slimpajama-627b"), counter=spec["counter"],
                       files_per_chunk=spec["files_per_chunk"], docs_per_file=spec["docs_per_file"])
    start = time.perf_counter()
    report = run_mix(spec["input"], spec["output"], config)
    return {"seconds": time.perf_counter() - start, "files": report["files"],
            "mix_docs": report["totals"]["mix"]["docs"],
            "removed": report["decontamination"]["removed"]}


def reference_shuffle(spec: dict[str, Any]) -> dict[str, Any]:
    """The reference's pass 2 on the whole input as one chunk (in the child process)."""
    from slimpajama.io.release import list_release_files, read_release_file, write_release_file

    start = time.perf_counter()
    docs = [record for path in list_release_files(spec["input"], "train")
            for record in read_release_file(path)]
    random.seed(42)
    random.shuffle(docs)
    lines = ((json.dumps(d, ensure_ascii=False) + "\n").encode() for d in docs)
    write_release_file(str(Path(spec["output"]) / "shuffled.jsonl.zst"), lines)
    return {"seconds": time.perf_counter() - start, "docs": len(docs)}


def empty_pipeline(spec: dict[str, Any]) -> dict[str, Any]:
    """The floor: Beam imported and a two-element FnApiRunner pipeline run (in the child)."""
    import apache_beam as beam

    from slimpajama.io.beam_options import pipeline_options

    with beam.Pipeline(options=pipeline_options()) as pipeline:
        _ = pipeline | beam.Create([1, 2]) | beam.Map(abs)
    return {}


CHILDREN = {"mix": mix_once, "reference": reference_shuffle, "base": empty_pipeline}


def child(kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    """Run `kind` in a fresh interpreter; returns its result with its peak RSS."""
    done = subprocess.run([sys.executable, "-m", "slimpajama.bench.mix", "--child", kind,
                           json.dumps(spec)], check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> dict[str, Any]:
    """Run the benchmark (see module doc); returns and writes the results."""
    parser = argparse.ArgumentParser(prog="python -m slimpajama.bench mix")
    parser.add_argument("--mb", type=float, default=200.0, help="corpus size in MB of text [200]")
    parser.add_argument("--quick", action="store_true", help="a 50 MB corpus, for a smoke run")
    parser.add_argument("--counter", choices=("bytes", "gpt2"), default="bytes")
    parser.add_argument("--output", default=str(RESULTS))
    parser.add_argument("--child", nargs=2, metavar=("KIND", "SPEC"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        kind, spec = args.child[0], json.loads(args.child[1])
        result = CHILDREN[kind](spec)
        print(json.dumps({**result, "peak_rss_mb": round(peak_rss_mb(), 1)}))
        return result
    total_bytes = int((50.0 if args.quick else args.mb) * 1e6)
    with tempfile.TemporaryDirectory(prefix="bench-mix-") as tmp:
        root = Path(tmp)
        docs, text_bytes, profile = write_corpus(root / "sp", total_bytes)
        runs = []
        for n, (files_per_chunk, docs_per_file) in enumerate(LAYOUTS):
            spec = {"input": str(root / "sp"), "output": str(root / f"mix{n}"),
                    "counter": args.counter, "files_per_chunk": files_per_chunk,
                    "docs_per_file": docs_per_file}
            runs.append({"files_per_chunk": files_per_chunk, "docs_per_file": docs_per_file,
                         **child("mix", spec)})
            print(f"[bench mix] {runs[-1]}", flush=True)
        peer = child("reference", {"input": str(root / "sp"), "output": str(root / "ref")})
    base = child("base", {})["peak_rss_mb"]
    rss = [run["peak_rss_mb"] for run in runs]
    results = {
        "corpus": {"docs": docs, "text_mb": round(text_bytes / 1e6, 1), "input_files": INPUT_FILES,
                   "mixture": "slimpajama-627b", "counter": args.counter, "runner": "FnApiRunner",
                   "generator": "bench.corpus.realistic_corpus, seed 0", "profile": profile},
        "runs": runs,
        "peer_reference_chunk_in_ram": peer,
        "peak_rss_spread": round(max(rss) / min(rss), 3),
        "peak_rss_vs_peer": [round(r / peer["peak_rss_mb"], 3) for r in rss],
        "base_rss_mb": base,
        "rss_above_base_per_text_mb": {
            "mix": [round((r - base) / (text_bytes / 1e6), 2) for r in rss],
            "peer": round((peer["peak_rss_mb"] - base) / (text_bytes / 1e6), 2)},
        "mix_mb_per_s": [round(text_bytes / 1e6 / run["seconds"], 2) for run in runs],
    }
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
