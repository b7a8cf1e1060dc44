"""Scale benchmark: `python -m slimpajama.bench scale [--mb 500] [--factor 4] [--quick]`.

Runs the real `dedup`, `mix` and `tokenize` commands, each in a subprocess on the default runner,
on a 1x and a `factor`x corpus of realistic RedPajama-layout text (the dedup benchmark's cached
corpus), and records for each command wall seconds, CPU seconds and peak RSS of the whole process
tree (RSS, and PSS, which counts a page shared by forked pool workers once). Targets (issue
"Scale"): for each command, peak memory (PSS) of the big run <= 1.25x the small run's
and seconds per MB within 1.2x. Writes bench/results/scale.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path
from typing import Any

from slimpajama.bench.dedup import DATA, RESULTS, corpus, run_cli

RSS_RATIO_TARGET = 1.25
SECONDS_PER_MB_RATIO_TARGET = 1.2
COMMANDS = ("dedup", "mix", "tokenize")


def run_chain(rp: Path, work: Path) -> dict[str, dict[str, Any]]:
    """dedup → mix (natural mixture, no holdout) → tokenize on `rp`; one measurement per command."""
    if work.exists():
        shutil.rmtree(work)
    sp, mixed, tok = work / "sp", work / "mix", work / "tok"
    return {
        "dedup": run_cli(["--input", str(rp), "--output", str(sp)], command="dedup"),
        "mix": run_cli(["--input", str(sp), "--output", str(mixed), "--mixture", "natural",
                        "--holdout", "0"], command="mix"),
        "tokenize": run_cli(["--input", str(mixed), "--output", str(tok)], command="tokenize"),
    }


def ratios(small: dict[str, Any], big: dict[str, Any], factor: float) -> dict[str, Any]:
    """Per command: peak RSS ratio big/small and seconds-per-MB ratio, with the targets' verdicts."""
    rows = {}
    for command in COMMANDS:
        rss = big[command]["peak_pss_mb"] / small[command]["peak_pss_mb"]
        per_mb = (big[command]["wall_s"] / factor) / small[command]["wall_s"]
        rows[command] = {
            "peak_pss_ratio": round(rss, 3), "seconds_per_mb_ratio": round(per_mb, 3),
            "rss_target_met": rss <= RSS_RATIO_TARGET,
            "seconds_target_met": per_mb <= SECONDS_PER_MB_RATIO_TARGET,
        }
    return rows


def clustering_bytes_per_document(docs: int = 1_000_000, cluster_size: int = 4) -> dict[str, Any]:
    """Peak memory of the one-worker clustering (`removed_of_edges`) per clustered document,
    measured with tracemalloc (numpy reports its buffers to it) on `docs` documents in clusters of
    `cluster_size` joined as stars; the edge records themselves are counted separately."""
    import tracemalloc

    import numpy as np

    from slimpajama.dedup.edges import EDGE, NOT_VERIFIED, removed_of_edges
    from slimpajama.dedup.scan import SET_NAME_LIST

    keys = np.arange(docs, dtype=np.uint64) * np.uint64(7919) + np.uint64(1 << 32)
    members = np.arange(docs).reshape(-1, cluster_size)
    edges = np.zeros(members[:, 1:].size, dtype=EDGE)
    edges["a"] = keys[np.repeat(members[:, 0], cluster_size - 1)]
    edges["b"] = keys[members[:, 1:].ravel()]
    edges["jaccard"] = NOT_VERIFIED
    edges["a_nbytes"] = edges["b_nbytes"] = 5_000
    tracemalloc.start()
    removed = len(removed_of_edges(edges, "first", SET_NAME_LIST, SET_NAME_LIST))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"documents": docs, "edges": len(edges), "removed": removed,
            "peak_bytes_per_document": round(peak / docs, 1),
            "edge_record_bytes_per_document": round(edges.nbytes / docs, 1),
            "target_bytes_per_document": 200}


def main(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m slimpajama.bench scale")
    parser.add_argument("--mb", type=int, default=500, help="size of the 1x corpus in MB of text")
    parser.add_argument("--factor", type=int, default=4, help="the big corpus is this many times larger")
    parser.add_argument("--quick", action="store_true", help="25 MB and 4x: a smoke run")
    parser.add_argument("--out", type=Path, default=RESULTS / "scale.json")
    args = parser.parse_args(argv)
    mb = 25 if args.quick else args.mb
    runs = {}
    for size in (mb, mb * args.factor):
        rp, text_bytes, _, _ = corpus(size * 1_000_000)
        measured = run_chain(rp, DATA / f"scale-{size}mb-work")
        for row in measured.values():
            row["mb_per_s"] = round(text_bytes / 1e6 / row["wall_s"], 2)
            row.pop("summary", None)
        runs[f"{size}mb"] = {"text_mb": round(text_bytes / 1e6, 1), "commands": measured}
        print(f"[scale] {size} MB: " + ", ".join(
            f"{c} {m['wall_s']} s / {m['peak_pss_mb']} MB PSS" for c, m in measured.items()))
    small, big = (runs[k]["commands"] for k in runs)
    factor = runs[f"{mb * args.factor}mb"]["text_mb"] / runs[f"{mb}mb"]["text_mb"]
    result = {"runs": runs, "ratios": ratios(small, big, factor), "factor": round(factor, 3),
              "clustering": clustering_bytes_per_document(200_000 if args.quick else 1_000_000)}
    print(f"[scale] clustering: {result['clustering']['peak_bytes_per_document']} bytes per clustered "
          f"document + {result['clustering']['edge_record_bytes_per_document']} of edge records "
          f"(target <= 200 in all)")
    for command, row in result["ratios"].items():
        print(f"[scale] {command}: peak PSS x{row['peak_pss_ratio']} (target <= {RSS_RATIO_TARGET}), "
              f"s/MB x{row['seconds_per_mb_ratio']} (target <= {SECONDS_PER_MB_RATIO_TARGET})")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    return result
