"""`slimpajama mix`: the command object (registered in the main CLI group by `slimpajama.cli`).

Unknown `--options` are passed through to Apache Beam. Exit status: 0 ok; 2 usage or input error.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from slimpajama.core.mixture import mixture_names
from slimpajama.core.split import HOLDOUT_FRACTION
from slimpajama.mix.counters import COUNTERS
from slimpajama.resume import ResumeRefused


def print_mix_table(report: dict[str, Any]) -> None:
    """Target vs achieved token shares per source (percent), weight, repeats, removals."""
    click.echo(f"shares of {report['token_unit']}")
    click.echo(f"{'source':<24}{'target %':>10}{'mix %':>10}{'train %':>10}{'weight':>9}"
               f"{'train docs':>12}  repeats (copies:docs)  removed exact/near")
    for name, row in report["sources"].items():
        repeats = " ".join(f"{k}:{v}" for k, v in row["repeat_histogram"].items())
        removed = row["decontamination"]
        click.echo(f"{name:<24}{row['target_share']:>10.3f}{row['mix']['token_share'] or 0:>10.3f}"
                   f"{row['train']['token_share'] or 0:>10.3f}{row['weight']:>9.4f}"
                   f"{row['train']['docs']:>12}  {repeats:<22}{removed['exact']['docs']}/"
                   f"{removed['near']['docs']}")
    click.echo("files: " + ", ".join(f"{split} {n}" for split, n in report["files"].items()))


@click.command("mix", context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.option("--input", "input_root", required=True,
              help="Release-layout root to mix (its train/ split, e.g. the output of dedup).")
@click.option("--mixture", required=True,
              help=f"Bundled mixture ({', '.join(mixture_names())}) or a mixture JSON file.")
@click.option("--output", required=True, help="Output root (release layout + report.json).")
@click.option("--tokens", type=click.IntRange(min=1),
              help="Total target size in counter units (tokens, or bytes with --counter bytes).")
@click.option("--epochs", type=click.FloatRange(min=0, min_open=True),
              help="Total target = EPOCHS x the available tokens of the mixed sources [1].")
@click.option("--seed", type=click.IntRange(0, (1 << 64) - 1), default=0, show_default=True,
              help="Seed of the selection, holdout and shuffle hashes.")
@click.option("--holdout", type=click.FloatRange(0, 1), default=HOLDOUT_FRACTION, show_default=True,
              help="Fraction of selected documents held out, halved into validation and test.")
@click.option("--files-per-chunk", type=click.IntRange(min=1), default=6_000, show_default=True,
              help="Files per chunkN folder (numbering only: memory does not depend on it).")
@click.option("--docs-per-file", type=click.IntRange(min=1), default=10_000, show_default=True,
              help="Upper bound of a file's documents (files average ~ this - 3 sqrt(this)).")
@click.option("--bytes-per-file", type=click.IntRange(min=1), default=256 << 20, show_default=True,
              help="Upper bound of a file's uncompressed bytes.")
@click.option("--counter", type=click.Choice(COUNTERS),
              help="Share unit: GPT-2 tokens or UTF-8 bytes [gpt2 if the tokenizer is importable].")
@click.option("--near-threshold", type=click.FloatRange(0, 1, min_open=True), default=0.8,
              show_default=True, help="Jaccard at which a train document near a holdout one is removed.")
@click.option("--no-near", is_flag=True, help="Exact decontamination only (no MinHash of train).")
@click.option("--overwrite", is_flag=True, help="Replace a non-empty --output.")
@click.option("--runner", default="FnApiRunner", show_default=True, help="Beam runner.")
@click.option("--resume", is_flag=True, help="Reuse the finished work of an interrupted run of this same command (same options, version and inputs).")
@click.option("-q", "--quiet", is_flag=True, help="No progress lines on stderr.")
@click.pass_context
def mix_command(ctx: click.Context, input_root: str, mixture: str, output: str, tokens: int | None,
                epochs: float | None, seed: int, holdout: float, files_per_chunk: int,
                docs_per_file: int, bytes_per_file: int, counter: str | None,
                near_threshold: float, no_near: bool, overwrite: bool, runner: str, resume: bool,
                quiet: bool) -> None:
    """Reweight sources to a mixture, split off validation/test, decontaminate and shuffle.

    Writes OUTPUT/{train,validation,test}/chunk*/example_*.jsonl.zst and report.json.
    Any other --option is passed to Apache Beam.
    """
    from slimpajama.core.mixture import Target, load_mixture
    from slimpajama.forkserver import start_early
    from slimpajama.mix.config import MixConfig
    from slimpajama.mix.counters import default_counter
    from slimpajama.mix.decontam import NearParams  # imports numpy: keep --help fast

    if tokens is not None and epochs is not None:
        raise click.UsageError("pass at most one of --tokens and --epochs")
    try:
        config = MixConfig(
            mixture=load_mixture(mixture),
            target=Target(tokens=tokens) if tokens is not None else Target(epochs=epochs or 1.0),
            seed=seed, holdout=holdout, counter=counter or default_counter(),
            docs_per_file=docs_per_file, bytes_per_file=bytes_per_file,
            files_per_chunk=files_per_chunk,
            near=None if no_near else NearParams(threshold=near_threshold),
        )
        beam_args = [f"--runner={runner}", *ctx.args]
        start_early(config.pool_preload(), beam_args)  # its imports overlap ours
        from slimpajama.mix.run import run_mix  # imports Beam

        report = run_mix(input_root, output, config, overwrite=overwrite, beam_args=beam_args,
                         resume=resume, progress=None if quiet else sys.stderr)
    except (ValueError, FileExistsError, ResumeRefused) as error:
        click.echo(f"slimpajama: error: {error}", err=True)
        ctx.exit(2)
    if report is None:
        click.echo("dry run: the pipeline was translated, nothing was read or written")
        return
    print_mix_table(report)
    click.echo(f"wrote {output}")
