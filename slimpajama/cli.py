"""`slimpajama` command line: dedup, explain, mix, tokenize, train-smoke, report.

Each command lives next to its pipeline (`slimpajama/<command>/cli.py`); this module only groups
them. Unknown `--options` are passed through to Apache Beam.
"""

from __future__ import annotations

import click

from slimpajama import __version__
from slimpajama.dedup.cli import dedup, explain
from slimpajama.mix.cli import mix_command
from slimpajama.report.cli import report_command
from slimpajama.tokenize.cli import tokenize_command
from slimpajama.train.cli import train_smoke_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="slimpajama")
def main() -> None:
    """Clean, globally deduplicate, re-mix and tokenize RedPajama-style corpora."""


for command in (dedup, explain, mix_command, tokenize_command, train_smoke_command, report_command):
    main.add_command(command)

if __name__ == "__main__":
    main()
