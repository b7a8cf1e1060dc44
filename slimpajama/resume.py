"""The resume contract: a run records what it is (command, options, package version, input
listing) in `<work>/run.json` before any work starts; `--resume` reuses the finished units of a
leftover partial folder only when the new run is the same run, and otherwise refuses with one
line naming what differs (exit status 2 in the CLI)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from apache_beam.io.filesystems import FileSystems

from slimpajama import __version__

RUN_FILE = "run.json"


class ResumeRefused(Exception):
    """The leftover partial folder belongs to a different run (or to none)."""


def input_listing(paths: Mapping[str, str]) -> list[list[Any]]:
    """[relpath, size in bytes, mtime in seconds] of each input, sorted by relpath; `paths` maps
    relpath -> full path (local or any Beam filesystem)."""
    listing = []
    for relpath in sorted(paths):
        meta = FileSystems.match([paths[relpath]])[0].metadata_list[0]
        listing.append([relpath, meta.size_in_bytes, meta.last_updated_in_seconds])
    return listing


def fingerprint(command: str, options: Mapping[str, Any], listing: list[list[Any]]) -> dict[str, Any]:
    """What makes two runs the same run: the command, its output-shaping options, the package
    version and the input listing."""
    return {"command": command, "version": __version__, "options": dict(options), "inputs": listing}


def write_fingerprint(work: str, run: Mapping[str, Any]) -> None:
    """Record the run in `<work>/run.json` (before any unit of work is committed)."""
    with FileSystems.create(FileSystems.join(work, RUN_FILE)) as handle:
        handle.write(json.dumps(run, sort_keys=True, indent=1).encode())


def check_resumable(work: str, run: Mapping[str, Any]) -> None:
    """Raise ResumeRefused unless `<work>/run.json` records exactly `run`."""
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
