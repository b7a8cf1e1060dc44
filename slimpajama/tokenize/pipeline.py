"""`slimpajama tokenize`: release files -> GPT-2 token shards + manifest.json, on Apache Beam.

Stages (all keyed by the input file's position in the sorted per-split listing, so the output
never depends on worker count, timing or listing order):
1. per input file, in parallel: tokenize every document to `ids + [EOS]` and write a "part"
   (`_parts/<split>/<index>.tokens` uint16 + `.sizes` int64) into the temporary output folder;
2. one small step: prefix sums of the part token counts -> global offset of each part;
3. per part: cut it into pieces of output shards (Megatron: a document goes to shard
   `global_start // shard_tokens`, so shards hold ~shard_tokens tokens of whole documents and a
   number is skipped only after a document longer than shard_tokens; HDF5: token ranges of
   50,000 windows of msl + 1 tokens, consecutive files sharing one boundary token);
4. per shard (GroupByKey): concatenate its pieces in part order and write the shard files;
5. write manifest.json; the driver (`slimpajama.tokenize.run`) then drops `_parts` and
   moves the folder into place.
Only per-file and per-shard metadata goes through Beam; tokens move through the part files. All
reads and writes go through Beam's `FileSystems` (`gs://` works wherever a local path does); a
shard is built in a local temporary file (h5py and the Megatron writer need one) and copied.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from typing import Any

import apache_beam as beam
import numpy as np
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions

from slimpajama import __version__
from slimpajama.io.beam_options import pipeline_options
from slimpajama.io.release import list_release_files, read_release_file
from slimpajama.io.shards import TOKEN_DTYPE, write_hdf5_file, write_megatron_shard
from slimpajama.io.tokenizer import EOS_ID, encode_batch, tokenizer_identity
from slimpajama.pool import Outputs, PooledMap
from slimpajama.resume import run_unit
from slimpajama.tokenize.config import TokenizeOptions

ENCODE_BATCH_DOCS = 256
MANIFEST_NAME = "manifest.json"
PARTS_DIR = "_parts"
TOKENIZE_STAGE = "tokenize"


# ---------------------------------------------------------------- pure functions


def part_prefix(root: str, split: str, index: int) -> str:
    """Path prefix of the tokenized part of input file `index` of `split`."""
    return FileSystems.join(root, PARTS_DIR, split, f"{index:06d}")


def tokenize_release_file(path: str, prefix: str) -> dict[str, Any]:
    """Tokenize one release file into `<prefix>.tokens` (uint16) and `<prefix>.sizes` (int64).

    Every document becomes `encode_ordinary(text) + [EOS_ID]`, in file order. Returns the token
    and document counts, overall and per `meta.redpajama_set_name`.
    """
    sizes: list[int] = []
    sources: dict[str, dict[str, int]] = {}
    batch: list[dict[str, Any]] = []

    def flush(out: Any) -> None:
        ids, lengths = encode_batch([r["text"] for r in batch])
        out.write(np.insert(ids, np.cumsum(lengths), EOS_ID).astype("<u2").tobytes())
        for record, length in zip(batch, (lengths + 1).tolist(), strict=True):
            sizes.append(length)
            counts = sources.setdefault(
                record["meta"]["redpajama_set_name"], {"tokens": 0, "documents": 0}
            )
            counts["tokens"] += length
            counts["documents"] += 1
        batch.clear()

    with create_raw(prefix + ".tokens") as out:
        for record in read_release_file(path):
            batch.append(record)
            if len(batch) == ENCODE_BATCH_DOCS:
                flush(out)
        flush(out)
    with create_raw(prefix + ".sizes") as out:
        out.write(np.asarray(sizes, dtype="<i8").tobytes())
    return {
        "tokens": int(sum(sizes)),
        "documents": len(sizes),
        "sources": {name: sources[name] for name in sorted(sources)},
    }


def create_raw(path: str) -> Any:
    """A write channel to `path` without compression, whatever its name."""
    return FileSystems.create(path, compression_type=CompressionTypes.UNCOMPRESSED)


def open_raw(path: str) -> Any:
    """A read channel of `path` without decompression, whatever its name."""
    return FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)


def read_part_sizes(prefix: str) -> np.ndarray:
    """Document sizes (int64) of a part written by `tokenize_release_file`."""
    with open_raw(prefix + ".sizes") as handle:
        return np.frombuffer(handle.read(), dtype="<i8")


def read_part_tokens(prefix: str, start: int, stop: int) -> np.ndarray:
    """Tokens [start, stop) (uint16) of a part written by `tokenize_release_file`."""
    if stop <= start:
        return np.zeros(0, dtype=TOKEN_DTYPE)
    with open_raw(prefix + ".tokens") as handle:
        handle.seek(start * TOKEN_DTYPE.itemsize)
        data = handle.read((stop - start) * TOKEN_DTYPE.itemsize)
    return np.frombuffer(data, dtype="<u2")


def with_offsets(parts: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add `offset` (start in the split's token stream) and `split_tokens` to every part.

    Parts are ordered by (split, index) first, so the result does not depend on arrival order.
    """
    ordered = sorted(parts, key=lambda part: (part["split"], part["index"]))
    totals: dict[str, int] = {}
    for part in ordered:
        totals[part["split"]] = totals.get(part["split"], 0) + part["tokens"]
    running: dict[str, int] = {}
    result = []
    for part in ordered:
        offset = running.get(part["split"], 0)
        running[part["split"]] = offset + part["tokens"]
        result.append({**part, "offset": offset, "split_tokens": totals[part["split"]]})
    return result


def megatron_pieces(
    sizes: np.ndarray, offset: int, shard_tokens: int
) -> list[tuple[int, int, int]]:
    """(shard, first_doc, end_doc) runs of a part's documents; a document starting at global
    token g belongs to shard g // shard_tokens (boundaries fall between documents)."""
    starts = offset + np.concatenate([[0], np.cumsum(sizes[:-1])]) if len(sizes) else sizes
    shard_of = np.asarray(starts, dtype=np.int64) // shard_tokens
    cuts = np.flatnonzero(np.diff(shard_of)) + 1
    bounds = [0, *cuts.tolist(), len(sizes)]
    return [
        (int(shard_of[lo]), lo, hi)
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)
        if hi > lo
    ]


def hdf5_file_ranges(split_tokens: int, msl: int, per_file: int) -> list[tuple[int, int]]:
    """Global [start, end) token range of each HDF5 file of a split.

    File k holds windows k*per_file ... (windows of msl + 1 tokens, stride msl), so it reads
    tokens [k*per_file*msl, (k*per_file + n_k)*msl + 1); the tail after the last window is dropped.
    """
    n_windows = max(split_tokens - 1, 0) // msl
    ranges = []
    for first in range(0, n_windows, per_file):
        count = min(per_file, n_windows - first)
        ranges.append((first * msl, (first + count) * msl + 1))
    return ranges


def hdf5_pieces(
    part_tokens: int, offset: int, file_ranges: Sequence[tuple[int, int]]
) -> list[tuple[int, int, int]]:
    """(file, local_start, local_end) token slices of a part that each HDF5 file reads."""
    pieces = []
    for k, (start, end) in enumerate(file_ranges):
        lo, hi = max(start, offset), min(end, offset + part_tokens)
        if hi > lo:
            pieces.append((k, lo - offset, hi - offset))
    return pieces


def shard_name(split: str, fmt: str, k: int) -> str:
    """Relative path (without extension for Megatron) of shard k of a split."""
    return f"{split}/shard-{k:05d}" if fmt == "megatron" else f"{split}/data-{k:05d}.h5"


def copy_with_sha256(local_path: str, path: str) -> str:
    """Copy a local file to `path` (any Beam filesystem); returns its sha256 (hex)."""
    digest = hashlib.sha256()
    with open(local_path, "rb") as source, create_raw(path) as out:
        for block in iter(lambda: source.read(1 << 20), b""):
            digest.update(block)
            out.write(block)
    return digest.hexdigest()


def plan_part(
    part: dict[str, Any], root: str, options: TokenizeOptions
) -> list[tuple[str, tuple[int, int, int]]]:
    """(shard name, (part index, lo, hi)) pieces of one part; lo/hi are documents for Megatron
    and tokens for HDF5."""
    split, index = part["split"], part["index"]
    if options.format == "megatron":
        sizes = read_part_sizes(part_prefix(root, split, index))
        pieces = megatron_pieces(sizes, part["offset"], options.shard_tokens)
    else:
        ranges = hdf5_file_ranges(
            part["split_tokens"], options.seq_len, options.hdf5_sequences_per_file
        )
        pieces = hdf5_pieces(part["tokens"], part["offset"], ranges)
    return [(shard_name(split, options.format, k), (index, lo, hi)) for k, lo, hi in pieces]


def write_shard(
    name: str, pieces: Sequence[tuple[int, int, int]], root: str, options: TokenizeOptions
) -> dict[str, Any]:
    """Write one shard from its pieces (sorted by part index); returns its manifest entry."""
    split = name.split("/", 1)[0]
    ordered = sorted(pieces)
    local = tempfile.mkdtemp(prefix="slimpajama-shard-")
    local_name = os.path.join(local, name.rsplit("/", 1)[1])
    try:
        if options.format == "megatron":

            def documents() -> Iterator[tuple[np.ndarray, np.ndarray]]:
                for index, lo, hi in ordered:
                    prefix = part_prefix(root, split, index)
                    sizes = read_part_sizes(prefix)
                    first = int(sizes[:lo].sum())
                    last = first + int(sizes[lo:hi].sum())
                    yield read_part_tokens(prefix, first, last), sizes[lo:hi]

            n_tokens, n_docs = write_megatron_shard(local_name, documents())
            suffixes = [".bin", ".idx"]
            counts = {"tokens": n_tokens, "documents": n_docs}
        else:
            stream = np.concatenate([
                read_part_tokens(part_prefix(root, split, index), lo, hi)
                for index, lo, hi in ordered
            ])
            n_rows = write_hdf5_file(local_name, stream, options.seq_len)
            suffixes = [""]
            counts = {"tokens": n_rows * options.seq_len, "sequences": n_rows}  # input tokens
        files = {
            name + suffix: copy_with_sha256(
                local_name + suffix, FileSystems.join(root, *f"{name}{suffix}".split("/"))
            )
            for suffix in suffixes
        }
    finally:
        shutil.rmtree(local)
    return {"split": split, "name": name, **counts, "files": files}


def build_manifest(
    parts: Sequence[dict[str, Any]], shards: Sequence[dict[str, Any]], options: TokenizeOptions
) -> dict[str, Any]:
    """manifest.json content: per split counts (overall and per source) and shards in order."""
    splits: dict[str, Any] = {}
    for split in options.splits:
        split_parts = [p for p in parts if p["split"] == split]
        sources: dict[str, dict[str, int]] = {}
        for part in split_parts:
            for source, counts in part["sources"].items():
                total = sources.setdefault(source, {"tokens": 0, "documents": 0})
                total["tokens"] += counts["tokens"]
                total["documents"] += counts["documents"]
        split_shards = sorted((s for s in shards if s["split"] == split), key=lambda s: s["name"])
        entry: dict[str, Any] = {
            "input_files": len(split_parts),
            "tokens": sum(p["tokens"] for p in split_parts),
            "documents": sum(p["documents"] for p in split_parts),
            "sources": {name: sources[name] for name in sorted(sources)},
            "shards": [{k: v for k, v in s.items() if k != "split"} for s in split_shards],
        }
        if options.format == "hdf5":
            entry["sequences"] = sum(s["sequences"] for s in split_shards)
            entry["dropped_tail_tokens"] = entry["tokens"] - entry["sequences"] * options.seq_len
        splits[split] = entry
    return {
        "slimpajama_version": __version__,
        "format": options.format,
        "options": options.as_dict(),
        "tokenizer": tokenizer_identity(),
        "splits": splits,
    }


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return (json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


# ---------------------------------------------------------------- Beam wrappers


def tokenize_unit(item: tuple[str, int, str], root: str) -> Outputs:
    """(split, index, path) -> its part metadata (main output), at most once per run; writes the
    part under the temporary root `root`."""
    split, index, path = item
    outputs = run_unit(
        root, TOKENIZE_STAGE, f"{split}-{index:05d}",
        lambda: [{"split": split, "index": index,
                  **tokenize_release_file(path, part_prefix(root, split, index))}],
        lambda outputs: {"docs": outputs[0]["documents"],
                         "disk_bytes": FileSystems.match([path])[0].metadata_list[0].size_in_bytes},
    )
    return [(None, part) for part in outputs]


def input_files(input_root: str, splits: Sequence[str]) -> list[tuple[str, int, str]]:
    """(split, index, path) for every release file, index = position in the sorted listing."""
    return [
        (split, index, path)
        for split in splits
        for index, path in enumerate(list_release_files(input_root, split))
    ]


def build_tokenize_pipeline(
    input_root: str,
    work_root: str,
    options: TokenizeOptions,
    beam_options: PipelineOptions | None = None,
    processes: int = 1,
) -> beam.Pipeline:
    """The Beam pipeline writing shards + manifest.json into `work_root`; files are tokenized in
    `processes` worker processes (slimpajama.pool)."""
    pipeline = beam.Pipeline(options=beam_options or pipeline_options())
    parts = (
        pipeline
        | "Root" >> beam.Create([input_root])
        | "InputFiles" >> beam.FlatMap(input_files, options.splits)
        | "SpreadFiles" >> beam.Reshuffle()
        | "Tokenize" >> beam.ParDo(PooledMap(tokenize_unit, work_root, stage=TOKENIZE_STAGE,
                                              processes=processes))
    )
    all_parts = parts | "AllParts" >> beam.combiners.ToList()
    shards = (
        all_parts
        | "Offsets" >> beam.FlatMap(with_offsets)
        | "Spread" >> beam.Reshuffle()
        | "Plan" >> beam.FlatMap(plan_part, work_root, options)
        | "ByShard" >> beam.GroupByKey()
        | "WriteShard" >> beam.Map(lambda kv: write_shard(kv[0], list(kv[1]), work_root, options))
    )
    _ = (
        shards
        | "AllShards" >> beam.combiners.ToList()
        | "WriteManifest"
        >> beam.Map(_write_manifest, beam.pvalue.AsSingleton(all_parts), work_root, options)
    )
    return pipeline


def _write_manifest(
    shards: list[dict[str, Any]], parts: list[dict[str, Any]], root: str, options: TokenizeOptions
) -> None:
    with create_raw(FileSystems.join(root, MANIFEST_NAME)) as handle:
        handle.write(manifest_bytes(build_manifest(parts, shards, options)))
