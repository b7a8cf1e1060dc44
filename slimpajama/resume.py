"""The resume contract: a run records what it is (command, options, package version, input
listing) in `<work>/run.json` before any work starts; `--resume` reuses the finished units of a
leftover partial folder only when the new run is the same run, and otherwise refuses with one
line naming what differs (exit status 2 in the CLI).

Beam's FileSystems is imported inside the functions, so the CLI can name ResumeRefused without
importing Beam (`--help` stays fast)."""

from __future__ import annotations

import json
import os
import pickle
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from slimpajama import __version__

RUN_FILE = "run.json"
UNITS_DIR = "units"
T = TypeVar("T")


class ResumeRefused(Exception):
    """The leftover partial folder belongs to a different run (or to none)."""


def input_listing(paths: Mapping[str, str]) -> list[list[Any]]:
    """[relpath, size in bytes, mtime in seconds] of each input, sorted by relpath; `paths` maps
    relpath -> full path (local or any Beam filesystem). One recursive listing of the inputs'
    common folder, not one metadata request per file (RedPajama-1T has ~60k input files)."""
    from apache_beam.io.filesystems import FileSystems

    listed = {meta.path: meta for meta in _listing(common_folder(list(paths.values())))}
    listing = []
    for relpath in sorted(paths):
        meta = listed.get(paths[relpath]) or FileSystems.match([paths[relpath]])[0].metadata_list[0]
        listing.append([relpath, meta.size_in_bytes, meta.last_updated_in_seconds])
    return listing


def common_folder(paths: Sequence[str]) -> str:
    """The deepest folder that holds every path ('/'-separated, any filesystem scheme)."""
    folders = [path.split("/")[:-1] for path in paths]
    common = folders[0] if folders else []
    for other in folders[1:]:
        size = 0
        while size < min(len(common), len(other)) and common[size] == other[size]:
            size += 1
        common = common[:size]
    return "/".join(common)


def _listing(folder: str) -> list[Any]:
    from apache_beam.io.filesystems import FileSystems

    if not folder:
        return []
    try:
        return FileSystems.match([FileSystems.join(folder, "**")])[0].metadata_list
    except Exception:  # noqa: BLE001  fall back to one request per file
        return []


def fingerprint(command: str, options: Mapping[str, Any], listing: list[list[Any]]) -> dict[str, Any]:
    """What makes two runs the same run: the command, its output-shaping options, the package
    version and the input listing."""
    return {"command": command, "version": __version__, "options": dict(options), "inputs": listing}


def write_fingerprint(work: str, run: Mapping[str, Any]) -> None:
    """Record the run in `<work>/run.json` (before any unit of work is committed)."""
    from apache_beam.io.filesystems import FileSystems

    with FileSystems.create(FileSystems.join(work, RUN_FILE)) as handle:
        handle.write(json.dumps(run, sort_keys=True, indent=1).encode())


def check_resumable(work: str, run: Mapping[str, Any]) -> None:
    """Raise ResumeRefused unless `<work>/run.json` records exactly `run`."""
    from apache_beam.io.filesystems import FileSystems

    path = FileSystems.join(work, RUN_FILE)
    if not FileSystems.exists(path):
        raise ResumeRefused(f"nothing to resume: {path} does not exist")
    with FileSystems.open(path) as handle:
        recorded = json.loads(handle.read())
    for key, what in (("command", "command"), ("version", "package version"),
                      ("options", "options"), ("inputs", "input listing")):
        if recorded.get(key) != json.loads(json.dumps(run[key])):
            detail = ""
            if key == "options":
                changed = sorted(k for k in set(recorded["options"]) | set(run["options"])
                                 if recorded["options"].get(k) != run["options"].get(k))
                detail = f" ({', '.join(changed)})"
            elif key == "inputs":
                old = {row[0]: row for row in recorded["inputs"]}
                new = {row[0]: list(row) for row in run["inputs"]}
                changed = sorted(p for p in set(old) | set(new) if old.get(p) != new.get(p))
                detail = f" ({', '.join(changed[:3])}{', ...' if len(changed) > 3 else ''})"
            elif key == "version":
                detail = f" ({recorded.get('version')} -> {run['version']})"
            verb = "differ" if key == "options" else "differs"
            raise ResumeRefused(f"cannot resume: the {what} {verb} from the interrupted run's{detail}")


ABORT_ENV = "SLIMPAJAMA_ABORT_AFTER_UNITS"
"""Fault injection for the resume tests: with N set, a worker process dies like `kill -9` right
after it committed its Nth unit of work."""
_committed_units = 0


def abort_for_tests() -> None:
    """Die (exit status 137, no clean-up) after the ABORT_ENV-th committed unit of this process."""
    limit = os.environ.get(ABORT_ENV)
    if limit is None:
        return
    global _committed_units  # noqa: PLW0603  one count per worker process
    _committed_units += 1
    if _committed_units >= int(limit):
        os._exit(137)


def unit_outputs_path(work: str, stage: str, unit: str) -> str:
    """Where the outputs of one committed unit of work are kept."""
    from apache_beam.io.filesystems import FileSystems

    return FileSystems.join(work, UNITS_DIR, stage, f"{unit}.pickle")


def run_unit(work: str, stage: str, unit: str, compute: Callable[[], list[T]],
             stats: Callable[[list[T]], Mapping[str, int]]) -> list[T]:
    """The outputs of one unit of work (an input file), computed at most once per run: if a
    killed run already committed them (its marker exists) they are read back; otherwise they are
    computed, committed (pickle under a temporary name, then a rename) and marked done with
    `stats(outputs)` (keyword counts for `progress.mark_done`). The marker is the last write."""
    from apache_beam.io.filesystems import FileSystems

    from slimpajama.progress import is_done, mark_done

    path = unit_outputs_path(work, stage, unit)
    if is_done(work, stage, unit):
        with FileSystems.open(path) as handle:
            return pickle.loads(handle.read())
    outputs = compute()
    temporary = f"{path}.tmp-{uuid.uuid4().hex}"
    with FileSystems.create(temporary) as handle:
        handle.write(pickle.dumps(outputs, protocol=pickle.HIGHEST_PROTOCOL))
    FileSystems.rename([temporary], [path])
    mark_done(work, stage, unit, **stats(outputs))
    abort_for_tests()
    return outputs


def prepare_work(work: str, run: Mapping[str, Any], resume: bool, leftover: str | None = None) -> None:
    """Make the work folder ready for the run `run` (a fingerprint). With `resume`: refuse unless
    `<work>/run.json` records exactly this run. Without: delete any `leftover` folder (default
    `work` itself) of an earlier run and record this run's fingerprint before any work starts."""
    from apache_beam.io.filesystems import FileSystems

    if resume:
        if not FileSystems.exists(FileSystems.join(work, RUN_FILE)):
            raise ResumeRefused(f"nothing to resume: {work} holds no interrupted run")
        check_resumable(work, run)
        return
    leftover = leftover or work
    if FileSystems.exists(leftover):
        FileSystems.delete([leftover])
    write_fingerprint(work, run)
