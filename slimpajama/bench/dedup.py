"""End-to-end dedup benchmark: `python -m slimpajama.bench dedup [--mb 200] [--quick]`.

Generates (once, cached under bench/data/) a RedPajama-1T-layout corpus of realistic documents
(`bench.corpus.realistic_corpus`: every source in its RedPajama byte share and with its real
non-ASCII profile, printed and stored next to the target) with planted exact and near copies
across sources, runs the real `slimpajama dedup` CLI on it in a subprocess (in-memory
runner, then 2 worker processes), and records wall time, CPU seconds and the peak RSS of the whole
process tree. In the same run, a SlimPajama-style peer (datasketch legacy MinHash updated shingle by
shingle, one dict per band, union-find; the reference scripts' method) dedups a subsample, so the
result carries a same-machine ratio. Writes bench/results/dedup.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

import zstandard

from slimpajama.bench.corpus import (
    CORPUS_VERSION,
    flat_documents,
    format_profile,
    profile_record,
    realistic_corpus,
)
from slimpajama.core.union_find import connected_components

RESULTS = Path("bench/results")
DATA = Path("bench/data")
CC_SNAPSHOTS = ("common_crawl/2019-30", "common_crawl/2023-06")
"""CommonCrawl documents alternate between these two snapshot folders."""
SHARES = {  # RedPajama-1T token shares: where the planted copies go
    "common_crawl/2019-30": 0.36, "common_crawl/2023-06": 0.36, "c4": 0.14, "github": 0.05,
    "book": 0.03, "arxiv": 0.03, "wikipedia": 0.02, "stackexchange": 0.01,
}
DUPLICATE_FRACTION = 0.25  # of documents are planted copies of another document
FILE_BYTES = 8_000_000


def mutate(text: str, rng: random.Random, rate: float) -> str:
    """Replace about `rate` of the words with a random other word of the text."""
    words = text.split(" ")
    for _ in range(int(len(words) * rate)):
        words[rng.randrange(len(words))] = words[rng.randrange(len(words))]
    return " ".join(words)


def originals(total_bytes: int, seed: int = 0) -> dict[str, list[str]]:
    """The realistic documents per source that `planted_corpus` adds copies to."""
    return realistic_corpus(total_bytes * (1 - DUPLICATE_FRACTION * 0.9) / 1e6, seed)


def planted_corpus(generated: dict[str, list[str]], seed: int = 0) -> list[tuple[str, str]]:
    """(folder, text) pairs: the generated documents in their own folders (CommonCrawl split
    between two snapshots), plus exact and near copies of random ones placed in random folders."""
    rng = random.Random(seed)
    docs, crawled = [], 0
    for source, text in flat_documents(generated):
        if source == "common_crawl":
            source, crawled = CC_SNAPSHOTS[crawled % 2], crawled + 1
        docs.append((source, text))
    texts = [text for _, text in docs]
    folders = list(SHARES)
    weights = list(SHARES.values())
    for _ in range(int(len(texts) * DUPLICATE_FRACTION)):
        original = texts[rng.randrange(len(texts))]
        copy = original if rng.random() < 0.5 else mutate(original, rng, rng.choice([0.005, 0.02]))
        docs.insert(rng.randrange(len(docs) + 1), (rng.choices(folders, weights)[0], copy))
    return docs


def write_layout(root: Path, docs: list[tuple[str, str]]) -> int:
    """Write docs into RedPajama-layout files (CC as .jsonl.zst); returns total text bytes."""
    by_folder: dict[str, list[str]] = {}
    for folder, text in docs:
        by_folder.setdefault(folder, []).append(text)
    total = 0
    for folder, texts in sorted(by_folder.items()):
        lines = [json.dumps({"text": t, "meta": {}}, ensure_ascii=False) + "\n" for t in texts]
        total += sum(len(t.encode()) for t in texts)
        part, size, n = [], 0, 0
        for line in lines + [None]:
            if line is not None:
                part.append(line)
                size += len(line)
            if part and (line is None or size >= FILE_BYTES):
                data = "".join(part).encode()
                (root / folder).mkdir(parents=True, exist_ok=True)
                if folder.startswith("common_crawl"):
                    name = f"en_head_{n:04d}.json.gz.dedup.classifier.jsonl.zst"
                    data = zstandard.ZstdCompressor(level=3).compress(data)
                else:
                    name = f"{folder}_{n:04d}.jsonl"
                (root / folder / name).write_bytes(data)
                part, size, n = [], 0, n + 1
    return total


def corpus(total_bytes: int) -> tuple[Path, int, dict, list[tuple[str, str]] | None]:
    """The cached corpus folder, its text bytes and the originals' profile (generated on first
    use, then also the documents)."""
    root = DATA / f"dedup-realistic-v{CORPUS_VERSION}-{total_bytes // 1_000_000}mb"
    marker = root / "done.json"
    if marker.exists():
        done = json.loads(marker.read_text())
        print("[bench dedup] cached corpus; its profile, measured/target per source:")
        print(format_profile(done["profile"]["measured"]))
        return root / "rp", done["text_bytes"], done["profile"], None
    generated = originals(total_bytes)
    profile = profile_record(generated, "bench dedup")
    docs = planted_corpus(generated)
    text_bytes = write_layout(root / "rp", docs)
    marker.write_text(json.dumps({"text_bytes": text_bytes, "docs": len(docs), "profile": profile}))
    return root / "rp", text_bytes, profile, docs


class TreeRss:
    """Samples the summed RSS of a process and all its descendants (Linux /proc), and the CPU
    seconds of each descendant (the last sample of each: pool workers that the process does not
    reap are missed by `os.times`)."""

    def __init__(self, pid: int, every: float = 0.1) -> None:
        self.pid, self.every, self.peak = pid, every, 0
        self.descendant_cpu: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _tree_rss(self) -> int:
        parents: dict[int, int] = {}
        rss: dict[int, int] = {}
        cpu: dict[int, float] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
                parents[int(entry)] = int(stat[1])
                rss[int(entry)] = int(stat[21]) * os.sysconf("SC_PAGE_SIZE")
                cpu[int(entry)] = (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
            except (OSError, IndexError, ValueError):
                continue
        tree, frontier = {self.pid}, [self.pid]
        while frontier:
            parent = frontier.pop()
            children = [p for p, pp in parents.items() if pp == parent and p not in tree]
            tree.update(children)
            frontier.extend(children)
        for pid in tree - {self.pid}:
            self.descendant_cpu[pid] = max(self.descendant_cpu.get(pid, 0.0), cpu.get(pid, 0.0))
        return sum(rss.get(p, 0) for p in tree)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._tree_rss())
            self._stop.wait(self.every)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def run_cli(args: list[str], command: str = "dedup") -> dict[str, float]:
    """Run `slimpajama COMMAND ARGS`; wall seconds, CPU seconds of the tree (the command's own,
    exact, plus its descendants' as last sampled), peak tree RSS."""
    before = os.times()
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "slimpajama.cli", command, *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    rss = TreeRss(proc.pid)
    out, err = proc.communicate()
    wall = time.perf_counter() - started
    peak = rss.stop()
    after = os.times()
    if proc.returncode != 0:
        raise RuntimeError(f"{command} failed ({proc.returncode}): {err[-2000:]}")
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    cpu += sum(rss.descendant_cpu.values())
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "peak_rss_mb": round(peak / 2**20, 1),
            "summary": out.strip().splitlines()}


def slimpajama_style_peer(texts: list[str]) -> dict[str, float]:
    """The reference method on `texts`: key text, char 13-grams, datasketch legacy MinHash updated
    per shingle, 9 x 13 bands in dicts (first doc seen per bucket), union-find. CPU seconds."""
    from datasketch import MinHash
    from datasketch.hashfunc import sha1_hash32

    from slimpajama.core.keytext import key_text

    started = time.process_time()
    buckets: list[dict[bytes, int]] = [{} for _ in range(9)]
    edges = []
    for i, text in enumerate(texts):
        key = key_text(text)
        m = MinHash(num_perm=128, seed=1, hashfunc=sha1_hash32, scheme="legacy")
        for j in range(len(key) - 12):
            m.update(key[j:j + 13].encode("utf-8"))
        for b in range(9):
            band = bytes(m.hashvalues[b * 13:(b + 1) * 13].byteswap().data)
            first = buckets[b].setdefault(band, i)
            if first != i:
                edges.append((first, i))
    removed = len(connected_components(edges)) - len(set(connected_components(edges).values()))
    return {"cpu_s": time.process_time() - started, "removed": removed}


def main(argv: list[str]) -> dict:
    parser = argparse.ArgumentParser(prog="python -m slimpajama.bench dedup")
    parser.add_argument("--mb", type=int, default=215, help="target corpus size in MB (>= 200 MB of text)")
    parser.add_argument("--quick", action="store_true", help="20 MB corpus, for a smoke run")
    parser.add_argument("--peer-mb", type=float, default=1.0, help="subsample the peer dedups")
    args = parser.parse_args(argv)
    total = 20_000_000 if args.quick else args.mb * 1_000_000
    root, text_bytes, profile, docs = corpus(total)
    mb = text_bytes / 1e6
    out = DATA / "dedup-out"
    runs = {}
    two_workers = ["--direct_running_mode", "multi_processing", "--direct_num_workers", "2"]
    for name, extra in (
        ("in_memory", []),
        ("multi_processing_2", two_workers),
        ("in_memory_verify_recall_0.99", ["--verify", "--recall", "0.99"]),
    ):
        result = run_cli(["--input", str(root), "--output", str(out), "--overwrite", *extra])
        result["mb_per_s_wall"] = round(mb / result["wall_s"], 2)
        result["mb_per_s_cpu"] = round(mb / result["cpu_s"], 2)
        runs[name] = result
        print(f"[bench dedup] {name}: {result['mb_per_s_wall']} MB/s wall, "
              f"{result['cpu_s']} CPU s, peak RSS {result['peak_rss_mb']} MB")
    docs = docs or planted_corpus(originals(total))
    rng = random.Random(1)
    sample, size = [], 0
    for _, text in rng.sample(docs, len(docs)):
        if size >= args.peer_mb * 1e6:
            break
        sample.append(text)
        size += len(text.encode())
    peer = slimpajama_style_peer(sample)
    peer["mb"] = round(size / 1e6, 3)
    peer["mb_per_s_cpu"] = round(size / 1e6 / peer["cpu_s"], 4)
    best = max((runs["in_memory"], runs["multi_processing_2"]), key=lambda r: r["mb_per_s_wall"])
    verify_ratio = runs["in_memory_verify_recall_0.99"]["wall_s"] / runs["in_memory"]["wall_s"]
    result = {
        "corpus": {"text_mb": round(mb, 1), "path": str(root), "duplicate_fraction": DUPLICATE_FRACTION,
                   "generator": "bench.corpus.realistic_corpus, seed 0", "profile": profile},
        "machine": {"cores": os.cpu_count()},
        "runs": runs,
        "peer_slimpajama_style": peer,
        "ratio_cpu_vs_peer": round(runs["in_memory"]["mb_per_s_cpu"] / peer["mb_per_s_cpu"], 1),
        "verify_recall_wall_ratio": round(verify_ratio, 2),
        "targets": {"mb_per_s_wall_ge_8": best["mb_per_s_wall"] >= 8,
                    "verify_recall_wall_le_1_5x": verify_ratio <= 1.5,
                    "peak_rss_le_4gb": all(r["peak_rss_mb"] <= 4096 for r in runs.values())},
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "dedup.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"[bench dedup] peer (SlimPajama-style, {peer['mb']} MB): {peer['mb_per_s_cpu']} MB/s CPU; "
          f"ours in-memory is {result['ratio_cpu_vs_peer']}x per CPU second")
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
