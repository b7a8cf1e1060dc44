"""`slimpajama` command line: dedup, explain, mix, tokenize, train-smoke, report.

Each command lives next to its pipeline (`slimpajama/<command>/cli.py`); this module only groups
them, and imports a command's module only when that command runs (`slimpajama report` does not
load Apache Beam). Unknown `--options` are passed through to Apache Beam.
"""

from __future__ import annotations

import importlib

import click

from slimpajama import __version__

COMMANDS: dict[str, str] = {
    "dedup": "slimpajama.dedup.cli:dedup",
    "explain": "slimpajama.dedup.cli:explain",
    "mix": "slimpajama.mix.cli:mix_command",
    "report": "slimpajama.report.cli:report_command",
    "tokenize": "slimpajama.tokenize.cli:tokenize_command",
    "train-smoke": "slimpajama.train.cli:train_smoke_command",
}
"""Command name -> "module:attribute" of its click command."""


class LazyGroup(click.Group):
    """A click group whose commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attribute = COMMANDS[name].split(":")
        return getattr(importlib.import_module(module), attribute)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="slimpajama")
def main() -> None:
    """Clean, globally deduplicate, re-mix and tokenize RedPajama-style corpora."""


if __name__ == "__main__":
    main()
