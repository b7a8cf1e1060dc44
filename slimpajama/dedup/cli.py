"""Click commands `dedup` and `explain` (registered in the main `slimpajama` group).

Unknown `--options` are passed through to Apache Beam (`--runner DataflowRunner --project ...`,
`--direct_running_mode multi_processing --direct_num_workers 2`, ...).
Exit status: 0 ok; 1 --strict and some record was quarantined; 2 usage or input error;
3 the run's own accounting check failed (a bug: please report it); 4 the distributed star rounds
(--components distributed, or auto beyond its edge budget) did not converge in --component-rounds
(nothing written; rerun with more rounds).
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

import click

from slimpajama.console import PASS_THROUGH, configure_logging, fail
from slimpajama.core.keep import KEEP_POLICIES
from slimpajama.dedup.config import POOL_PRELOAD, PRESETS, ConfigError, dedup_config
from slimpajama.dedup.distributed_clusters import ComponentsNotConverged
from slimpajama.forkserver import start_early
from slimpajama.io.beam_options import BeamOptionError
from slimpajama.io.inputs import InputError
from slimpajama.resume import ResumeRefused


def print_summary(report: dict[str, Any]) -> None:
    """The per-source table of a dedup report."""
    header = f"{'source':<24}{'docs in':>10}{'kept':>10}{'short':>8}{'dup':>9}{'quar.':>7}{'dup bytes':>11}"
    click.echo(header)
    for name, row in report["sources"].items():
        click.echo(
            f"{name:<24}{row['docs_in']:>10}{row['kept']:>10}{row['short']:>8}{row['duplicate']:>9}"
            f"{row['quarantined']:>7}{row['byte_duplication_rate']:>10.2%}"
        )
    issues = report["issues"]["by_kind"]
    if issues:
        click.echo("issues: " + ", ".join(f"{n} {kind}" for kind, n in issues.items())
                   + " (see quarantine/part-*.jsonl)")


@click.command("dedup", context_settings=PASS_THROUGH)
@click.option("--input", "input_", required=True, help="RedPajama-layout root (local or gs://).")
@click.option("--output", required=True, help="Output root (SlimPajama release layout).")
@click.option("--recipe", "--config", "recipe", help="Named recipe in pipelines/ or a JSON file; flags override it.")
@click.option("--preset", type=click.Choice(sorted(PRESETS)), help="slimpajama = the faithful SlimPajama-627B configuration (recipe slimpajama-627b).")
@click.option("--scope", type=click.Choice(["global", "local"]), help="Dedup across all sources (global, default) or within each source.")
@click.option("--threshold", type=float, help="Jaccard threshold the LSH bands are tuned for [0.8].")
@click.option("--ngram", type=int, help="Shingle length in characters (or words) [13].")
@click.option("--shingle", type=click.Choice(["char", "word"]), help="Character or word n-grams [char].")
@click.option("--num-perm", type=int, help="MinHash permutations [128].")
@click.option("--scheme", type=click.Choice(["fast", "reference", "affine32"]), help="MinHash scheme [fast]; reference = bit-exact SlimPajama.")
@click.option("--seed", type=int, help="MinHash seed [1].")
@click.option("--bands", type=int, help="LSH bands (with --rows); default: optimal for --threshold.")
@click.option("--rows", type=int, help="LSH rows per band (with --bands).")
@click.option("--verify", is_flag=True, default=None, help="Keep a candidate pair only if its exact Jaccard >= --threshold.")
@click.option("--recall", type=float, help="With --verify: choose bands so P(candidate | J = threshold) >= this, e.g. 0.99.")
@click.option("--components", type=click.Choice(["auto", "union-find", "distributed"]), help="Clusters by one worker's array union-find while the candidate edges fit 50M [auto], always that (union-find), or always distributed large-star/small-star rounds (same result).")
@click.option("--component-rounds", type=int, help="Star rounds for --components distributed [8]; too few fails the run, never the result.")
@click.option("--min-chars", type=int, help="Drop documents whose key text is shorter [200].")
@click.option("--keep", type=click.Choice(KEEP_POLICIES), help="Which cluster member is kept [first = smallest id].")
@click.option("--source-priority", help="Comma-separated set names for --keep source-priority.")
@click.option("--chunks", type=int, help="Number of train/chunkN folders [10].")
@click.option("--max-line-bytes", type=int, help="Quarantine longer lines [268435456].")
@click.option("--mixture", help="Then mix: a mixture name in pipelines/mixtures/ or a JSON file; dedup output goes to OUTPUT-dedup, the mixed release to OUTPUT.")
@click.option("--holdout", type=float, default=None, help="With --mixture: held-out fraction split into validation/test [0.0017].")
@click.option("--strict", is_flag=True, default=None, help="Exit 1 if any record was quarantined (after writing the report).")
@click.option("--overwrite", is_flag=True, default=None, help="Replace a non-empty --output.")
@click.option("--resume", is_flag=True, help="Reuse the finished work of an interrupted run of this same command (same options, version and inputs).")
@click.option("-q", "--quiet", is_flag=True, help="No progress lines on stderr.")
@click.option("-v", "--verbose", is_flag=True, help="Debug logging, Beam included.")
@click.pass_context
def dedup(ctx: click.Context, input_: str, output: str, recipe: str | None, preset: str | None,
          verbose: bool, mixture: str | None, holdout: float | None, resume: bool, quiet: bool,
          **flags: Any) -> None:
    """Globally deduplicate a RedPajama-layout corpus into the SlimPajama release layout.

    Writes OUTPUT/train/chunk*/example_train_*.jsonl.zst, the audit part files duplicates/,
    edges/, short/, quarantine/ and report.json. Any other --option is passed to Apache Beam.
    """
    configure_logging(verbose)
    start_early(POOL_PRELOAD, ctx.args)  # its imports overlap ours
    from slimpajama.dedup.run import run_dedup  # imports Beam: keep --help fast

    try:
        cfg, mixture = dedup_config(input_, output, flags, recipe, preset, mixture)
        report = run_dedup(cfg, list(ctx.args), resume=resume, progress=None if quiet else sys.stderr)
    except (ConfigError, InputError, BeamOptionError, ResumeRefused) as error:
        fail(str(error))
    except ComponentsNotConverged as error:
        fail(str(error), status=4)
    if report is None:
        click.echo("dry run: the pipeline was translated, nothing was executed")
        return
    print_summary(report)
    click.echo(f"wrote {cfg.output}")
    if not report["accounting"]["ok"]:
        fail("accounting check failed: " + "; ".join(report["accounting"]["errors"]), status=3)
    if cfg.strict and report["issues"]["by_kind"].get("quarantined", 0):
        fail(f"--strict: {report['issues']['by_kind']['quarantined']} records quarantined", status=1)
    if mixture:
        mix_after_dedup(cfg.output, output, mixture, holdout, bool(cfg.overwrite), list(ctx.args),
                        progress=None if quiet else sys.stderr)


def mix_after_dedup(dedup_output: str, output: str, mixture: str, holdout: float | None,
                    overwrite: bool, beam_args: list[str], progress: TextIO | None) -> None:
    """`dedup --mixture`: the mix stage on the fresh dedup output, with default mix options."""
    from slimpajama.core.mixture import load_mixture
    from slimpajama.core.split import HOLDOUT_FRACTION
    from slimpajama.mix.cli import print_mix_table
    from slimpajama.mix.config import MixConfig
    from slimpajama.mix.run import run_mix

    try:
        config = MixConfig(load_mixture(mixture), holdout=HOLDOUT_FRACTION if holdout is None else holdout)
        report = run_mix(dedup_output, output, config, overwrite=overwrite, beam_args=beam_args,
                         progress=progress)
    except (ValueError, FileExistsError) as error:
        fail(str(error))
    print_mix_table(report)
    click.echo(f"wrote {output}")


@click.command("explain")
@click.argument("output")
@click.argument("doc_id")
def explain(output: str, doc_id: str) -> None:
    """Why DOC_ID (relpath:line) was removed, kept, dropped as short or quarantined in OUTPUT."""
    from slimpajama.dedup.explain import UnknownDocument
    from slimpajama.dedup.explain import explain as explain_document

    try:
        for line in explain_document(output, doc_id):
            click.echo(line)
    except (UnknownDocument, FileNotFoundError, OSError) as error:
        fail(str(error))
