"""Progress of a running command, from completion markers the workers write.

A worker that finishes one unit of work (an input file, a bin, a shard) writes a small JSON marker
`<work>/progress/<stage>/<unit>.json` holding its counts, last, after the unit's own outputs are
committed, by a write to a temporary name and a rename. The driver's `ProgressPrinter` thread reads
the markers every second and prints to stderr, at least every `interval` seconds while a stage
runs, a line such as

    scan: files 12/40, 131,021 docs, 1,204 MB, 14.2 MB/s, ETA 02:31

and one line when a stage starts and one when it ends, with its time. Markers work the same on the
in-process and multi-process runners and on any Beam filesystem, because the driver only lists
files. The same markers tell a resumed run which units are finished.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from typing import Any, NamedTuple, TextIO

from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import StandardOptions

PROGRESS_DIR = "progress"
INTERVAL_ENV = "SLIMPAJAMA_PROGRESS_INTERVAL"
DEFAULT_INTERVAL = 10.0  # seconds between two progress lines of a running stage
LOCAL_RUNNERS = frozenset({"FnApiRunner", "DirectRunner", "BundleBasedDirectRunner",
                           "SwitchingDirectRunner"})
"""Runners whose work runs in or next to this process (everything else gets a job line)."""


class Stage(NamedTuple):
    """A stage whose units are counted: `total` units named `unit_word` (files, bins, shards);
    `total_bytes` is the size on disk of all its inputs when known (for the ETA), else 0."""

    name: str
    unit_word: str
    total: int
    total_bytes: int = 0


class Mark(NamedTuple):
    """Counts of one finished unit: documents, text bytes, and bytes read from disk."""

    docs: int
    nbytes: int
    disk_bytes: int


def marker_dir(work: str, stage: str) -> str:
    """The folder of a stage's completion markers."""
    return FileSystems.join(work, PROGRESS_DIR, stage)


def mark_done(work: str, stage: str, unit: str, docs: int = 0, nbytes: int = 0,
              disk_bytes: int = 0) -> None:
    """Commit the marker of one finished unit (temporary name, then rename; last write of a unit)."""
    final = FileSystems.join(marker_dir(work, stage), f"{unit}.json")
    temporary = f"{final}.tmp-{uuid.uuid4().hex}"
    body = json.dumps({"docs": docs, "bytes": nbytes, "disk_bytes": disk_bytes}).encode()
    with FileSystems.create(temporary) as handle:
        handle.write(body)
    if "://" in final:
        FileSystems.rename([temporary], [final])
    else:
        os.replace(temporary, final)


def is_done(work: str, stage: str, unit: str) -> bool:
    """True when the marker of `unit` is committed (one existence check, no listing)."""
    return FileSystems.exists(FileSystems.join(marker_dir(work, stage), f"{unit}.json"))


def finished_units(work: str, stage: str, known: dict[str, Mark] | None = None) -> dict[str, Mark]:
    """Unit name -> counts, for every committed marker of `stage` (none when the folder is absent).
    Markers already in `known` are not read again (a marker never changes once committed): a
    polling driver lists the folder but reads each marker once."""
    pattern = FileSystems.join(marker_dir(work, stage), "*.json")
    try:
        found = FileSystems.match([pattern])[0].metadata_list
    except Exception:  # noqa: BLE001  no folder yet: nothing finished
        return {}
    marks = {}
    for meta in found:
        name = meta.path.rsplit("/", 1)[-1][: -len(".json")]
        if known is not None and name in known:
            marks[name] = known[name]
            continue
        with FileSystems.open(meta.path) as handle:
            data = json.loads(handle.read())
        marks[name] = Mark(data["docs"], data["bytes"], data["disk_bytes"])
    return marks


def clock(seconds: float) -> str:
    """mm:ss, or h:mm:ss from one hour on."""
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def progress_line(stage: Stage, marks: Sequence[Mark], elapsed: float) -> str:
    """`scan: files 12/40, 131,021 docs, 1,204 MB, 14.2 MB/s, ETA 02:31` (MB = 10^6 text bytes;
    the ETA extrapolates disk bytes when known, else units; `--:--` before the first unit)."""
    done = len(marks)
    docs = sum(m.docs for m in marks)
    nbytes = sum(m.nbytes for m in marks)
    rate = nbytes / 1e6 / elapsed if elapsed > 0 else 0.0
    if stage.total_bytes:
        fraction = min(1.0, sum(m.disk_bytes for m in marks) / stage.total_bytes)
    else:
        fraction = done / stage.total if stage.total else 1.0
    eta = clock(elapsed * (1 - fraction) / fraction) if fraction > 0 else "--:--"
    return (f"{stage.name}: {stage.unit_word} {done}/{stage.total}, {docs:,} docs, "
            f"{nbytes / 1e6:,.0f} MB, {rate:.1f} MB/s, ETA {eta}")


def progress_interval() -> float:
    """Seconds between progress lines: `SLIMPAJAMA_PROGRESS_INTERVAL`, else 10."""
    return float(os.environ.get(INTERVAL_ENV, DEFAULT_INTERVAL))


POLL_BACKOFF = 4
"""The progress thread waits at least this many times as long as its last poll took."""


class ProgressPrinter:
    """Prints the progress of `stages` (in order) from their markers under `work`, on a thread.

    Use as a context manager around the pipeline run; on exit it prints the end line of every
    stage that finished. `stream=None` (the commands' `--quiet`) prints nothing.
    """

    def __init__(self, work: str, stages: Sequence[Stage], stream: TextIO | None = sys.stderr,
                 interval: float | None = None, poll: float = 1.0) -> None:
        self._work, self._stages, self._stream = work, list(stages), stream
        self._interval = progress_interval() if interval is None else interval
        self._poll = poll
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="progress", daemon=True)
        self._started: dict[str, float] = {}
        self._ended: set[str] = set()
        self._last_line: dict[str, float] = {}
        self._marks: dict[str, dict[str, Mark]] = {stage.name: {} for stage in self._stages}

    def __enter__(self) -> ProgressPrinter:
        if self._stream is not None:
            self._t0 = time.monotonic()
            self._thread.start()
        return self

    def __exit__(self, kind: object, *_: object) -> None:
        if self._stream is None:
            return
        self._stop.set()
        self._thread.join()
        if kind is None:
            self._update(final=True)

    def _say(self, line: str) -> None:
        assert self._stream is not None
        self._stream.write(line + "\n")
        self._stream.flush()

    def _loop(self) -> None:
        """Poll every `poll` seconds, or less often when listing the markers is slow (tens of
        thousands of markers on a remote filesystem): at most a fifth of the time is spent polling."""
        wait = self._poll
        while not self._stop.wait(wait):
            started = time.monotonic()
            self._update(final=False)
            wait = max(self._poll, POLL_BACKOFF * (time.monotonic() - started))

    def _update(self, final: bool) -> None:
        now = time.monotonic()
        for index, stage in enumerate(self._stages):
            if stage.name in self._ended:
                continue
            self._marks[stage.name] = finished_units(self._work, stage.name, self._marks[stage.name])
            marks = list(self._marks[stage.name].values())
            if stage.name not in self._started:
                if not marks and index and self._stages[index - 1].name not in self._ended:
                    return  # an earlier stage is still running and this one has not begun
                self._started[stage.name] = self._t0 if index == 0 else now
                self._last_line[stage.name] = now
                self._say(f"{stage.name}: started, {stage.total} {stage.unit_word}")
            elapsed = now - self._started[stage.name]
            if len(marks) >= stage.total:
                self._ended.add(stage.name)
                self._say(progress_line(stage, marks, elapsed))
                self._say(f"{stage.name}: done in {clock(elapsed)}")
                continue
            if now - self._last_line[stage.name] >= self._interval or final:
                self._last_line[stage.name] = now
                self._say(progress_line(stage, marks, elapsed))
            return


def run_to_completion(pipeline: Any, stream: TextIO | None = None) -> Any:
    """Run a Beam pipeline and wait for it. On a runner that is not local, first say on `stream`
    what is known: the runner, its job id and where its own monitoring is."""
    result = pipeline.run()
    runner = pipeline.options.view_as(StandardOptions).runner or "DirectRunner"
    if stream is not None and runner not in LOCAL_RUNNERS:
        job_id = getattr(result, "job_id", None)
        stream.write(f"{runner}: job {job_id() if callable(job_id) else '(no id)'} submitted; "
                     "stage progress below, details in the runner's own monitoring "
                     "(Dataflow: the job page of the Cloud console)\n")
        stream.flush()
    result.wait_until_finish()
    return result
