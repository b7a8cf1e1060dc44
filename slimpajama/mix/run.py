"""The driver of `slimpajama mix`: check paths, run the pipeline into `<output>.tmp/`, name the
shuffled files as release files, write `report.json` (target vs achieved shares, weights, repeat
histogram, decontamination removals) and move everything into `<output>/`."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.runners.runner import PipelineResult

from slimpajama.core.mixture import Amount
from slimpajama.forkserver import start_forkserver
from slimpajama.io.beam_options import is_dry_run, pipeline_options
from slimpajama.io.release import SPLITS, delete_tree, is_empty_dir, release_relpath
from slimpajama.mix.config import MixConfig
from slimpajama.mix.pipeline import (
    SUMMARY_NAME,
    amount_counts,
    build_mix_pipeline,
    input_relpaths,
    sum_counts,
)
from slimpajama.mix.units import BINS_DIR, SCAN_STAGE, SPILL_STAGE
from slimpajama.pool import local_processes
from slimpajama.progress import ProgressPrinter, Stage, run_to_completion
from slimpajama.report import write_report_html
from slimpajama.resume import fingerprint, input_listing, prepare_work

REPORT_NAME = "report.json"
HOLDOUT_SPLITS = ("validation", "test")
REMOVAL_KINDS = ("exact", "near")
SHARE_DECIMALS = 6
"""Shares in report.json are percent rounded to this many decimals."""


def release_names(split: str, count: int, files_per_chunk: int) -> list[str]:
    """Release relpaths of a split's files 0..count-1: chunks from 1, n from 0 within each chunk."""
    return [release_relpath(split, i // files_per_chunk + 1, i % files_per_chunk)
            for i in range(count)]


def amount_json(amount: Amount, total: Amount) -> dict[str, Any]:
    """Counts and their percent of `total` (None where the total is 0)."""
    def percent(part: int, whole: int) -> float | None:
        return round(100.0 * part / whole, SHARE_DECIMALS) if whole else None

    return {**amount_counts(amount),
            "token_share": percent(amount.tokens, total.tokens),
            "byte_share": percent(amount.nbytes, total.nbytes),
            "doc_share": percent(amount.docs, total.docs)}


def build_report(summary: Mapping[str, Any], config: MixConfig, input_root: str,
                 files: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """report.json: per source target vs achieved shares of the mix and of each split, weights,
    repeat histogram and decontamination removals; `files` are the written relpaths per split."""
    plan = summary["plan"]
    stats: dict[str, dict[str, Amount]] = {}
    removed_docs: dict[str, dict[str, int]] = {}
    for section, name, tokens, nbytes, copies, docs in summary["stats"]:
        stats.setdefault(section, {})[name] = Amount(tokens, nbytes, copies)
        removed_docs.setdefault(section, {})[name] = docs
    names = sorted(plan["sources"])
    zero = Amount(0, 0, 0)

    def amounts(section: str) -> dict[str, Amount]:
        return {name: stats.get(section, {}).get(name, zero) for name in names}

    def minus(a: Amount, *others: Amount) -> Amount:
        return Amount(*(x - sum(o[i] for o in others) for i, x in enumerate(a)))

    mixed = {name: Amount(*(plan["sources"][name]["mixed"][k] for k in ("tokens", "bytes", "docs")))
             for name in names}
    removals = {kind: amounts(f"removed_{kind}") for kind in REMOVAL_KINDS}
    splits = {split: amounts(split) for split in HOLDOUT_SPLITS}
    holdout_mix = amounts("holdout_mix")
    splits["train"] = {name: minus(mixed[name], holdout_mix[name],
                                   *(removals[kind][name] for kind in REMOVAL_KINDS))
                       for name in names}

    def total(table: Mapping[str, Amount]) -> Amount:
        return Amount(*sum_counts(table.values())) if table else zero

    totals = {"mix": total(mixed), **{split: total(splits[split]) for split in SPLITS}}
    sources = {}
    for name in names:
        source = plan["sources"][name]
        sources[name] = {
            "target_share": round(100.0 * source["share"], SHARE_DECIMALS),
            "target_tokens": source["target_tokens"],
            "weight": source["weight"],
            "available": source["available"],
            "repeat_histogram": source["repeats"],
            "mix": amount_json(mixed[name], totals["mix"]),
            **{split: amount_json(splits[split][name], totals[split]) for split in SPLITS},
            "decontamination": {
                kind: {"docs": removed_docs.get(f"removed_{kind}", {}).get(name, 0),
                       "copies": removals[kind][name].docs,
                       "tokens": removals[kind][name].tokens}
                for kind in REMOVAL_KINDS},
        }
    return {
        "mixture": plan["mixture"],
        "counter": config.counter,
        "token_unit": "GPT-2 tokens" if config.counter == "gpt2" else "UTF-8 bytes (token proxy)",
        "target": {"tokens": config.target.tokens, "epochs": config.target.epochs,
                   "total_tokens": plan["target_tokens"]},
        "seed": config.seed,
        "holdout_fraction": config.holdout,
        "input": input_root,
        "sources": sources,
        "totals": {key: amount_json(value, value) for key, value in totals.items()},
        "decontamination": {
            "removed": {kind: {"docs": sum(removed_docs.get(f"removed_{kind}", {}).values()),
                               "copies": total(removals[kind]).docs,
                               "tokens": total(removals[kind]).tokens}
                        for kind in REMOVAL_KINDS},
            "exact": "sha256 of the text",
            "near": None if config.near is None else {
                "threshold": config.near.threshold, "minhash": config.near.minhash.tag,
                "bands_rows": list(config.near.banding),
                "verify": "exact shingle Jaccard of key texts >= threshold"},
        },
        "files": {split: len(files.get(split, ())) for split in SPLITS},
        "layout": {"docs_per_file": config.docs_per_file, "bytes_per_file": config.bytes_per_file,
                   "files_per_chunk": config.files_per_chunk},
    }


def finish_mix(work: str, output: str, config: MixConfig, input_root: str) -> dict[str, Any]:
    """Name the bins as release files, write report.json and move everything from `work` into
    `output` (which must be absent or empty); returns the report."""
    renames: dict[str, str] = {}
    files: dict[str, list[str]] = {}
    for split in SPLITS:
        pattern = FileSystems.join(work, BINS_DIR, split, "*.jsonl.zst")
        bins = sorted(m.path for r in FileSystems.match([pattern]) for m in r.metadata_list)
        files[split] = release_names(split, len(bins), config.files_per_chunk)
        renames.update(zip(bins, files[split], strict=True))
    with FileSystems.open(FileSystems.join(work, SUMMARY_NAME)) as raw:
        report = build_report(json.loads(raw.read()), config, input_root, files)
    report_path = FileSystems.join(work, REPORT_NAME)
    with FileSystems.create(report_path) as out:
        out.write((json.dumps(report, indent=2, sort_keys=True) + "\n").encode())
    renames[report_path] = REPORT_NAME
    for source, relpath in renames.items():
        target = FileSystems.join(output, *relpath.split("/"))
        parent = target.rsplit("/", 1)[0]
        if not FileSystems.exists(parent):
            FileSystems.mkdirs(parent)
        FileSystems.rename([source], [target])
    delete_tree(work)
    return report


def launch_mix(input_root: str, work: str, config: MixConfig, options: PipelineOptions,
               progress: TextIO | None = None, processes: int = 1) -> PipelineResult:
    """Build the mix pipeline into `work` and run it to completion (a Dataflow `--dry_run=True`
    only translates it; a non-local runner's job id goes to `progress`); per-file stages use
    `processes` worker processes."""
    if processes > 1:
        start_forkserver(config.pool_preload())
    pipeline = beam.Pipeline(options=options)
    build_mix_pipeline(pipeline, input_root, work, config, processes)
    return run_to_completion(pipeline, progress)


def mix_fingerprint(input_root: str, relpaths: Sequence[str], config: MixConfig) -> dict[str, Any]:
    """What `--resume` compares for a mix: every MixConfig field, the version and the inputs."""
    options = {f.name: repr(getattr(config, f.name)) for f in dataclasses.fields(config)}
    listing = input_listing({relpath: FileSystems.join(input_root, relpath) for relpath in relpaths})
    return fingerprint("mix", options, listing)


def run_mix(input_root: str, output: str, config: MixConfig, *, overwrite: bool = False,
            beam_args: Sequence[str] = (), resume: bool = False,
            progress: TextIO | None = None) -> dict[str, Any] | None:
    """Mix the release at `input_root` into a release at `output`; returns the report, or None
    for a Dataflow dry run (nothing is read or written). `resume` reuses the files an
    interrupted run of the same mix finished; `progress` gets progress lines (None: nowhere).

    Raises FileExistsError when `output` is not empty and `overwrite` is False, ValueError when
    `output` is (inside) the input or the input has no train files, ResumeRefused when `resume`
    finds no matching interrupted run."""
    options = pipeline_options(beam_args)
    input_root = input_root if "://" in input_root else os.path.abspath(input_root)
    output = (output if "://" in output else os.path.abspath(output)).rstrip("/")
    work = f"{output}.tmp"
    if is_dry_run(options):
        launch_mix(input_root, work, config, options)
        return None
    if f"{output}/".startswith(f"{input_root.rstrip('/')}/"):
        raise ValueError(f"output {output} must not be the input {input_root} or inside it")
    if not is_empty_dir(output) and not overwrite:
        raise FileExistsError(f"{output} is not empty (pass overwrite to replace it)")
    relpaths = input_relpaths(input_root)
    if not relpaths:
        raise ValueError(f"no train release files under {input_root}")
    run = mix_fingerprint(input_root, relpaths, config)
    prepare_work(work, run, resume)
    disk_bytes = sum(size for _, size, _ in run["inputs"])
    stages = [Stage(SCAN_STAGE, "files", len(relpaths), disk_bytes),
              Stage(SPILL_STAGE, "files", len(relpaths))]
    with ProgressPrinter(work, stages, stream=progress):
        launch_mix(input_root, work, config, options, progress, local_processes(options, beam_args))
    delete_tree(output)
    report = finish_mix(work, output, config, input_root)
    write_report_html(output)
    return report
