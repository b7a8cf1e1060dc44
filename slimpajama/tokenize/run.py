"""The driver of `slimpajama tokenize`: refuse a non-empty output, run the pipeline into a
temporary sibling folder, drop the parts and rename the folder into place."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Sequence
from typing import Any

from slimpajama.io.beam_options import pipeline_options
from slimpajama.tokenize.config import TokenizeOptions
from slimpajama.tokenize.pipeline import MANIFEST_NAME, PARTS_DIR, build_tokenize_pipeline


def run_tokenize(
    input_root: str,
    output_dir: str,
    options: TokenizeOptions,
    overwrite: bool = False,
    beam_args: Sequence[str] = (),
) -> dict[str, Any]:
    """Tokenize a release folder into `output_dir`; returns the manifest.

    Refuses a non-empty `output_dir` unless `overwrite`. Everything is written into a sibling
    temporary folder that replaces `output_dir` only once the pipeline has succeeded.
    """
    output_dir = os.path.abspath(output_dir)
    if os.path.isdir(output_dir) and os.listdir(output_dir) and not overwrite:
        raise FileExistsError(f"{output_dir} is not empty (use overwrite to replace it)")
    work_root = f"{output_dir}.tmp-{uuid.uuid4().hex[:12]}"
    os.makedirs(work_root)
    try:
        pipeline = build_tokenize_pipeline(
            input_root, work_root, options, pipeline_options(beam_args)
        )
        pipeline.run().wait_until_finish()
        shutil.rmtree(os.path.join(work_root, PARTS_DIR))
        with open(os.path.join(work_root, MANIFEST_NAME), "rb") as handle:
            manifest = json.load(handle)
        if os.path.exists(output_dir):
            shutil.rmtree(output_dir)
        os.replace(work_root, output_dir)
    finally:
        if os.path.exists(work_root):
            shutil.rmtree(work_root)
    return manifest
