"""The SlimPajama release layout: `<split>/chunk{c}/example_{kind}_{n}.jsonl.zst`.

Each line is `{"text": ..., "meta": {"redpajama_set_name": ..., ...}}` serialized with
`json.dumps(ensure_ascii=False)` and terminated by a single '\\n' (the text, the big part, is
encoded by orjson, whose string encoding is byte-identical to that for every string without a lone
surrogate; checked over every code point in the tests); files are zstd level 3,
single-threaded, so the same records always give the same bytes. All file access goes through
Beam's `FileSystems`, so `gs://` paths work wherever local paths do.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

import orjson
import zstandard
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from slimpajama.io.exact_json import loads_exact

SPLITS: tuple[str, ...] = ("train", "validation", "test")
ZSTD_LEVEL = 3
_RELEASE_NAME = re.compile(r"chunk(\d+)/example_(?:train|holdout)_(\d+)\.jsonl\.zst$")


def release_relpath(split: str, chunk: int, n: int) -> str:
    """Path of one release file relative to the output root; chunks count from 1, n from 0."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")
    kind = "train" if split == "train" else "holdout"
    return f"{split}/chunk{chunk}/example_{kind}_{n}.jsonl.zst"


def encode_record(text: str, set_name: str, meta: dict[str, Any] | None = None) -> bytes:
    """One release line (UTF-8, with trailing newline); `redpajama_set_name` comes first in meta."""
    full_meta = {"redpajama_set_name": set_name}
    for key, value in (meta or {}).items():
        if key != "redpajama_set_name":
            full_meta[key] = value
    try:
        text_json = orjson.dumps(text)
    except orjson.JSONEncodeError:  # a lone surrogate: the stdlib raises UnicodeEncodeError, as always
        return (json.dumps({"text": text, "meta": full_meta}, ensure_ascii=False) + "\n").encode()
    meta_json = json.dumps(full_meta, ensure_ascii=False).encode()
    return b"".join((b'{"text": ', text_json, b', "meta": ', meta_json, b"}\n"))


def release_text(line: bytes) -> str:
    """The text of one release line. orjson reads it (the text is the same whatever parser reads
    it; orjson only refuses lines the stdlib reads differently, e.g. a meta integer past 64 bits,
    and those go to the stdlib)."""
    try:
        return orjson.loads(line)["text"]
    except orjson.JSONDecodeError:
        return json.loads(line)["text"]


def write_release_file(path: str, lines: Iterable[bytes]) -> int:
    """Write already-encoded lines to a zstd file at `path`; returns the number of lines."""
    count = 0
    compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL, threads=0)
    with FileSystems.create(path, compression_type=CompressionTypes.UNCOMPRESSED) as raw:
        with compressor.stream_writer(raw, closefd=False) as writer:
            for line in lines:
                writer.write(line)
                count += 1
    return count


def read_zstd_lines(path: str) -> Iterator[bytes]:
    """The lines (with their '\\n') of a zstd file, streamed; all frames are read."""
    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as raw:
        reader = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
        yield from io.BufferedReader(reader)


def read_release_file(path: str) -> Iterator[dict[str, Any]]:
    """Yield the records of one release file (all zstd frames are read)."""
    for line in read_zstd_lines(path):
        yield loads_exact(line)


def release_sort_key(path: str) -> tuple[int, int]:
    """(chunk, n) of a release file name, for numeric ordering."""
    match = _RELEASE_NAME.search(path)
    if match is None:
        raise ValueError(f"not a release file name: {path}")
    return int(match.group(1)), int(match.group(2))


def list_release_files(root: str, split: str) -> list[str]:
    """All release files of one split under `root`, ordered by (chunk, n); [] if none."""
    pattern = FileSystems.join(root, split, "chunk*", "*.jsonl.zst")
    found = [m.path for r in FileSystems.match([pattern]) for m in r.metadata_list]
    return sorted(found, key=release_sort_key)


def list_tree(path: str) -> list[str]:
    """Every file at any depth below `path`, sorted; [] if none."""
    pattern = FileSystems.join(path, "**")
    return sorted(m.path for r in FileSystems.match([pattern]) for m in r.metadata_list)


def is_empty_dir(path: str) -> bool:
    """True when no file exists below `path` (a local folder or an object-store prefix)."""
    return not list_tree(path)


def delete_tree(path: str) -> None:
    """Delete `path` and everything below it; nothing happens if it does not exist."""
    if FileSystems.exists(path):  # a local folder or file, or an object of that exact name
        FileSystems.delete([path])
    files = list_tree(path)  # object stores: a folder is a name prefix
    if files:
        FileSystems.delete(files)


def move_tree(source: str, target: str) -> None:
    """Rename every file below `source` to the same relative path below `target`, then delete
    `source`; `target` must not hold files of the same names."""
    prefix = source.rstrip("/") + "/"
    for path in list_tree(source):
        destination = FileSystems.join(target, *path[len(prefix):].split("/"))
        parent = destination.rsplit("/", 1)[0]
        if not FileSystems.exists(parent):
            FileSystems.mkdirs(parent)
        FileSystems.rename([path], [destination])
    delete_tree(source)
