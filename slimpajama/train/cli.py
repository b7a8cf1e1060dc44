"""Click command `train-smoke` (registered in the main `slimpajama` group)."""

from __future__ import annotations

import json

import click

from slimpajama.console import InputProblem


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
        from slimpajama.train.btlm import loss_fell, train_smoke
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
