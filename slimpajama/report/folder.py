"""Reading and writing files of an output folder, local or on any Beam filesystem (`gs://`...).

Local paths use plain file objects; Beam is imported only for `scheme://` paths.
"""

from __future__ import annotations

import json
import os
from typing import IO, Any


def is_local(path: str) -> bool:
    """True for paths of the local filesystem (no `scheme://`)."""
    return "://" not in path


def join(folder: str, relpath: str) -> str:
    return os.path.join(folder, relpath) if is_local(folder) else folder.rstrip("/") + "/" + relpath


def exists(path: str) -> bool:
    if is_local(path):
        return os.path.exists(path)
    from apache_beam.io.filesystems import FileSystems

    return FileSystems.exists(path)


def parts(path: str, suffix: str) -> list[str]:
    """The `part-*.<suffix>` files of the folder `path`, in name order ([] when it is absent)."""
    if is_local(path):
        if not os.path.isdir(path):
            return []
        names = [n for n in os.listdir(path) if n.startswith("part-") and n.endswith(f".{suffix}")]
        return [os.path.join(path, n) for n in sorted(names)]
    from apache_beam.io.filesystems import FileSystems

    pattern = path.rstrip("/") + f"/part-*.{suffix}"
    return sorted(m.path for m in FileSystems.match([pattern])[0].metadata_list)


def open_binary(path: str) -> IO[bytes]:
    """A binary reader for `path`."""
    if is_local(path):
        return open(path, "rb")
    from apache_beam.io.filesystems import FileSystems

    return FileSystems.open(path)


def read_json(path: str) -> Any:
    with open_binary(path) as handle:
        return json.loads(handle.read().decode("utf-8"))


def size(path: str) -> int | None:
    """Size in bytes of a local file, None when it is absent or remote."""
    return os.path.getsize(path) if is_local(path) and os.path.isfile(path) else None


def write_bytes(path: str, data: bytes) -> None:
    if is_local(path):
        with open(path, "wb") as handle:
            handle.write(data)
        return
    from apache_beam.io.filesystems import FileSystems

    with FileSystems.create(path) as handle:
        handle.write(data)
