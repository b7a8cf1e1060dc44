"""`slimpajama` command line: dedup, explain, mix, tokenize, train-smoke, report.

Each command lives next to its pipeline (`slimpajama/<command>/cli.py`); this module only groups
them, and imports a command's module only when that command runs (`slimpajama report` does not
load Apache Beam). Unknown `--options` are passed through to Apache Beam.
"""

from __future__ import annotations

import importlib

import click

from slimpajama import __version__

COMMANDS: dict[str, tuple[str, str]] = {
    "dedup": ("slimpajama.dedup.cli:dedup", "Globally deduplicate a RedPajama-layout corpus into "
              "the SlimPajama release layout."),
    "explain": ("slimpajama.dedup.cli:explain", "Why DOC_ID (relpath:line) was removed, kept, "
                "dropped as short or quarantined in OUTPUT."),
    "mix": ("slimpajama.mix.cli:mix_command", "Reweight sources to a mixture, split off "
            "validation/test, decontaminate and shuffle."),
    "report": ("slimpajama.report.cli:report_command", "Rebuild OUTPUT/report.html from the "
               "report.json (dedup, mix) or manifest.json (tokenize) in OUTPUT: a self-contained "
               "page with tables and inline SVG figures."),
    "tokenize": ("slimpajama.tokenize.cli:tokenize_command", "GPT-2-tokenize a release folder into "
                 "training shards (each document -> ids + [50256])."),
    "train-smoke": ("slimpajama.train.cli:train_smoke_command", "Train a tiny BTLM (ALiBi, SwiGLU, "
                    "tied embeddings, µP) on CPU from Megatron shards."),
}
"""Command name -> ("module:attribute" of its click command, the first sentence of its help), so
that `slimpajama --help` lists the commands without importing them (a test keeps the sentences
equal to the commands' own)."""


def load_command(name: str) -> click.Command:
    """The click command `name` of COMMANDS (its module imported now)."""
    module, attribute = COMMANDS[name][0].split(":")
    return getattr(importlib.import_module(module), attribute)


def short_help(name: str, limit: int) -> str:
    """Command `name`'s one-line help shortened to `limit` characters as click does, without
    importing the command."""
    return click.Command(name, help=COMMANDS[name][1]).get_short_help_str(limit)


class LazyGroup(click.Group):
    """A click group whose commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return load_command(name) if name in COMMANDS else None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            limit = formatter.width - 6 - max(map(len, COMMANDS))  # as click.Group computes it
            formatter.write_dl([(name, short_help(name, limit)) for name in self.list_commands(ctx)])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="slimpajama")
def main() -> None:
    """Clean, globally deduplicate, re-mix and tokenize RedPajama-style corpora."""


if __name__ == "__main__":
    main()
