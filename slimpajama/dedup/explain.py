"""`slimpajama explain OUT DOC_ID`: why one document was removed, kept, dropped or quarantined,
read from a dedup output's audit files (duplicates.parquet, edges.parquet, short.parquet,
quarantine/issues.jsonl, report.json)."""

from __future__ import annotations

import json
from collections import deque
from typing import Any

import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems

from slimpajama.dedup.pipeline import DUPLICATES_FILE, EDGES_FILE, QUARANTINE_FILE, SHORT_FILE


class UnknownDocument(LookupError):
    """The id appears in no audit file and is not a well-formed `relpath:line`."""


def _rows(root: str, name: str) -> list[dict[str, Any]]:
    with FileSystems.open(FileSystems.join(root, name)) as fh:
        return pq.read_table(fh).to_pylist()


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
    duplicates = _rows(root, DUPLICATES_FILE)
    removed = {row["id"]: row for row in duplicates}
    if doc_id in removed:
        row = removed[doc_id]
        members = sorted({r["id"] for r in duplicates if r["cluster_id"] == row["cluster_id"]} | {row["kept_id"]})
        lines = [
            f"{doc_id}: REMOVED as a duplicate ({row['source']}, {row['bytes']} bytes)",
            f"  cluster {row['cluster_id']} ({len(members)} documents), kept: {row['kept_id']} (--keep {keep})",
            f"  first matched {row['matched_id']} in band {row['band']}"
            + ("" if row["jaccard"] is None else f", exact Jaccard {row['jaccard']:.4f}"),
            "  path to the kept document:",
        ]
        edges = [e for e in _rows(root, EDGES_FILE) if e["a_id"] in members]
        node = doc_id
        for nxt, edge in edge_path(edges, doc_id, row["kept_id"]):
            lines.append(f"    {node} -> {nxt}: {_describe_edge(edge)}")
            node = nxt
        return lines
    kept_of = [r for r in duplicates if r["kept_id"] == doc_id]
    if kept_of:
        return [
            f"{doc_id}: KEPT as the representative of cluster {kept_of[0]['cluster_id']} (--keep {keep})",
            *(f"  removed in its favour: {r['id']}" for r in kept_of),
        ]
    for issue in _issues(root, doc_id):
        if issue["kind"] == "quarantined":
            return [f"{doc_id}: QUARANTINED: {issue['reason']}"]
    short = {r["id"]: r["key_chars"] for r in _rows(root, SHORT_FILE)}
    if doc_id in short:
        return [f"{doc_id}: SHORT: key text of {short[doc_id]} characters < --min-chars "
                f"{report['options']['min_chars']}"]
    relpath, _, line = doc_id.rpartition(":")
    if not relpath or not line.isdigit():
        raise UnknownDocument(f"not a document id (expected relpath:line): {doc_id}")
    warnings = [f"  warning: {i['reason']}" for i in _issues(root, doc_id) if i["kind"] == "warning"]
    return [f"{doc_id}: KEPT: no candidate duplicate (or not in this input; ids are relpath:line)",
            *warnings]


def _issues(root: str, doc_id: str) -> list[dict[str, Any]]:
    with FileSystems.open(FileSystems.join(root, QUARANTINE_FILE)) as fh:
        return [issue for issue in map(json.loads, fh) if issue["id"] == doc_id]
