"""Click commands `tokenize` and `train-smoke` (registered in the main `slimpajama` group)."""

from __future__ import annotations

import json

import click

from slimpajama.release import SPLITS


class InputProblem(click.ClickException):
    """A usage or input error; exit status 2 like the other `slimpajama` commands."""

    exit_code = 2


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
    help="Folder for shards + manifest.json (local path).",
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
) -> None:
    """GPT-2-tokenize a release folder into training shards (each document -> ids + [50256]).

    Extra arguments are passed to Beam, e.g. --direct_running_mode=multi_processing
    --direct_num_workers=2.
    """
    from slimpajama.tokenize_pipeline import TokenizeOptions, run_tokenize

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
            beam_args=[f"--runner={runner}", *ctx.args],
        )
    except (FileExistsError, ValueError) as error:
        raise InputProblem(str(error)) from error
    for split, entry in manifest["splits"].items():
        click.echo(
            f"{split}: {entry['documents']} documents, {entry['tokens']} tokens, "
            f"{len(entry['shards'])} shards"
        )
    click.echo(f"wrote {output_dir}/manifest.json")


@click.command("train-smoke")
@click.argument("tok_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--steps", default=50, show_default=True, type=click.IntRange(min=1))
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--json-out", type=click.Path(dir_okay=False), help="Also write the losses as JSON.")
def train_smoke_command(tok_dir: str, steps: int, seed: int, json_out: str | None) -> None:
    """Train a tiny BTLM (ALiBi, SwiGLU, tied embeddings, µP) on CPU from Megatron shards.

    Prints the loss per step and the held-out loss before and after; exits 1 unless the
    held-out loss fell by at least 10 % (2 on a usage or input error).
    """
    try:
        from slimpajama.btlm import loss_fell, train_smoke
    except ModuleNotFoundError as missing:
        raise InputProblem(
            f"{missing.name} is missing: pip install 'slimpajama[train]'"
        ) from missing
    try:
        result = train_smoke(tok_dir, steps=steps, seed=seed, log=click.echo)
    except (OSError, ValueError) as error:
        raise InputProblem(str(error)) from error
    if json_out:
        with open(json_out, "w", encoding="utf-8") as handle:
            json.dump(result, handle, indent=2)
    if not loss_fell(result):
        click.echo("held-out loss did not fall by 10 %", err=True)
        raise SystemExit(1)
