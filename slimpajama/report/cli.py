"""Click command `report` (registered in the main `slimpajama` group)."""

from __future__ import annotations

import click

from slimpajama.console import InputProblem


@click.command("report")
@click.argument("output", type=click.Path(exists=True, file_okay=False))
def report_command(output: str) -> None:
    """Rebuild OUTPUT/report.html from the report.json (dedup, mix) or manifest.json (tokenize)
    in OUTPUT: a self-contained page with tables and inline SVG figures."""
    from slimpajama.report.build import NotAnOutputFolder, write_report_html

    try:
        path = write_report_html(output)
    except NotAnOutputFolder as error:
        raise InputProblem(str(error)) from error
    click.echo(f"wrote {path}")
