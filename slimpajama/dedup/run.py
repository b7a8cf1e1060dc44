"""Driving a pipeline run: Beam options, output safety, temporary folder, report, final rename.

The pipeline writes into `<output>.partial/`; only after it finished and the accounting checks out is
`report.json` written and the folder renamed to `<output>`. A failed run never leaves a
half-written `<output>`.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import sys
import time
from importlib import metadata
from typing import Any, TextIO

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

from slimpajama import __version__
from slimpajama.core.accounting import accounting_errors, source_table
from slimpajama.core.lsh import candidate_probability
from slimpajama.dedup.config import POOL_PRELOAD, ConfigError, DedupConfig
from slimpajama.dedup.distributed_clusters import ComponentsNotConverged
from slimpajama.dedup.pipeline import (
    CLUSTERS_FILE,
    COUNTS_FILE,
    ISSUES_FILE,
    VERIFICATION_FILE,
    build_dedup_pipeline,
)
from slimpajama.dedup.units import SCAN_STAGE, WORK, WRITE_STAGE
from slimpajama.forkserver import start_forkserver
from slimpajama.io.beam_options import is_dry_run, pipeline_options
from slimpajama.io.inputs import InputError, InputFile, discover_inputs, unrecognized_files
from slimpajama.pool import local_processes
from slimpajama.progress import ProgressPrinter, Stage, finished_units, run_to_completion
from slimpajama.report import write_report_html
from slimpajama.resume import fingerprint, input_listing, prepare_work

VERSIONED_PACKAGES = ("apache-beam", "numpy", "datasketch", "ftfy", "xxhash", "zstandard", "pyarrow")


def is_local(path: str) -> bool:
    """True for paths of the local filesystem (no `scheme://`)."""
    return "://" not in path


def check_paths(cfg: DedupConfig) -> None:
    """Fail early with one-line errors: missing input, no input files, output inside input,
    a non-empty output without --overwrite."""
    if is_local(cfg.input):
        if not os.path.isdir(cfg.input):
            raise InputError(f"input folder does not exist: {cfg.input}")
        discover_inputs(cfg.input)  # raises InputError when nothing is recognizable
        inside = os.path.abspath(cfg.output) + os.sep
        if inside.startswith(os.path.abspath(cfg.input) + os.sep):
            raise ConfigError(f"--output {cfg.output} is inside --input {cfg.input}")
    elif cfg.output.rstrip("/").startswith(cfg.input.rstrip("/") + "/"):
        raise ConfigError(f"--output {cfg.output} is inside --input {cfg.input}")
    if not cfg.overwrite and _non_empty(cfg.output):
        raise ConfigError(f"--output {cfg.output} is not empty; pass --overwrite to replace it")


def _non_empty(path: str) -> bool:
    if is_local(path):
        return os.path.isdir(path) and bool(os.listdir(path)) or os.path.isfile(path)
    return bool(FileSystems.match([FileSystems.join(path, "*")])[0].metadata_list)


def partial_path(output: str) -> str:
    """The temporary folder a run writes into before the final rename."""
    return output.rstrip("/") + ".partial"


def _read_json(path: str) -> Any:
    with FileSystems.open(path) as fh:
        return json.loads(fh.read().decode("utf-8"))


def versions() -> dict[str, str]:
    """Versions of Python and the packages that determine output bytes."""
    found = {"python": platform.python_version(), "slimpajama": __version__}
    for name in VERSIONED_PACKAGES:
        found[name] = metadata.version(name)
    return found


def stage_msecs(result: beam.runners.runner.PipelineResult) -> dict[str, int]:
    """Milliseconds spent inside each timed stage (summed over workers), from Beam metrics."""
    try:
        counters = result.metrics().query()["counters"]
    except (NotImplementedError, AttributeError, KeyError):
        return {}
    totals: dict[str, int] = {}
    for c in counters:
        if c.key.metric.namespace == "slimpajama":
            totals[c.key.metric.name] = totals.get(c.key.metric.name, 0) + int(c.committed or 0)
    return dict(sorted(totals.items()))


def build_report(cfg: DedupConfig, root: str, run: dict[str, Any]) -> dict[str, Any]:
    """report.json: options, per-source table, accounting check, clusters, issues, run facts."""
    counts = _read_json(FileSystems.join(root, COUNTS_FILE))
    errors = accounting_errors(counts)
    bands, rows = cfg.band_rows
    return {
        "command": "dedup",
        "options": cfg.as_report(),
        "lsh": {
            "bands": bands,
            "rows": rows,
            "chosen_by": "explicit" if cfg.bands else "recall" if cfg.recall else "optimal",
            "recall_at_threshold": round(float(candidate_probability(cfg.threshold, bands, rows)), 6),
            "candidate_probability": {
                f"{j:.2f}": round(float(candidate_probability(j, bands, rows)), 4)
                for j in (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0)
            },
        },
        "sources": source_table(counts),
        "accounting": {"ok": not errors, "errors": errors},
        "clusters": _read_json(FileSystems.join(root, CLUSTERS_FILE)),
        "verification": (
            _read_json(FileSystems.join(root, VERIFICATION_FILE)) if cfg.verify else None
        ),
        "issues": _read_json(FileSystems.join(root, ISSUES_FILE)),
        "unrecognized_files": unrecognized_files(cfg.input) if is_local(cfg.input) else [],
        "run": run,
    }


def _replace_output(partial: str, output: str) -> None:
    """Move the finished partial folder to `output`, replacing what was there."""
    if is_local(output):
        if os.path.isdir(output):
            shutil.rmtree(output)
        elif os.path.exists(output):
            os.remove(output)
        os.replace(partial, output)
        return
    if FileSystems.exists(output):
        FileSystems.delete([output])
    sources = [m.path for m in FileSystems.match([FileSystems.join(partial, "**")])[0].metadata_list]
    FileSystems.rename(sources, [output.rstrip("/") + s[len(partial.rstrip("/")):] for s in sources])
    FileSystems.delete([partial])


def launch(cfg: DedupConfig, options: PipelineOptions, progress: TextIO | None = None,
           processes: int = 1) -> beam.runners.runner.PipelineResult:
    """Build the dedup pipeline into `<output>.partial` and run it to completion (a non-local
    runner's job id goes to `progress`); per-file stages use `processes` worker processes."""
    if processes > 1:
        start_forkserver(POOL_PRELOAD)
    pipeline = beam.Pipeline(options=options)
    build_dedup_pipeline(pipeline, cfg, partial_path(cfg.output), processes)
    return run_to_completion(pipeline, progress)


RUN_OPTIONS_IGNORED = ("overwrite", "strict")
"""Options that do not shape the output: a resumed run may differ in them."""


def run_fingerprint(cfg: DedupConfig, files: list[InputFile]) -> dict[str, Any]:
    """What `--resume` compares: the output-shaping options, the version and the input listing."""
    options = {k: v for k, v in cfg.as_report().items() if k not in RUN_OPTIONS_IGNORED}
    return fingerprint("dedup", options, input_listing({f.relpath: f.path for f in files}))


def run_dedup(cfg: DedupConfig, beam_args: list[str], *, resume: bool = False,
              progress: TextIO | None = sys.stderr) -> dict[str, Any] | None:
    """Run dedup end to end; the report, or None for a Dataflow dry run (nothing is executed).
    `resume` reuses the files a killed run with the same fingerprint scanned; `progress` is where
    progress lines go (None: nowhere)."""
    options = pipeline_options(beam_args)
    if is_dry_run(options):
        launch(cfg, options)
        return None
    check_paths(cfg)
    files = discover_inputs(cfg.input)
    partial = partial_path(cfg.output)
    run_id = run_fingerprint(cfg, files)
    work = FileSystems.join(partial, WORK)
    prepare_work(work, run_id, resume, leftover=partial)
    resumed_files = len(finished_units(work, SCAN_STAGE)) if resume else 0
    total_bytes = sum(size for _, size, _ in run_id["inputs"])
    stages = [Stage(SCAN_STAGE, "files", len(files), total_bytes), Stage(WRITE_STAGE, "files", len(files))]
    started = time.time()
    try:
        with ProgressPrinter(FileSystems.join(partial, WORK), stages, stream=progress):
            result = launch(cfg, options, progress, local_processes(options, beam_args))
    except Exception as error:  # runners wrap worker exceptions; surface ours by their message
        found = re.search(
            r"connected components did not converge in \d+ rounds \([^)]*\); "
            r"rerun with --component-rounds \d+",
            str(error),
        )
        if found is None:
            raise
        raise ComponentsNotConverged(f"{found.group(0)}; nothing was written to {cfg.output}") from None
    run = {
        "runner": options.view_as(StandardOptions).runner,
        "pipeline_seconds": round(time.time() - started, 3),
        "stage_msecs": stage_msecs(result),
        "versions": versions(),
        "resumed_files": resumed_files,
    }
    report = build_report(cfg, partial, run)
    FileSystems.delete([FileSystems.join(partial, WORK)])
    with FileSystems.create(FileSystems.join(partial, "report.json")) as fh:
        fh.write((json.dumps(report, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    _replace_output(partial, cfg.output)
    write_report_html(cfg.output)
    return report
