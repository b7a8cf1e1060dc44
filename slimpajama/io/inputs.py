"""Input discovery and robust record reading for RedPajama-1T-layout corpora.

Layout: `<root>/<source folder>/**/<name>` with source folder one of `slimpajama.core.sources.SET_NAMES`
(CommonCrawl as `common_crawl/<snapshot>/`) and names ending in `.jsonl`, `.jsonl.zst` or
`.jsonl.gz` (the real CC names `*.json.gz.dedup.classifier.jsonl.zst` end in `.jsonl.zst`).

`read_input_file` accounts for every physical line of the decompressed stream: each non-blank
line (a "record") yields exactly one `Document` or one `Issue(kind="quarantined")`, plus possibly
`Issue(kind="warning")`s for the same line; `Issue(kind="file")` reports file-level events. It
never raises on bad content, never holds a whole file in memory and sniffs the compression from
the magic bytes rather than trusting the file name. All access goes through Beam's
`FileSystems`, so `gs://` roots work wherever local ones do.

Records are parsed by orjson when its result is provably the stdlib's (see `slimpajama.io.exact_json`),
else by `json` exactly as before, so every record, issue and reason is the same either way.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import zstandard
from apache_beam.io.filesystem import BeamIOError, CompressionTypes
from apache_beam.io.filesystems import FileSystems

from slimpajama.core.sources import FOLDERS, SET_NAMES
from slimpajama.io.exact_json import orjson_if_exact

RECOGNIZED_SUFFIXES: tuple[str, ...] = (".jsonl", ".jsonl.zst", ".jsonl.gz")
"""Input file name endings; `.json.gz.dedup.classifier.jsonl.zst` (CC) ends in `.jsonl.zst`."""

RAW_ISSUE_BYTES = 1024
"""At most this many bytes of an offending line are kept in `Issue.raw`."""

READ_CHUNK_BYTES = 1 << 18
"""Bytes read from the underlying file per call (compressed bytes for .zst/.gz)."""

_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_SKIPPABLE_ZSTD_MAGIC_TAIL = b"\x2a\x4d\x18"  # skippable frames: 0x184D2A50..5F little-endian
_BOM = b"\xef\xbb\xbf"
_COMMON_CRAWL = "common_crawl"
_JSON = json.JSONDecoder(strict=False)  # raw control characters inside strings are accepted


class InputError(Exception):
    """A problem with the input as a whole; its message is one user-facing line."""


@dataclass(frozen=True)
class InputFile:
    """One discovered input file."""

    index: int  # position of relpath in the sorted list of all discovered relpaths
    path: str  # full path usable with FileSystems (local or gs://)
    relpath: str  # relative to the input root, '/' separators
    folder: str  # source folder: one of SET_NAMES (common_crawl for CC snapshots)


@dataclass(frozen=True)
class Document:
    """One valid record; `text` is raw (not normalized); `meta` excludes `redpajama_set_name`."""

    relpath: str
    line: int  # 1-based physical line in the decompressed stream
    set_name: str  # one of SET_NAMES.values()
    text: str
    meta: dict


@dataclass(frozen=True)
class Issue:
    """A quarantined record, a warning about a kept record, or a file-level event."""

    relpath: str
    line: int  # 1-based; 0 = the file as a whole
    kind: str  # "quarantined" | "warning" | "file"
    reason: str  # short, stable, human-readable
    raw: bytes = b""  # up to RAW_ISSUE_BYTES of the offending line (quarantined records only)
    nbytes: int = 0  # full size of the offending line in bytes (quarantined records only)


# ----------------------------------------------------------------------------- discovery


def _list_relpaths(root: str) -> dict[str, str]:
    """All files below `root` as {relpath: full path}; InputError if `root` has no files at all."""
    pattern = FileSystems.join(root, "**")
    prefix = pattern[: -len("**")]
    try:
        results = FileSystems.match([pattern])
    except BeamIOError as error:
        raise InputError(f"cannot list input folder {root}: {error}") from None
    found = {}
    for result in results:
        for metadata in result.metadata_list:
            if metadata.path.startswith(prefix):
                found[metadata.path[len(prefix) :]] = metadata.path
    if not found and not FileSystems.exists(root):
        raise InputError(f"input folder not found: {root}")
    return found


def is_recognized(relpath: str) -> bool:
    """True for `<source folder>/**/<name>` with a recognized suffix and no hidden component."""
    parts = relpath.split("/")
    return (
        len(parts) >= 2
        and parts[0] in SET_NAMES
        and not any(part.startswith(".") or not part for part in parts)
        and parts[-1].endswith(RECOGNIZED_SUFFIXES)
    )


def discover_inputs(root: str) -> list[InputFile]:
    """Recognized input files below `root`, sorted by relpath (index = position in that order).

    Raises InputError for a missing root or a root without any recognized file.
    """
    found = _list_relpaths(root)
    relpaths = sorted(relpath for relpath in found if is_recognized(relpath))
    if not relpaths:
        folders = ", ".join(SET_NAMES)
        raise InputError(
            f"no recognizable input files under {root} "
            f"(expected <source>/**/*.jsonl[.zst|.gz] with <source> one of {folders})"
        )
    return [
        InputFile(index=i, path=found[relpath], relpath=relpath, folder=relpath.split("/", 1)[0])
        for i, relpath in enumerate(relpaths)
    ]


def unrecognized_files(root: str) -> list[str]:
    """Sorted relpaths of the files below `root` that `discover_inputs` ignores."""
    return sorted(relpath for relpath in _list_relpaths(root) if not is_recognized(relpath))


# ----------------------------------------------------------------------------- decompression


def _sniff(head: bytes) -> str:
    """Compression format of a stream from its first bytes: "gzip", "zstd" or "uncompressed"."""
    if head.startswith(_GZIP_MAGIC):
        return "gzip"
    if head.startswith(_ZSTD_MAGIC) or (
        len(head) >= 4 and head[0] & 0xF0 == 0x50 and head[1:4] == _SKIPPABLE_ZSTD_MAGIC_TAIL
    ):
        return "zstd"
    return "uncompressed"


def _format_by_name(relpath: str) -> str:
    if relpath.endswith(".zst"):
        return "zstd"
    if relpath.endswith(".gz"):
        return "gzip"
    return "uncompressed"


class _Decoder:
    """Decompresses a chunk stream of any sniffed format; records damage instead of raising.

    After `chunks()` is exhausted: `damage` is None or a file-issue reason, `empty_frames` counts
    zstd frames that held no data, `out_bytes` is the number of decompressed bytes produced.
    """

    def __init__(self, compression: str) -> None:
        self.compression = compression
        self.damage: str | None = None
        self.empty_frames = 0
        self.out_bytes = 0

    def chunks(self, raw_chunks: Iterator[bytes]) -> Iterator[bytes]:
        if self.compression == "uncompressed":
            for chunk in raw_chunks:
                self.out_bytes += len(chunk)
                yield chunk
            return
        error = zstandard.ZstdError if self.compression == "zstd" else zlib.error
        try:
            yield from self._decompress(raw_chunks)
        except error:
            self.damage = (
                f"corrupt {self.compression} stream after {self.out_bytes} decompressed bytes"
            )

    def _new_member(self) -> Any:
        if self.compression == "zstd":
            return zstandard.ZstdDecompressor().decompressobj()
        return zlib.decompressobj(wbits=31)

    def _decompress(self, raw_chunks: Iterator[bytes]) -> Iterator[bytes]:
        """Frame by frame (zstd) or member by member (gzip), so empty frames can be counted."""
        member, member_in, member_out = self._new_member(), 0, 0
        for chunk in raw_chunks:
            pending = chunk
            while pending:
                out = member.decompress(pending)
                member_in += len(pending)
                member_out += len(out)
                if out:
                    self.out_bytes += len(out)
                    yield out
                if not member.eof:
                    break
                if member_out == 0 and self.compression == "zstd":
                    self.empty_frames += 1
                pending = member.unused_data
                member, member_in, member_out = self._new_member(), 0, 0
        if member_in:
            self.damage = (
                f"truncated {self.compression} stream after {self.out_bytes} decompressed bytes"
            )


def _raw_chunks(stream: Any, first: bytes) -> Iterator[bytes]:
    if first:
        yield first
    while chunk := stream.read(READ_CHUNK_BYTES):
        yield chunk


def _read_head(stream: Any, size: int) -> bytes:
    """The first `size` bytes of `stream` (fewer only at end of file), for sniffing."""
    head = b""
    while len(head) < size and (chunk := stream.read(READ_CHUNK_BYTES)):
        head += chunk
    return head


# ----------------------------------------------------------------------------- line splitting


@dataclass
class _Line:
    """One physical line without its '\\n'; `content` is None when longer than the limit."""

    content: bytes | None
    head: bytes  # the first RAW_ISSUE_BYTES bytes
    size: int  # bytes, without the '\n'
    terminated: bool  # False only for a last line without '\n'


def _head_of(pieces: list[bytes]) -> bytes:
    head = b""
    for piece in pieces:
        head += piece[: RAW_ISSUE_BYTES - len(head)]
        if len(head) >= RAW_ISSUE_BYTES:
            break
    return head


def _split_lines(chunks: Iterator[bytes], max_line_bytes: int) -> Iterator[_Line]:
    """Physical lines of a chunk stream; a line over `max_line_bytes` is skipped, not buffered."""
    pieces: list[bytes] = []  # the current line so far, unless skipping
    size = 0  # bytes of the current line so far
    head = b""  # set once the current line went over the limit
    skipping = False
    for chunk in chunks:
        start = 0
        while True:
            newline = chunk.find(b"\n", start)
            piece = chunk[start:] if newline < 0 else chunk[start:newline]
            size += len(piece)
            if not skipping:
                pieces.append(piece)
                if size > max_line_bytes:
                    head, pieces, skipping = _head_of(pieces), [], True
            if newline < 0:
                break
            if skipping:
                yield _Line(None, head, size, True)
            else:
                content = pieces[0] if len(pieces) == 1 else b"".join(pieces)
                yield _Line(content, content[:RAW_ISSUE_BYTES], size, True)
            pieces, size, head, skipping = [], 0, b"", False
            start = newline + 1
    if skipping:
        yield _Line(None, head, size, False)
    elif size:
        content = b"".join(pieces)
        yield _Line(content, content[:RAW_ISSUE_BYTES], size, False)


# ----------------------------------------------------------------------------- records


def json_type(value: Any) -> str:
    """The JSON name of a parsed value's type: object, array, string, number, boolean, null."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _has_unpaired_surrogate(line: str, record: dict) -> bool:
    """True if JSON escapes produced a lone surrogate (not encodable as UTF-8) in any value."""
    if "\\ud" not in line and "\\uD" not in line:
        return False
    try:
        json.dumps(record, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def parse_record(
    relpath: str, line_no: int, content: bytes, folder: str
) -> tuple[Document | None, list[Issue]]:
    """One non-blank line (BOM and trailing '\\r' already stripped) -> (document, issues).

    Exactly one of: a Document (with zero or more warnings), or one quarantined Issue.
    """

    def quarantine(reason: str) -> tuple[None, list[Issue]]:
        return None, [
            Issue(relpath, line_no, "quarantined", reason, content[:RAW_ISSUE_BYTES], len(content))
        ]

    record = orjson_if_exact(content)
    line = None  # the decoded line, when `json` parsed it (orjson never yields a lone surrogate)
    if record is None:
        try:
            line = content.decode("utf-8")
        except UnicodeDecodeError as error:
            return quarantine(f"invalid UTF-8 at byte {error.start}")
        if line.startswith("\ufeff"):
            return quarantine("invalid JSON: UTF-8 BOM not at file start")
        try:
            record = _JSON.decode(line)
        except json.JSONDecodeError as error:
            return quarantine(f"invalid JSON: {error.msg} at column {error.colno}")
        except RecursionError:
            return quarantine("invalid JSON: nested too deeply")
    if not isinstance(record, dict):
        return quarantine(f"JSON value is {_article(json_type(record))}, not an object")
    if "text" not in record:
        return quarantine("missing text")
    text = record["text"]
    if text is None:
        return quarantine("text is null")
    if not isinstance(text, str):
        return quarantine(f"text is {_article(json_type(text))}, not a string")
    meta = record.get("meta")
    if meta is not None and not isinstance(meta, dict):
        return quarantine(f"meta is {_article(json_type(meta))}, not an object")
    if line is not None and _has_unpaired_surrogate(line, record):
        return quarantine("unpaired surrogate in text or meta")

    warnings = []
    if meta is None:
        meta = {key: value for key, value in record.items() if key not in ("text", "meta")}
        if folder != _COMMON_CRAWL:
            reason = "missing meta" if "meta" not in record else "meta is null; treated as missing"
            warnings.append(Issue(relpath, line_no, "warning", reason))
    set_name = SET_NAMES[folder]
    if "redpajama_set_name" in meta:
        claimed = meta["redpajama_set_name"]
        if isinstance(claimed, str) and claimed in FOLDERS:
            set_name = claimed
        else:
            shown = repr(claimed)
            if len(shown) > 80:
                shown = shown[:77] + "..."
            warnings.append(
                Issue(
                    relpath,
                    line_no,
                    "warning",
                    f"unknown redpajama_set_name {shown}; using folder {folder!r}",
                )
            )
        meta = {key: value for key, value in meta.items() if key != "redpajama_set_name"}
    return Document(relpath, line_no, set_name, text, meta), warnings


def _article(type_name: str) -> str:
    """'an array', 'a number', but plain 'null'."""
    if type_name == "null":
        return type_name
    return ("an " if type_name[0] in "aeiou" else "a ") + type_name


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def read_input_file(f: InputFile, max_line_bytes: int = 256 * 2**20) -> Iterator[Document | Issue]:
    """Every record of one input file as a Document or a quarantined Issue, plus warnings and
    file-level Issues (see the module docstring). Lines are numbered from 1 in the decompressed
    stream, blank lines included; a line longer than `max_line_bytes` bytes (without its '\\n')
    is quarantined without being held in memory.
    """
    try:
        opened = FileSystems.open(f.path, compression_type=CompressionTypes.UNCOMPRESSED)
    except OSError as error:  # persistent (permissions, vanished file): report, do not crash
        yield Issue(f.relpath, 0, "file", f"cannot open: {error.strerror or error}")
        return
    with opened as stream:
        head = _read_head(stream, len(_ZSTD_MAGIC))
        if not head:
            yield Issue(f.relpath, 0, "file", "empty file")
            return
        compression = _sniff(head)
        if compression != _format_by_name(f.relpath):
            suffix = "." + f.relpath.rsplit(".", 1)[-1]
            yield Issue(
                f.relpath,
                0,
                "file",
                f"{compression} data under a {suffix} name; read as {compression}",
            )
        decoder = _Decoder(compression)
        blank = 0
        line_no = 0
        for physical in _split_lines(decoder.chunks(_raw_chunks(stream, head)), max_line_bytes):
            line_no += 1
            if not physical.terminated and decoder.damage:
                yield Issue(
                    f.relpath,
                    line_no,
                    "quarantined",
                    "incomplete line at damaged end of stream",
                    physical.head,
                    physical.size,
                )
                continue
            if physical.content is None:
                yield Issue(
                    f.relpath,
                    line_no,
                    "quarantined",
                    f"line too long: {physical.size} bytes > max_line_bytes {max_line_bytes}",
                    physical.head,
                    physical.size,
                )
                continue
            content = physical.content
            if line_no == 1 and content.startswith(_BOM):
                content = content[len(_BOM) :]
            if content.endswith(b"\r"):
                content = content[:-1]
            if not content.strip():
                blank += 1
                continue
            document, issues = parse_record(f.relpath, line_no, content, f.folder)
            yield from issues
            if document is not None:
                yield document
    if decoder.damage:
        yield Issue(f.relpath, 0, "file", decoder.damage)
    if decoder.empty_frames:
        yield Issue(f.relpath, 0, "file", _plural(decoder.empty_frames, "empty zstd frame"))
    elif decoder.out_bytes == 0 and not decoder.damage:
        yield Issue(f.relpath, 0, "file", f"{compression} stream holds no data")
    if blank:
        yield Issue(f.relpath, 0, "file", f"{_plural(blank, 'blank line')} skipped")
