"""Benchmark `slimpajama tokenize` and the trainer hook. Writes bench/results/tokenize.json.

On a realistic corpus (`bench.corpus.realistic_corpus`, 8 MB of text by default: RedPajama
sources in their byte shares, each with the real non-ASCII profile, printed and stored next to the
target) it measures, in one process:
- the peer: raw tiktoken `encode_ordinary` over the texts (MB of UTF-8 text per CPU-second),
  best of `--repeats` interleaved rounds like the two below;
- `encode_documents`, and the whole per-file stage of the pipeline (zstd + JSON decode,
  encode, `ids + [EOS]`, part written) on the same texts in release files: ratios to the peer;
- shard writing from the parts (Megatron and, with h5py, HDF5 at msl 2048): tokens per
  CPU-second and CPU time relative to the per-file stage;
- the whole Beam pipeline (FnApiRunner in-process), wall and CPU seconds;
- the loader: `TokenStream` batches at seq 8192 in-process (numpy, and through a torch
  DataLoader without workers when torch is installed), tokens per second.
Targets (issue 6): tokenization >= 7 MB per CPU-second, loader >= 1M tokens/s at seq 8192.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS = Path("bench/results/tokenize.json")
INPUT_FILES = 4


def cpu_timed(work: Callable[[], Any]) -> tuple[Any, float, float]:
    """(result, CPU seconds of this process, wall seconds) of `work()`."""
    cpu, wall = time.process_time(), time.perf_counter()
    result = work()
    return result, time.process_time() - cpu, time.perf_counter() - wall


def write_inputs(root: str, docs: list[tuple[str, str]]) -> None:
    """(folder, text) documents as INPUT_FILES release files of the train split (round-robin)."""
    from slimpajama.core.sources import SET_NAMES
    from slimpajama.io.release import encode_record, release_relpath, write_release_file

    for f in range(INPUT_FILES):
        path = os.path.join(root, release_relpath("train", 1, f))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        write_release_file(
            path,
            (
                encode_record(docs[i][1], SET_NAMES[docs[i][0]])
                for i in range(f, len(docs), INPUT_FILES)
            ),
        )


def min_cpu(works: dict[str, Callable[[], Any]], repeats: int) -> dict[str, float]:
    """Least CPU seconds of each work over `repeats` rounds, run interleaved so that machine
    load drifts hit all of them alike."""
    best = {name: float("inf") for name in works}
    for _ in range(repeats):
        for name, work in works.items():
            best[name] = min(best[name], cpu_timed(work)[1])
    return best


def measure(docs: list[tuple[str, str]], work_dir: str, loader_steps: int, repeats: int) -> dict[str, Any]:
    from slimpajama.io.release import list_release_files
    from slimpajama.io.tokenizer import encode_documents, gpt2_encoding
    from slimpajama.tokenize import pipeline as tp
    from slimpajama.tokenize.config import TokenizeOptions
    from slimpajama.tokenize.run import run_tokenize
    from slimpajama.train.stream import TokenStream

    texts = [text for _, text in docs]
    text_mb = sum(len(t.encode()) for t in texts) / 1e6
    encoding = gpt2_encoding()
    n_tokens = sum(len(ids) + 1 for ids in encode_documents(texts))
    inputs = os.path.join(work_dir, "sp")
    write_inputs(inputs, docs)
    staged = os.path.join(work_dir, "staged")
    paths = list_release_files(inputs, "train")

    def file_stage() -> list[dict[str, Any]]:
        return [
            {
                "split": "train",
                "index": i,
                **tp.tokenize_release_file(p, tp.part_prefix(staged, "train", i)),
            }
            for i, p in enumerate(paths)
        ]

    cpu = min_cpu(
        {
            "raw": lambda: [encoding.encode_ordinary(t) for t in texts],
            "ours": lambda: encode_documents(texts),
            "stage": file_stage,
        },
        repeats,
    )
    raw_cpu, ours_cpu, stage_cpu = cpu["raw"], cpu["ours"], cpu["stage"]
    parts = file_stage()
    result: dict[str, Any] = {
        "text_mb": round(text_mb, 2),
        "documents": len(texts),
        "tokens": n_tokens,
        "tiktoken_encode_ordinary_mb_per_cpu_s": round(text_mb / raw_cpu, 2),
        "encode_documents_mb_per_cpu_s": round(text_mb / ours_cpu, 2),
        "encode_documents_ratio": round(raw_cpu / ours_cpu, 3),
        "file_stage_mb_per_cpu_s": round(text_mb / stage_cpu, 2),
        "file_stage_ratio": round(raw_cpu / stage_cpu, 3),
    }

    located = tp.with_offsets(parts)
    for fmt in ("megatron", "hdf5"):
        if fmt == "hdf5":
            try:
                import h5py  # noqa: F401
            except ModuleNotFoundError:
                continue
        options = TokenizeOptions(format=fmt, splits=("train",))
        pieces: dict[str, list[tuple[int, int, int]]] = {}
        for part in located:
            for name, piece in tp.plan_part(part, staged, options):
                pieces.setdefault(name, []).append(piece)
        _, write_cpu, _ = cpu_timed(
            lambda options=options, pieces=pieces: [
                tp.write_shard(n, p, staged, options) for n, p in pieces.items()
            ]
        )
        result[f"{fmt}_write_mtokens_per_cpu_s"] = round(n_tokens / write_cpu / 1e6, 2)
        result[f"{fmt}_write_cpu_vs_file_stage"] = round(write_cpu / stage_cpu, 3)

    manifest, pipe_cpu, pipe_wall = cpu_timed(
        lambda: run_tokenize(
            inputs, os.path.join(work_dir, "tok"), TokenizeOptions(splits=("train",))
        )
    )
    result["pipeline_wall_s"] = round(pipe_wall, 2)
    result["pipeline_cpu_s_in_process"] = round(pipe_cpu, 2)
    result["pipeline_mb_per_wall_s"] = round(text_mb / pipe_wall, 2)
    assert manifest["splits"]["train"]["tokens"] == n_tokens

    stream = TokenStream(os.path.join(work_dir, "tok"), seq_len=8192, global_batch=4, seed=0)
    steps = min(loader_steps, stream.num_steps)
    if steps:
        _, loader_cpu, loader_wall = cpu_timed(lambda: [stream.batch(s) for s in range(steps)])
        loaded = steps * 4 * 8192
        result["loader_seq8192_tokens_per_s"] = round(loaded / loader_wall)
        result["loader_seq8192_tokens_per_cpu_s"] = round(loaded / loader_cpu)
        try:
            import torch  # noqa: F401
        except ModuleNotFoundError:
            return result
        batches = stream.torch_batches(num_workers=0)
        _, _, torch_wall = cpu_timed(lambda: [next(batches) for _ in range(steps)])
        result["loader_seq8192_torch_dataloader_tokens_per_s"] = round(loaded / torch_wall)
    return result


def main(argv: list[str]) -> dict[str, Any]:
    """Run the benchmark; prints a table and writes the JSON results (see module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m slimpajama.bench tokenize")
    parser.add_argument("--mb", type=float, default=8.0, help="MB of realistic text")
    parser.add_argument("--quick", action="store_true", help="1 MB, 1 round, 5 loader steps")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--loader-steps", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3, help="best-of rounds for CPU times")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    from slimpajama.bench.corpus import flat_documents, profile_record, realistic_corpus

    if args.quick:
        args.mb, args.repeats, args.loader_steps = 1.0, 1, 5
    generated = realistic_corpus(args.mb, seed=args.seed)
    profile = profile_record(generated, "bench tokenize")
    with tempfile.TemporaryDirectory(prefix="bench-tokenize-") as work_dir:
        result = measure(flat_documents(generated), work_dir, args.loader_steps, args.repeats)
    result["targets"] = {"tokenize_mb_per_cpu_s": 7.0, "loader_seq8192_tokens_per_s": 1_000_000}
    result["cpu_count"] = os.cpu_count()
    result["corpus"] = {"generator": f"bench.corpus.realistic_corpus, seed {args.seed}",
                        "profile": profile}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    width = max(map(len, result))
    for key, value in result.items():
        if key != "corpus":
            print(f"{key:<{width}}  {value}")
    print(f"[bench] tokenize: wrote {args.out}")
    return result
