"""Beam pipeline options for every slimpajama pipeline: pass-through arguments, the offline
in-process runner by default, and no silently ignored arguments."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Beam is imported where it is used: the constants load without it
    from apache_beam.options.pipeline_options import PipelineOptions

DEFAULT_RUNNER = "FnApiRunner"
"""In-process runner that works offline (plain DirectRunner first tries to download Prism)."""
LOCAL_RUNNERS = ("FnApiRunner", "DirectRunner", "BundleBasedDirectRunner", "SwitchingDirectRunner")
"""Runners that run the whole pipeline on this machine."""


class BeamOptionError(ValueError):
    """An argument that is neither ours nor Apache Beam's (the CLI exits with status 2)."""


def pipeline_options(beam_args: Sequence[str] = ()) -> PipelineOptions:
    """Beam options from pass-through arguments, with `DEFAULT_RUNNER` unless one is named.
    An argument Beam does not know is an error: a typo must not silently change a run."""
    from apache_beam.options.pipeline_options import PipelineOptions

    args = list(beam_args)
    if not any(a == "--runner" or a.startswith("--runner=") for a in args):
        args.append(f"--runner={DEFAULT_RUNNER}")
    options = PipelineOptions(args)
    beam_logger = logging.getLogger("apache_beam.options.pipeline_options")
    level = beam_logger.level
    beam_logger.setLevel(logging.ERROR)  # we report unknown options ourselves, once
    try:
        known = set(options.get_all_options())
    finally:
        beam_logger.setLevel(level)
    unknown = set(options.get_all_options(retain_unknown_options=True)) - known
    if unknown:
        names = ", ".join(f"--{name}" for name in sorted(unknown))
        raise BeamOptionError(f"unknown option {names} (neither a slimpajama nor an Apache Beam option)")
    return options


def is_dry_run(options: PipelineOptions) -> bool:
    """True for `--dry_run=True`: Dataflow translates the job without submitting it."""
    from apache_beam.options.pipeline_options import TestOptions

    return str(options.view_as(TestOptions).dry_run).lower() in ("true", "1")


def is_local_runner(options: PipelineOptions) -> bool:
    """True when the whole pipeline runs on this machine (one of LOCAL_RUNNERS)."""
    from apache_beam.options.pipeline_options import StandardOptions

    runner = options.view_as(StandardOptions).runner or DEFAULT_RUNNER
    return runner.rsplit(".", 1)[-1] in LOCAL_RUNNERS
