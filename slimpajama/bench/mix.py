"""Benchmark `slimpajama mix`: speed (MB of input text per wall second, CPU seconds of the whole
process tree) with the default GPT-2 counter, and with `--layouts` peak RSS vs files-per-chunk and
docs-per-file.

A realistic corpus (`bench.corpus.realistic_corpus`, 300 MB by default as in issue 13, `--quick`
for 50 MB: RedPajama sources in their byte shares, each with the real non-ASCII profile, printed
and stored next to the target) is written in the release layout (once, cached under bench/data/),
sources interleaved, then mixed to
slimpajama-627b (default holdout 0.17 %, near decontamination on) by the `slimpajama mix` command
on the default runner: GPT-2 counter with the default worker pool (every core), the same with
`--direct_num_workers 1` (everything in one process), and the bytes counter with the pool. Wall
time, CPU seconds of the process tree (pool workers included) and peak tree RSS come from
`bench.dedup.run_cli`; the pool and single-process outputs are compared byte for byte. The speed
target is `TARGET_MB_PER_S` of input with the GPT-2 counter and the pool. A run on a
`STARTUP_MB` corpus measures the fixed start-up (imports, pipeline construction, worker pool),
which the steady-state figure (MB / (wall - start-up)) leaves out.

`--layouts` adds one run per layout configuration, each in a fresh process (FnApiRunner,
in-process) so its peak RSS is its own. The peer, measured in the same run, is the reference's
pass 2: one chunk loaded whole into RAM, shuffled with `random.seed(42)` and written back; the
floor is an empty FnApiRunner pipeline. Writes bench/results/mix.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from slimpajama.core.sources import SET_NAMES

RESULTS = Path("bench/results/mix.json")
DATA = Path("bench/data")
CORPUS_VERSION = 1
"""Bump when `write_corpus` changes what it writes (cached corpora of another version are not used)."""
STARTUP_MB = 1.0
TARGET_MB_PER_S = 15.0
"""Issue #13: mix at >= 15 MB/s of input text (wall, 2 cores) with the GPT-2 counter."""
SPEED_RUNS = (("gpt2", "pool", ()), ("gpt2", "one process", ("--direct_num_workers", "1")),
              ("bytes", "pool", ()))
"""(counter, label, extra CLI arguments) of the speed runs."""
LAYOUTS = ((1, 100), (1000, 100), (1000, 1000), (1000, 100_000))
"""(files_per_chunk, docs_per_file) per run: chunk size from 100 documents to the whole output."""
INPUT_FILES = 16


def cached_corpus(total_bytes: int) -> tuple[Path, int, int, dict]:
    """The release-layout corpus of about `total_bytes` under bench/data/ (written on first use):
    (its folder, documents, text bytes, profile record)."""
    root = DATA / f"mix-realistic-v{CORPUS_VERSION}-{total_bytes // 1_000_000}mb"
    marker = root / "done.json"
    if not marker.exists():
        docs, text_bytes, profile = write_corpus(root / "sp", total_bytes)
        marker.write_text(json.dumps({"docs": docs, "text_bytes": text_bytes, "profile": profile}))
    else:
        from slimpajama.bench.corpus import format_profile

        print("[bench mix] cached corpus; its profile, measured/target per source:")
        print(format_profile(json.loads(marker.read_text())["profile"]["measured"]))
    done = json.loads(marker.read_text())
    return root / "sp", done["docs"], done["text_bytes"], done["profile"]


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


def timed_mix(sp: Path, output: Path, counter: str, extra: Sequence[str]) -> dict[str, Any]:
    """`slimpajama mix` of `sp` to slimpajama-627b, measured by `bench.dedup.run_cli`, with the
    machine's 1-minute load average before it (other users' processes share the cores)."""
    from slimpajama.bench.dedup import run_cli

    args = ["--input", str(sp), "--output", str(output), "--mixture", "slimpajama-627b",
            "--counter", counter, "-q", *extra]
    load = os.getloadavg()[0]
    measured = run_cli(args, command="mix")
    del measured["summary"]
    return {"load_avg_1m_before": round(load, 2), **measured}


def speed_runs(sp: Path, root: Path, text_bytes: int, startup_sp: Path) -> dict[str, Any]:
    """The `SPEED_RUNS` of `slimpajama mix` on `sp`: wall, tree CPU, peak RSS, MB/s (whole run,
    and steady state: without the start-up measured on `startup_sp` with the same options);
    whether the pool and one-process GPT-2 outputs are byte-identical and the target is met."""
    runs = []
    for n, (counter, label, extra) in enumerate(SPEED_RUNS):
        startup = timed_mix(startup_sp, root / f"startup{n}", counter, extra)["wall_s"]
        measured = timed_mix(sp, root / f"speed{n}", counter, extra)
        runs.append({"counter": counter, "workers": label, **measured,
                     "mb_per_s": round(text_bytes / 1e6 / measured["wall_s"], 2),
                     "startup_wall_s": startup,
                     "steady_mb_per_s": round(text_bytes / 1e6 / (measured["wall_s"] - startup), 2),
                     "cpu_s_per_mb": round(measured["cpu_s"] / (text_bytes / 1e6), 4)})
        print(f"[bench mix] {runs[-1]}", flush=True)
    pool, single = (tree_bytes(root / f"speed{n}") for n in (0, 1))
    best = runs[0]["mb_per_s"]
    return {"runs": runs, "pool_vs_one_process_same_bytes": pool == single,
            "pool_speedup": round(runs[1]["wall_s"] / runs[0]["wall_s"], 3),
            "target_mb_per_s": TARGET_MB_PER_S, "gpt2_mb_per_s": best,
            "gpt2_steady_mb_per_s": runs[0]["steady_mb_per_s"],
            "target_met": best >= TARGET_MB_PER_S}


def tree_bytes(root: Path) -> dict[str, bytes]:
    """Every output file's bytes but report.html (it shows paths)."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.name != "report.html"}


def layout_runs(sp: Path, root: Path, text_bytes: int, counter: str) -> dict[str, Any]:
    """One mix per `LAYOUTS` entry (fresh process each), the reference's in-RAM chunk shuffle and
    an empty pipeline: peak RSS vs layout and vs the peer."""
    runs = []
    for n, (files_per_chunk, docs_per_file) in enumerate(LAYOUTS):
        spec = {"input": str(sp), "output": str(root / f"mix{n}"), "counter": counter,
                "files_per_chunk": files_per_chunk, "docs_per_file": docs_per_file}
        runs.append({"files_per_chunk": files_per_chunk, "docs_per_file": docs_per_file,
                     **child("mix", spec)})
        print(f"[bench mix] {runs[-1]}", flush=True)
    peer = child("reference", {"input": str(sp), "output": str(root / "ref")})
    base = child("base", {})["peak_rss_mb"]
    rss = [run["peak_rss_mb"] for run in runs]
    return {
        "counter": counter,
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


def main(argv: list[str]) -> dict[str, Any]:
    """Run the benchmark (see module doc); returns and writes the results."""
    parser = argparse.ArgumentParser(prog="python -m slimpajama.bench mix")
    parser.add_argument("--mb", type=float, default=300.0, help="corpus size in MB of text [300]")
    parser.add_argument("--quick", action="store_true", help="a 50 MB corpus, for a smoke run")
    parser.add_argument("--layouts", action="store_true",
                        help="also peak RSS per files-per-chunk / docs-per-file layout")
    parser.add_argument("--layout-counter", choices=("bytes", "gpt2"), default="bytes")
    parser.add_argument("--output", default=str(RESULTS))
    parser.add_argument("--child", nargs=2, metavar=("KIND", "SPEC"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        kind, spec = args.child[0], json.loads(args.child[1])
        result = CHILDREN[kind](spec)
        print(json.dumps({**result, "peak_rss_mb": round(peak_rss_mb(), 1)}))
        return result
    total_bytes = int((50.0 if args.quick else args.mb) * 1e6)
    sp, docs, text_bytes, profile = cached_corpus(total_bytes)
    with tempfile.TemporaryDirectory(prefix="bench-mix-") as tmp:
        root = Path(tmp)
        write_corpus(root / "startup", int(STARTUP_MB * 1e6))
        results: dict[str, Any] = {
            "corpus": {"docs": docs, "text_mb": round(text_bytes / 1e6, 1), "input_files": INPUT_FILES,
                       "mixture": "slimpajama-627b", "runner": "FnApiRunner", "cores": os.cpu_count(),
                       "generator": "bench.corpus.realistic_corpus, seed 0",
                       "startup_corpus_mb": STARTUP_MB, "profile": profile},
            "speed": speed_runs(sp, root, text_bytes, root / "startup"),
        }
        if args.layouts:
            results["layouts"] = layout_runs(sp, root, text_bytes, args.layout_counter)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results["speed"], indent=2))
    speed = results["speed"]
    print(f"[bench mix] GPT-2 counter, pool: {speed['gpt2_mb_per_s']} MB/s of input "
          f"({speed['gpt2_steady_mb_per_s']} MB/s without start-up); target "
          f"{TARGET_MB_PER_S} MB/s {'met' if speed['target_met'] else 'NOT met'}")
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
