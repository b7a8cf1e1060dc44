"""The driver of `slimpajama tokenize`: refuse a non-empty output, run the pipeline into a
temporary sibling folder, drop the parts and move the folder into place. Every path may be on
any Beam filesystem (`gs://` wherever a local path works)."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Sequence
from typing import Any, TextIO

from apache_beam.io.filesystems import FileSystems

from slimpajama.forkserver import start_forkserver
from slimpajama.io.beam_options import is_dry_run, pipeline_options
from slimpajama.io.release import delete_tree, is_empty_dir, move_tree
from slimpajama.pool import local_processes
from slimpajama.progress import PROGRESS_DIR, ProgressPrinter, Stage, run_to_completion
from slimpajama.report import write_report_html
from slimpajama.resume import RUN_FILE, UNITS_DIR, fingerprint, input_listing, prepare_work
from slimpajama.tokenize.config import POOL_PRELOAD, TokenizeOptions
from slimpajama.tokenize.pipeline import (
    MANIFEST_NAME,
    PARTS_DIR,
    TOKENIZE_STAGE,
    build_tokenize_pipeline,
    input_files,
)


def tokenize_fingerprint(files: Sequence[tuple[str, int, str]], options: TokenizeOptions) -> dict[str, Any]:
    """What `--resume` compares for tokenize: every option, the version and the input files."""
    fields = {f.name: repr(getattr(options, f.name)) for f in dataclasses.fields(options)}
    return fingerprint("tokenize", fields, input_listing({f"{split}/{index}": path for split, index, path in files}))


def run_tokenize(
    input_root: str,
    output_dir: str,
    options: TokenizeOptions,
    overwrite: bool = False,
    beam_args: Sequence[str] = (),
    resume: bool = False,
    progress: TextIO | None = None,
) -> dict[str, Any] | None:
    """Tokenize a release folder into `output_dir`; returns the manifest, or None for a Dataflow
    dry run (the pipeline is only translated).

    Refuses a non-empty `output_dir` unless `overwrite`. Everything is written into the sibling
    temporary folder `<output_dir>.tmp` that replaces `output_dir` only once the pipeline has
    succeeded; `resume` reuses the files an interrupted run of the same command tokenized there
    (ResumeRefused when there is none); `progress` gets progress lines (None: nowhere).
    """
    beam_options = pipeline_options(beam_args)
    output_dir = (output_dir if "://" in output_dir else os.path.abspath(output_dir)).rstrip("/")
    work_root = f"{output_dir}.tmp"
    if is_dry_run(beam_options):
        build_tokenize_pipeline(input_root, work_root, options, beam_options).run()
        return None
    if not is_empty_dir(output_dir) and not overwrite:
        raise FileExistsError(f"{output_dir} is not empty (use overwrite to replace it)")
    files = input_files(input_root, options.splits)
    if not files:
        raise ValueError(f"no release files under {input_root} for splits {list(options.splits)}")
    run = tokenize_fingerprint(files, options)
    prepare_work(work_root, run, resume)
    stage = Stage(TOKENIZE_STAGE, "files", len(files), sum(size for _, size, _ in run["inputs"]))
    processes = local_processes(beam_options, beam_args)
    if processes > 1:
        start_forkserver(POOL_PRELOAD)
    with ProgressPrinter(work_root, [stage], stream=progress):
        pipeline = build_tokenize_pipeline(input_root, work_root, options, beam_options, processes)
        run_to_completion(pipeline, progress)
    for leftover in (PARTS_DIR, RUN_FILE, PROGRESS_DIR, UNITS_DIR):
        delete_tree(FileSystems.join(work_root, leftover))
    with FileSystems.open(FileSystems.join(work_root, MANIFEST_NAME)) as handle:
        manifest = json.loads(handle.read())
    delete_tree(output_dir)
    move_tree(work_root, output_dir)
    delete_tree(work_root)
    write_report_html(output_dir)
    return manifest
