"""`slimpajama explain OUT DOC_ID`: why one document was removed, kept, dropped or quarantined,
read from a dedup output's audit part files (duplicates/, edges/, short/, quarantine/) and
report.json. Parquet parts are read with a row filter on the id columns (row groups whose
statistics exclude the id are skipped), so memory holds only the matching rows, never a whole
audit table; quarantine parts are streamed line by line."""

from __future__ import annotations

import json
from collections import deque
from typing import Any

import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems

from slimpajama.dedup.pipeline import DUPLICATES_DIR, EDGES_DIR, QUARANTINE_DIR, SHORT_DIR


class UnknownDocument(LookupError):
    """The id appears in no audit file and is not a well-formed `relpath:line`."""


def _parts(root: str, folder: str, suffix: str) -> list[str]:
    """The part files of one audit folder, in part order ([] when the folder is absent)."""
    pattern = FileSystems.join(root, folder, f"part-*.{suffix}")
    return sorted(m.path for m in FileSystems.match([pattern])[0].metadata_list)


def _rows(root: str, folder: str, column: str, values: list[str]) -> list[dict[str, Any]]:
    """The rows of an audit folder whose `column` is one of `values`, in part order."""
    rows: list[dict[str, Any]] = []
    for path in _parts(root, folder, "parquet"):
        with FileSystems.open(path) as fh:
            rows.extend(pq.read_table(fh, filters=[(column, "in", values)]).to_pylist())
    return rows


def _describe_edge(edge: dict[str, Any]) -> str:
    similarity = "not verified" if edge["jaccard"] is None else f"Jaccard {edge['jaccard']:.4f}"
    return f"band {edge['band']}, {similarity}"


def edge_path(edges: list[dict[str, Any]], start: str, goal: str) -> list[tuple[str, dict[str, Any]]]:
    """Shortest chain of edges from `start` to `goal` (breadth-first, neighbours in id order):
    [(next id, edge), ...]; [] when start == goal."""
    neighbours: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for edge in edges:
        neighbours.setdefault(edge["a_id"], []).append((edge["b_id"], edge))
        neighbours.setdefault(edge["b_id"], []).append((edge["a_id"], edge))
    previous: dict[str, tuple[str, dict[str, Any]] | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node == goal:
            break
        for nxt, edge in sorted(neighbours.get(node, []), key=lambda x: x[0]):
            if nxt not in previous:
                previous[nxt] = (node, edge)
                queue.append(nxt)
    path = []
    node = goal
    while previous.get(node) is not None:
        before, edge = previous[node]
        path.append((node, edge))
        node = before
    return list(reversed(path))


def explain(root: str, doc_id: str) -> list[str]:
    """Human-readable lines explaining the fate of `doc_id` in the dedup output at `root`."""
    report = json.loads(FileSystems.open(FileSystems.join(root, "report.json")).read())
    keep = report["options"]["keep"]
    removed = _rows(root, DUPLICATES_DIR, "id", [doc_id])
    if removed:
        (row,) = removed
        cluster = _rows(root, DUPLICATES_DIR, "cluster_id", [row["cluster_id"]])
        members = sorted({r["id"] for r in cluster} | {row["kept_id"]})
        lines = [
            f"{doc_id}: REMOVED as a duplicate ({row['source']}, {row['bytes']} bytes)",
            f"  cluster {row['cluster_id']} ({len(members)} documents), kept: {row['kept_id']} (--keep {keep})",
            f"  first matched {row['matched_id']} in band {row['band']}"
            + ("" if row["jaccard"] is None else f", exact Jaccard {row['jaccard']:.4f}"),
            "  path to the kept document:",
        ]
        edges = _rows(root, EDGES_DIR, "a_id", members)
        node = doc_id
        for nxt, edge in edge_path(edges, doc_id, row["kept_id"]):
            lines.append(f"    {node} -> {nxt}: {_describe_edge(edge)}")
            node = nxt
        return lines
    kept_of = _rows(root, DUPLICATES_DIR, "kept_id", [doc_id])
    if kept_of:
        return [
            f"{doc_id}: KEPT as the representative of cluster {kept_of[0]['cluster_id']} (--keep {keep})",
            *(f"  removed in its favour: {r['id']}" for r in kept_of),
        ]
    for issue in _issues(root, doc_id):
        if issue["kind"] == "quarantined":
            return [f"{doc_id}: QUARANTINED: {issue['reason']}"]
    short = _rows(root, SHORT_DIR, "id", [doc_id])
    if short:
        return [f"{doc_id}: SHORT: key text of {short[0]['key_chars']} characters < --min-chars "
                f"{report['options']['min_chars']}"]
    relpath, _, line = doc_id.rpartition(":")
    if not relpath or not line.isdigit():
        raise UnknownDocument(f"not a document id (expected relpath:line): {doc_id}")
    warnings = [f"  warning: {i['reason']}" for i in _issues(root, doc_id) if i["kind"] == "warning"]
    return [f"{doc_id}: KEPT: no candidate duplicate (or not in this input; ids are relpath:line)",
            *warnings]


def _issues(root: str, doc_id: str) -> list[dict[str, Any]]:
    """The issues of `doc_id`, streaming the quarantine parts line by line."""
    found = []
    for path in _parts(root, QUARANTINE_DIR, "jsonl"):
        with FileSystems.open(path) as fh:
            found.extend(issue for issue in map(json.loads, fh) if issue["id"] == doc_id)
    return found
