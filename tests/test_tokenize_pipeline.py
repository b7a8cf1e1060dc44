"""`slimpajama tokenize`: pure planning functions, the Beam pipeline end to end, the CLI."""

from __future__ import annotations

import hashlib
import json
import os
import random

import numpy as np
import pytest
from click.testing import CliRunner

from slimpajama.io.release import (
    encode_record,
    list_release_files,
    release_relpath,
    write_release_file,
)
from slimpajama.io.shards import read_megatron_shard
from slimpajama.io.tokenizer import gpt2_encoding
from slimpajama.tokenize.cli import tokenize_command
from slimpajama.tokenize.config import TokenizeOptions
from slimpajama.tokenize.pipeline import (
    hdf5_file_ranges,
    hdf5_pieces,
    megatron_pieces,
    read_part_sizes,
    read_part_tokens,
    tokenize_release_file,
    with_offsets,
)
from slimpajama.tokenize.run import run_tokenize

WORDS = "the of data model token café naïve 東京 🙂 def return x = 1 <|endoftext|>".split()
# (split, chunk, n) -> number of documents; created in a scrambled order on purpose
LAYOUT = {("train", 2, 1): 9, ("train", 1, 0): 12, ("train", 1, 2): 7, ("validation", 1, 0): 5}
SOURCES = ("RedPajamaC4", "RedPajamaGithub", "RedPajamaArXiv")


def make_release(root: str) -> dict[str, list[tuple[str, str]]]:
    """Release files under root; returns split -> [(text, source)] in stream order."""
    rng = random.Random(7)
    records: dict[tuple[str, int, int], list[tuple[str, str]]] = {}
    for (split, chunk, n), count in LAYOUT.items():
        docs = [
            (" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 60))), rng.choice(SOURCES))
            for _ in range(count)
        ]
        path = os.path.join(root, release_relpath(split, chunk, n))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        write_release_file(
            path, [encode_record(text, source, {"i": i}) for i, (text, source) in enumerate(docs)]
        )
        records[(split, chunk, n)] = docs
    stream: dict[str, list[tuple[str, str]]] = {}
    for key in sorted(records):
        stream.setdefault(key[0], []).extend(records[key])
    return stream


def expected_ids(docs: list[tuple[str, str]]) -> list[list[int]]:
    return [gpt2_encoding().encode_ordinary(text) + [50256] for text, _ in docs]


def tree_bytes(root: str) -> dict[str, bytes]:
    found = {}
    for folder, _, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            found[os.path.relpath(path, root)] = open(path, "rb").read()
    return found


@pytest.fixture(scope="module")
def release(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[str, dict[str, list[tuple[str, str]]]]:
    root = str(tmp_path_factory.mktemp("sp"))
    return root, make_release(root)


def test_megatron_pieces_cut_at_document_starts() -> None:
    sizes = np.array([4, 4, 4, 4, 4])  # starts 10, 14, 18, 22, 26 in the split
    assert megatron_pieces(sizes, offset=10, shard_tokens=8) == [(1, 0, 2), (2, 2, 4), (3, 4, 5)]
    assert megatron_pieces(np.zeros(0, np.int64), offset=5, shard_tokens=8) == []


def test_hdf5_ranges_and_pieces() -> None:
    # 23 tokens, msl 4: windows start at 0,4,...,16 (5 windows); 2 per file -> 3 files
    assert hdf5_file_ranges(23, msl=4, per_file=2) == [(0, 9), (8, 17), (16, 21)]
    ranges = hdf5_file_ranges(23, 4, 2)
    assert hdf5_pieces(10, offset=5, file_ranges=ranges) == [(0, 0, 4), (1, 3, 10)]
    assert hdf5_pieces(8, offset=15, file_ranges=ranges) == [(1, 0, 2), (2, 1, 6)]
    assert hdf5_file_ranges(4, msl=4, per_file=2) == []


def test_offsets_ignore_arrival_order() -> None:
    parts = [
        {"split": s, "index": i, "tokens": t}
        for s, i, t in [("validation", 0, 5), ("train", 1, 7), ("train", 0, 3), ("train", 2, 1)]
    ]
    result = with_offsets(parts)
    assert with_offsets(list(reversed(parts))) == result
    assert [(p["split"], p["index"], p["offset"], p["split_tokens"]) for p in result] == [
        ("train", 0, 0, 11),
        ("train", 1, 3, 11),
        ("train", 2, 10, 11),
        ("validation", 0, 0, 5),
    ]


def test_tokenize_release_file_exact(release, tmp_path) -> None:
    root, stream = release
    counts = tokenize_release_file(list_release_files(root, "validation")[0], str(tmp_path / "p"))
    sizes = read_part_sizes(str(tmp_path / "p"))
    tokens = read_part_tokens(str(tmp_path / "p"), 0, int(sizes.sum()))
    assert read_part_tokens(str(tmp_path / "p"), 3, 5).tolist() == tokens[3:5].tolist()
    ids = expected_ids(stream["validation"])
    assert tokens.tolist() == sum(ids, []) and sizes.tolist() == [len(i) for i in ids]
    assert counts["tokens"] == len(tokens) and counts["documents"] == 5
    assert sum(c["documents"] for c in counts["sources"].values()) == 5


def test_megatron_pipeline_end_to_end(release, tmp_path) -> None:
    root, stream = release
    out = str(tmp_path / "tok")
    options = TokenizeOptions(shard_tokens=300)
    manifest = run_tokenize(root, out, options)
    train_ids = expected_ids(stream["train"])
    train = manifest["splits"]["train"]
    assert train["documents"] == 28 and train["input_files"] == 3
    assert train["tokens"] == sum(map(len, train_ids))
    for source in SOURCES:
        docs = [ids for ids, (_, s) in zip(train_ids, stream["train"], strict=True) if s == source]
        assert train["sources"][source] == {"tokens": sum(map(len, docs)), "documents": len(docs)}
    assert manifest["splits"]["test"] == {
        "documents": 0,
        "input_files": 0,
        "shards": [],
        "sources": {},
        "tokens": 0,
    }
    assert manifest["tokenizer"]["eos_id"] == 50256 and manifest["options"]["shard_tokens"] == 300
    # shards concatenate to the stream; shard k holds the documents starting in [300k, 300k + 300)
    documents, starts = [], []
    for k, shard in enumerate(train["shards"]):
        assert shard["name"] == f"train/shard-{k:05d}"
        data = read_megatron_shard(os.path.join(out, shard["name"]))
        for i in range(len(data.sizes)):
            starts.append((k, sum(map(len, documents))))
            documents.append(data.document(i).tolist())
        assert shard["documents"] == len(data.sizes) and shard["tokens"] == len(data.tokens)
    assert documents == train_ids
    assert all(start // 300 == k for k, start in starts)
    assert len(train["shards"]) == (train["tokens"] - len(train_ids[-1])) // 300 + 1
    files = tree_bytes(out)
    for shard in train["shards"] + manifest["splits"]["validation"]["shards"]:
        for name, digest in shard["files"].items():
            assert hashlib.sha256(files[name]).hexdigest() == digest
    assert sorted(files) == sorted(
        ["manifest.json", "report.html"]
        + [n for s in manifest["splits"].values() for sh in s["shards"] for n in sh["files"]]
    )
    assert json.loads(files["manifest.json"]) == manifest
    assert os.listdir(tmp_path) == ["tok"]  # temporary folder renamed, parts removed


def test_same_bytes_in_memory_and_multi_processing(release, tmp_path) -> None:
    root, _ = release
    options = TokenizeOptions(shard_tokens=250)
    run_tokenize(root, str(tmp_path / "a"), options, beam_args=["--direct_running_mode=in_memory"])
    run_tokenize(
        root,
        str(tmp_path / "b"),
        options,
        beam_args=["--direct_running_mode=multi_processing", "--direct_num_workers=2"],
    )
    assert tree_bytes(str(tmp_path / "a")) == tree_bytes(str(tmp_path / "b"))
    for workers in ("1", "3"):  # in-memory runner: tokenize inline, or in a pool of 3 processes
        out = tmp_path / f"pool{workers}"
        run_tokenize(root, str(out), options, beam_args=[f"--direct_num_workers={workers}"])
        assert tree_bytes(str(out)) == tree_bytes(str(tmp_path / "a"))


def test_hdf5_pipeline(release, tmp_path) -> None:
    h5py = pytest.importorskip("h5py")
    root, stream = release
    options = TokenizeOptions(
        format="hdf5", seq_len=16, hdf5_sequences_per_file=10, splits=("train",)
    )
    manifest = run_tokenize(root, str(tmp_path / "tok"), options)
    tokens = np.array(sum(expected_ids(stream["train"]), []))
    n_windows = (len(tokens) - 1) // 16
    train = manifest["splits"]["train"]
    assert (
        train["sequences"] == n_windows
        and train["dropped_tail_tokens"] == len(tokens) - 16 * n_windows
    )
    assert [s["name"] for s in train["shards"]] == [
        f"train/data-{k:05d}.h5" for k in range(-(-n_windows // 10))
    ]
    rows = []
    for shard in train["shards"]:
        with h5py.File(tmp_path / "tok" / shard["name"], "r") as h5_file:
            assert h5_file.attrs["n_examples"] == shard["sequences"] == h5_file["data"].shape[0]
            assert h5_file["data"].chunks == (1, 3, 16) and h5_file["data"].compression == "gzip"
            assert shard["tokens"] == 16 * shard["sequences"]
            rows.append(h5_file["data"][()])
    data = np.concatenate(rows)
    assert np.array_equal(data[:, 0].ravel(), tokens[: 16 * n_windows])
    assert np.array_equal(data[:, 2].ravel(), tokens[1 : 16 * n_windows + 1])
    assert (data[:, 1] == 1).all()


def test_cli_tokenize_and_refusals(release, tmp_path) -> None:
    root, _ = release
    out = tmp_path / "tok"
    runner = CliRunner()
    args = [
        "--input",
        root,
        "--output",
        str(out),
        "--split",
        "validation",
        "--shard-tokens",
        "1000",
    ]
    result = runner.invoke(tokenize_command, args)
    assert result.exit_code == 0, result.output
    assert "validation: 5 documents" in result.output
    assert sorted(os.listdir(out)) == ["manifest.json", "report.html", "validation"]
    before = tree_bytes(str(out))
    refused = runner.invoke(tokenize_command, args)
    assert refused.exit_code == 2 and "not empty" in refused.output
    assert tree_bytes(str(out)) == before
    again = runner.invoke(
        tokenize_command, [*args, "--overwrite", "--direct_running_mode=in_memory"]
    )
    assert again.exit_code == 0, again.output
    assert tree_bytes(str(out)) == before
    bad = runner.invoke(
        tokenize_command, ["--input", root, "--output", str(tmp_path / "x"), "--split", "dev"]
    )
    assert bad.exit_code == 2
    empty = runner.invoke(
        tokenize_command, ["--input", str(tmp_path / "none"), "--output", str(tmp_path / "y")]
    )
    assert empty.exit_code == 2 and "no release files" in empty.output
    assert not (tmp_path / "y").exists()
