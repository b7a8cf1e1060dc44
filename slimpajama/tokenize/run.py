"""The driver of `slimpajama tokenize`: refuse a non-empty output, run the pipeline into a
temporary sibling folder, drop the parts and move the folder into place. Every path may be on
any Beam filesystem (`gs://` wherever a local path works)."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Sequence
from typing import Any

from apache_beam.io.filesystems import FileSystems

from slimpajama.io.beam_options import is_dry_run, pipeline_options
from slimpajama.io.release import delete_tree, is_empty_dir, move_tree
from slimpajama.tokenize.config import TokenizeOptions
from slimpajama.tokenize.pipeline import (
    MANIFEST_NAME,
    PARTS_DIR,
    build_tokenize_pipeline,
    input_files,
)


def run_tokenize(
    input_root: str,
    output_dir: str,
    options: TokenizeOptions,
    overwrite: bool = False,
    beam_args: Sequence[str] = (),
) -> dict[str, Any] | None:
    """Tokenize a release folder into `output_dir`; returns the manifest, or None for a Dataflow
    dry run (the pipeline is only translated).

    Refuses a non-empty `output_dir` unless `overwrite`. Everything is written into a sibling
    temporary folder that replaces `output_dir` only once the pipeline has succeeded.
    """
    beam_options = pipeline_options(beam_args)
    output_dir = (output_dir if "://" in output_dir else os.path.abspath(output_dir)).rstrip("/")
    work_root = f"{output_dir}.tmp-{uuid.uuid4().hex[:12]}"
    if is_dry_run(beam_options):
        build_tokenize_pipeline(input_root, work_root, options, beam_options).run()
        return None
    if not is_empty_dir(output_dir) and not overwrite:
        raise FileExistsError(f"{output_dir} is not empty (use overwrite to replace it)")
    if not input_files(input_root, options.splits):
        raise ValueError(f"no release files under {input_root} for splits {list(options.splits)}")
    try:
        pipeline = build_tokenize_pipeline(input_root, work_root, options, beam_options)
        pipeline.run().wait_until_finish()
        delete_tree(FileSystems.join(work_root, PARTS_DIR))
        with FileSystems.open(FileSystems.join(work_root, MANIFEST_NAME)) as handle:
            manifest = json.loads(handle.read())
        delete_tree(output_dir)
        move_tree(work_root, output_dir)
    finally:
        delete_tree(work_root)
    return manifest
