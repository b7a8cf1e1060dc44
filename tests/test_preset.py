"""--preset slimpajama flags exactly the duplicate components the reference pipeline would: an
independent computation with datasketch legacy MinHash, byte band keys and a plain BFS."""

from __future__ import annotations

import json
import re
import string
from collections import defaultdict
from pathlib import Path

import ftfy
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from datasketch import MinHash
from datasketch.hashfunc import sha1_hash32

from slimpajama.cli import main
from slimpajama.io.inputs import Document, discover_inputs, read_input_file

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "rp"


def reference_key(text: str) -> str:
    text = text.lower().translate(str.maketrans("", "", string.punctuation))
    return re.sub(r"\s+", " ", text.strip())


def reference_components() -> list[frozenset[str]]:
    """SlimPajama's method on the fixtures (short documents excluded before LSH)."""
    buckets = [defaultdict(list) for _ in range(9)]
    for f in discover_inputs(str(FIXTURES)):
        for doc in read_input_file(f):
            if not isinstance(doc, Document):
                continue
            key = reference_key(ftfy.fix_text(doc.text, normalization="NFC"))
            if len(key) < 200:
                continue
            m = MinHash(num_perm=128, seed=1, hashfunc=sha1_hash32, scheme="legacy")
            for i in range(len(key) - 12):
                m.update(key[i:i + 13].encode("utf-8"))
            for b in range(9):
                buckets[b][bytes(m.hashvalues[b * 13:(b + 1) * 13].data)].append(f"{doc.relpath}:{doc.line}")
    graph = defaultdict(set)
    for band in buckets:
        for ids in band.values():
            for other in ids[1:]:
                graph[ids[0]].add(other)
                graph[other].add(ids[0])
    seen, result = set(), []
    for start in graph:
        if start in seen:
            continue
        stack, component = [start], set()
        while stack:
            node = stack.pop()
            if node not in component:
                component.add(node)
                stack.extend(graph[node] - component)
        seen |= component
        result.append(frozenset(component))
    return result


@pytest.mark.beam
def test_preset_slimpajama_flags_exactly_the_reference_components(tmp_path):
    out = tmp_path / "sp"
    result = CliRunner().invoke(
        main, ["dedup", "--input", str(FIXTURES), "--output", str(out), "--preset", "slimpajama"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    options = report["options"]
    assert (options["scheme"], options["bands"], options["rows"], options["verify"]) == ("reference", 9, 13, False)
    clusters = defaultdict(set)
    for row in pq.read_table(out / "duplicates").to_pylist():
        clusters[row["cluster_id"]] |= {row["id"], row["kept_id"]}
    expected = reference_components()
    assert len(expected) >= 10  # the fixtures plant that many duplicate groups
    assert sorted(map(sorted, clusters.values())) == sorted(map(sorted, expected))
