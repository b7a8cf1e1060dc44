"""Click command `tokenize` (registered in the main `slimpajama` group)."""

from __future__ import annotations

import sys

import click

from slimpajama.console import InputProblem
from slimpajama.io.release import SPLITS
from slimpajama.resume import ResumeRefused


def _parse_splits(_ctx: click.Context, _param: click.Parameter, value: str) -> tuple[str, ...]:
    splits = tuple(s.strip() for s in value.split(",") if s.strip())
    unknown = [s for s in splits if s not in SPLITS]
    if unknown or not splits:
        raise click.BadParameter(f"choose from {','.join(SPLITS)}; got {value!r}")
    return splits


@click.command(
    "tokenize",
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
)
@click.option(
    "--input", "input_root", required=True, help="Release folder written by dedup or mix."
)
@click.option(
    "--output",
    "output_dir",
    required=True,
    type=click.Path(file_okay=False),
    help="Folder for shards + manifest.json (local path or any Beam filesystem, e.g. gs://).",
)
@click.option(
    "--split",
    "splits",
    default=",".join(SPLITS),
    show_default=True,
    callback=_parse_splits,
    help="Comma-separated splits to tokenize.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["megatron", "hdf5"]),
    default="megatron",
    show_default=True,
    help="Megatron indexed dataset, or Cerebras GPT HDF5 (extra [btlm]).",
)
@click.option(
    "--seq-len",
    default=2048,
    show_default=True,
    type=click.IntRange(min=1),
    help="HDF5 sequence length (Megatron shards keep whole documents).",
)
@click.option(
    "--shard-tokens",
    default=2**27,
    show_default=True,
    type=click.IntRange(min=1),
    help="Megatron: target tokens per shard (cut at document boundaries).",
)
@click.option("--overwrite", is_flag=True, help="Replace a non-empty output folder.")
@click.option("--runner", default="FnApiRunner", show_default=True, help="Beam runner.")
@click.option("--resume", is_flag=True, help="Reuse the finished work of an interrupted run of this same command (same options, version and inputs).")
@click.option("-q", "--quiet", is_flag=True, help="No progress lines on stderr.")
@click.pass_context
def tokenize_command(
    ctx: click.Context,
    input_root: str,
    output_dir: str,
    splits: tuple[str, ...],
    fmt: str,
    seq_len: int,
    shard_tokens: int,
    overwrite: bool,
    runner: str,
    resume: bool,
    quiet: bool,
) -> None:
    """GPT-2-tokenize a release folder into training shards (each document -> ids + [50256]).

    Extra arguments are passed to Beam, e.g. --direct_running_mode=multi_processing
    --direct_num_workers=2.
    """
    from slimpajama.forkserver import start_early
    from slimpajama.tokenize.config import POOL_PRELOAD, TokenizeOptions

    beam_args = [f"--runner={runner}", *ctx.args]
    start_early(POOL_PRELOAD, beam_args)  # its imports overlap ours
    from slimpajama.tokenize.run import run_tokenize

    if fmt == "hdf5":
        try:
            import h5py  # noqa: F401
        except ModuleNotFoundError as missing:
            raise InputProblem(
                "--format hdf5 needs h5py: pip install 'slimpajama[btlm]'"
            ) from missing

    options = TokenizeOptions(format=fmt, splits=splits, seq_len=seq_len, shard_tokens=shard_tokens)
    try:
        manifest = run_tokenize(
            input_root,
            output_dir,
            options,
            overwrite=overwrite,
            beam_args=beam_args,
            resume=resume,
            progress=None if quiet else sys.stderr,
        )
    except (FileExistsError, ValueError, ResumeRefused) as error:
        raise InputProblem(str(error)) from error
    if manifest is None:
        click.echo("dry run: the pipeline was translated, nothing was read or written")
        return
    for split, entry in manifest["splits"].items():
        click.echo(
            f"{split}: {entry['documents']} documents, {entry['tokens']} tokens, "
            f"{len(entry['shards'])} shards"
        )
    click.echo(f"wrote {output_dir}/manifest.json")
