"""The Beam mix end to end on a small corpus: exact copies per document, split, decontamination,
release layout, report, determinism across reruns / worker counts, and the CLI."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from slimpajama.core.mixture import (
    SourceHistogram,
    Target,
    load_mixture,
    plan_mix,
    selection_bucket,
)
from slimpajama.core.sources import SET_NAMES
from slimpajama.core.split import holdout_threshold, split_of
from slimpajama.io.release import (
    encode_record,
    read_release_file,
    release_relpath,
    write_release_file,
)
from slimpajama.mix.cli import mix_command
from slimpajama.mix.config import MixConfig
from slimpajama.mix.pipeline import bin_count, mean_fill
from slimpajama.mix.run import release_names, run_mix
from slimpajama.mix.units import ShuffleBins, SpillBuffer, file_parts, read_docs, read_spill_range

SEED = 3
HOLDOUT = 0.05
DOCS_PER_SOURCE = 120
FILES = 3
CC = "RedPajamaCommonCrawl"
OPTIONS = ["--mixture", "slimpajama-627b", "--seed", str(SEED), "--holdout", str(HOLDOUT),
           "--counter", "bytes", "--docs-per-file", "100", "--files-per-chunk", "4"]


def random_text(rng: random.Random, words: int) -> str:
    return " ".join("".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9)))
                    for _ in range(words))


class Corpus:
    """Input docs as {(relpath, line): (set name, doc label, text)}; planted copies of a
    validation document are labelled 'planted-exact' and 'planted-near'."""

    def __init__(self, root: Path) -> None:
        self.root = root
        rng = random.Random(0)
        docs = [(name, f"{name}-{i}", random_text(rng, rng.randint(20, 120)))
                for name in sorted(SET_NAMES.values()) for i in range(DOCS_PER_SOURCE)]
        rng.shuffle(docs)
        files = [docs[f::FILES] for f in range(FILES)]
        threshold = holdout_threshold(HOLDOUT)
        self.docs = {(release_relpath("train", 1, f), line): doc
                     for f, lines in enumerate(files) for line, doc in enumerate(lines, 1)}
        self.original = next(doc for (relpath, line), doc in sorted(self.docs.items())
                             if doc[0] == CC and split_of(SEED, relpath, line, threshold) == "validation")
        words = self.original[2].split()
        near = " ".join("XYZZY" if i % 40 == 0 else w for i, w in enumerate(words))
        planted = [(CC, "planted-exact", self.original[2]), (CC, "planted-near", near)]
        last = release_relpath("train", 1, FILES - 1)
        while planted:
            line = len(files[-1]) + 1
            doc = planted.pop(0) if split_of(SEED, last, line, threshold) == "train" else docs[0]
            files[-1].append(doc)
            self.docs[last, line] = doc
        for f, lines in enumerate(files):
            write_release_file(str(root / release_relpath("train", 1, f)),
                               [encode_record(text, name, {"doc": label}) for name, label, text in lines])

    def plan(self):
        """The pure-function plan for OPTIONS (token counts are UTF-8 bytes)."""
        by_source: dict[str, list[tuple[int, int]]] = {}
        for (relpath, line), (name, _, text) in self.docs.items():
            by_source.setdefault(name, []).append((selection_bucket(SEED, relpath, line), len(text.encode())))
        histograms = {name: SourceHistogram.from_docs([b for b, _ in rows], [t for _, t in rows],
                                                      [t for _, t in rows])
                      for name, rows in by_source.items()}
        return plan_mix(load_mixture("slimpajama-627b"), histograms, Target(epochs=1.0))


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def records(root: Path, split: str) -> list[dict]:
    return [r for path in sorted(root.glob(f"{split}/chunk*/*.jsonl.zst"))
            for r in read_release_file(str(path))]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Corpus:
    return Corpus(tmp_path_factory.mktemp("sp"))


@pytest.fixture(scope="module")
def mixed(corpus, tmp_path_factory) -> tuple[Path, Path, dict]:
    sp = corpus.root
    out = tmp_path_factory.mktemp("mix") / "out"
    config = MixConfig(load_mixture("slimpajama-627b"), seed=SEED, holdout=HOLDOUT, counter="bytes",
                       docs_per_file=100, files_per_chunk=4)
    return sp, out, run_mix(str(sp), str(out), config)


def test_every_document_gets_exactly_its_planned_copies(corpus, mixed):
    _, out, report = mixed
    plan = corpus.plan()
    threshold = holdout_threshold(HOLDOUT)
    seen = {split: Counter(r["meta"]["doc"] for r in records(out, split))
            for split in ("train", "validation", "test")}
    for (relpath, line), (name, label, _) in corpus.docs.items():
        copies = plan.copies(name, selection_bucket(SEED, relpath, line))
        split = split_of(SEED, relpath, line, threshold) if copies else None
        expected = {"train": copies if split == "train" and not label.startswith("planted") else 0,
                    "validation": int(split == "validation"), "test": int(split == "test")}
        assert {s: seen[s][label] for s in expected} == expected, label
        assert copies <= -(-plan.sources[name].weight // 1)
    assert seen["validation"][corpus.original[1]] == 1
    for name, source in plan.sources.items():
        texts = [text.encode() for n, _, text in corpus.docs.values() if n == name]
        assert report["sources"][name]["available"] == {
            "tokens": sum(map(len, texts)), "bytes": sum(map(len, texts)), "docs": len(texts)}
        assert report["sources"][name]["mix"]["tokens"] == source.mixed.tokens
        assert report["sources"][name]["repeat_histogram"] == {str(k): v for k, v in source.repeats.items()}
    weights = {name: round(s["weight"], 3) for name, s in report["sources"].items()}
    assert weights[CC] > 3 and weights["RedPajamaC4"] > 1 and weights["RedPajamaBook"] < 1


def test_planted_copies_are_removed_and_reported(mixed):
    _, out, report = mixed
    removed = report["decontamination"]["removed"]
    assert removed["exact"]["docs"] == 1 and removed["near"]["docs"] == 1
    cc = report["sources"][CC]["decontamination"]
    assert cc["exact"]["docs"] == 1 and cc["near"]["docs"] == 1
    assert cc["exact"]["copies"] == removed["exact"]["copies"] in (3, 4)
    labels = {r["meta"]["doc"] for r in records(out, "train")}
    assert not labels & {"planted-exact", "planted-near"}


def test_report_counts_match_the_written_files(mixed):
    _, out, report = mixed
    for split in ("train", "validation", "test"):
        docs, nbytes = Counter(), Counter()
        for r in records(out, split):
            docs[r["meta"]["redpajama_set_name"]] += 1
            nbytes[r["meta"]["redpajama_set_name"]] += len(r["text"].encode())
        for name, row in report["sources"].items():
            assert (row[split]["docs"], row[split]["bytes"]) == (docs[name], nbytes[name]), (split, name)
        assert report["totals"][split]["docs"] == sum(docs.values())


def test_release_layout_and_file_limits(mixed):
    _, out, report = mixed
    files = {split: report["files"][split] for split in ("train", "validation", "test")}
    assert files["train"] > 4 and files["validation"] >= 1 and files["test"] >= 1
    expected = {"report.json", "report.html"} | {
        name for split, n in files.items() for name in release_names(split, n, 4)}
    assert set(tree(out)) == expected
    assert "train/chunk2/example_train_0.jsonl.zst" in expected
    for path in out.glob("*/chunk*/*.jsonl.zst"):
        lines = list(read_release_file(str(path)))
        assert 1 <= len(lines) <= 100
        assert list(lines[0]["meta"]) == ["redpajama_set_name", "doc"]
    assert not Path(f"{out}.tmp").exists()


def test_cli_rerun_overwrite_and_two_workers_are_byte_identical(mixed, tmp_path):
    sp, out, _ = mixed
    cli_out = tmp_path / "cli"
    runner = CliRunner()
    first = runner.invoke(mix_command, ["--input", str(sp), "--output", str(cli_out), *OPTIONS])
    assert first.exit_code == 0, first.output
    assert "RedPajamaCommonCrawl" in first.output and f"wrote {cli_out}" in first.output
    assert tree(cli_out) == tree(out)
    refused = runner.invoke(mix_command, ["--input", str(sp), "--output", str(cli_out), *OPTIONS])
    assert refused.exit_code == 2 and "is not empty" in refused.output
    again = runner.invoke(mix_command, ["--input", str(sp), "--output", str(cli_out), *OPTIONS,
                                        "--overwrite", "--direct_num_workers=2",
                                        "--direct_running_mode=multi_processing"])
    assert again.exit_code == 0, again.output
    assert tree(cli_out) == tree(out)


@pytest.mark.parametrize("workers", ["1", "3"])
def test_in_memory_pool_of_any_size_writes_the_same_bytes(mixed, tmp_path, workers):
    sp, out, _ = mixed
    cli_out = tmp_path / "cli"
    done = CliRunner().invoke(mix_command, ["--input", str(sp), "--output", str(cli_out), *OPTIONS,
                                            "--direct_num_workers", workers])
    assert done.exit_code == 0, done.output
    assert tree(cli_out) == tree(out)


def test_output_does_not_depend_on_shuffle_bins_or_spill_size(mixed, tmp_path):
    sp, out, report = mixed
    config = MixConfig(load_mixture("slimpajama-627b"), seed=SEED, holdout=HOLDOUT, counter="bytes",
                       docs_per_file=100, files_per_chunk=4, shuffle_bin_bytes=20_000,
                       spill_bytes=5_000)
    small = tmp_path / "small"
    assert run_mix(str(sp), str(small), config) == report
    assert tree(small) == tree(out)
    assert not Path(f"{small}.tmp").exists()


def test_spill_files_round_trip_per_bin(tmp_path):
    bins = ShuffleBins(logical=5, physical=2)
    assert [bins.of(key) for key in (0, 4, 7, 13)] == [(0, 0), (4, 0), (2, 0), (3, 1)]
    spill = SpillBuffer(str(tmp_path), file_index=7, limit=25)  # 12-byte header per record
    records = [("train", 1, 11, b"a\n"), ("test", 0, 5, b"bb\n"), ("train", 1, 3, b"c" * 30 + b"\n")]
    ranges = []
    for split, physical, key, line in records:
        spill.add(split, physical, key, line)
        if spill.full:
            ranges += list(spill.flush())
    ranges += list(spill.flush())
    assert [(shuffle_bin, Path(r.path).name) for shuffle_bin, r in ranges] == [
        (("test", 0), "spill-000007-00000"), (("train", 1), "spill-000007-00000"),
        (("train", 1), "spill-000007-00001")]
    assert [list(read_spill_range(r)) for _, r in ranges] == [
        [(5, b"bb\n")], [(11, b"a\n")], [(3, b"c" * 30 + b"\n")]]
    assert sorted(p.name for p in (tmp_path / "_shuffle").iterdir()) == [
        "spill-000007-00000", "spill-000007-00001"]  # no temporary names left


def test_cli_usage_errors(tmp_path):
    runner = CliRunner()
    both = runner.invoke(mix_command, ["--input", str(tmp_path), "--output", str(tmp_path / "o"),
                                       "--mixture", "natural", "--tokens", "5", "--epochs", "2"])
    assert both.exit_code == 2 and "at most one of --tokens and --epochs" in both.output
    (tmp_path / "sp").mkdir()
    empty = runner.invoke(mix_command, ["--input", str(tmp_path / "sp"), "--output", str(tmp_path / "o"),
                                        "--mixture", "natural", "--counter", "bytes"])
    assert empty.exit_code == 2 and "no train release files" in empty.output
    inside = runner.invoke(mix_command, ["--input", str(tmp_path), "--output", str(tmp_path / "o"),
                                         "--mixture", "natural", "--counter", "bytes"])
    assert inside.exit_code == 2 and "must not be the input" in inside.output
    unknown = runner.invoke(mix_command, ["--input", str(tmp_path), "--output", str(tmp_path / "o"),
                                          "--mixture", "nope"])
    assert unknown.exit_code == 2 and "unknown mixture 'nope'" in unknown.output


def test_documents_re_encode_to_their_input_bytes(tmp_path):
    lines = [encode_record("a", CC, {"big": 2**70, "nan": float("nan"), "f": 0.1}),
             encode_record("b", CC, {"neg": -0.0, "u64": 2**64 - 1})]
    write_release_file(str(tmp_path / release_relpath("train", 1, 0)), lines)
    docs = list(read_docs(str(tmp_path), release_relpath("train", 1, 0)))
    assert [encode_record(d.text, d.set_name, d.meta) for d in docs] == lines


def test_gpt2_counter_counts_like_encode_ordinary():
    from slimpajama.io.tokenizer import gpt2_encoding
    from slimpajama.mix.counters import batch_token_counter

    count, encode = batch_token_counter("gpt2"), gpt2_encoding().encode_ordinary
    rng = random.Random(1)
    texts = ["", "Hello world", "a <|endoftext|> b", "<|endoftext|>", "lone \ud800 surrogate",
             "café 東京 🙂\n\n  x", *(random_text(rng, rng.randint(1, 200)) for _ in range(20))]
    assert [count([text])[0] for text in texts] == [len(encode(text)) for text in texts]
    assert count(texts) == [len(encode(text)) for text in texts]
    assert count(["Hello world", "a <|endoftext|> b"]) == [2, 9]


def test_bins_and_file_parts():
    mean = mean_fill(10_000, 1.0)
    assert mean + 3 * mean**0.5 == pytest.approx(10_000) and round(mean) == 9704
    assert mean_fill(1, 1.0) == 0.5  # floored at half the limit
    assert bin_count(0, 0, 100, 1000) == 1
    assert bin_count(10_000, 10**6, 100, 10**9) == 135  # by docs: 10,000 / 74.16
    assert bin_count(10, 10**6, 100, 10**5) == 20  # by bytes: docs as large as a file
    lines = [b"a" * n for n in (3, 3, 3, 9, 1, 1)]
    assert file_parts(lines, 2, 7) == [[b"aaa", b"aaa"], [b"aaa"], [b"a" * 9], [b"a", b"a"]]
    assert release_names("validation", 3, 2) == [
        "validation/chunk1/example_holdout_0.jsonl.zst", "validation/chunk1/example_holdout_1.jsonl.zst",
        "validation/chunk2/example_holdout_0.jsonl.zst"]
