"""Console helpers shared by every command: logging set-up and one-line failures with an exit status."""

from __future__ import annotations

import logging
import sys

import click

PASS_THROUGH = {"ignore_unknown_options": True, "allow_extra_args": True}


def configure_logging(verbose: bool) -> None:
    """Our messages at INFO (or DEBUG); Beam's own chatter only from WARNING up."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO, format="%(levelname)s %(message)s",
        force=True,  # importing Beam may have configured the root logger already
    )
    logging.getLogger("apache_beam").setLevel(logging.DEBUG if verbose else logging.WARNING)


def fail(message: str, status: int = 2) -> None:
    """Print a one-line error and exit."""
    click.echo(f"slimpajama: error: {message}", err=True)
    sys.exit(status)


class InputProblem(click.ClickException):
    """A usage or input error; exit status 2 like the other `slimpajama` commands."""

    exit_code = 2
