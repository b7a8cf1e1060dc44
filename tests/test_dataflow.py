"""`slimpajama dedup` is a valid Dataflow submission: a dry run translates every stage and stages
the package, without credentials or network."""

import pytest

pytest.importorskip("apache_beam.runners.dataflow.internal.apiclient")  # needs the [gcp] extra

from slimpajama.dedup.config import DedupConfig  # noqa: E402
from slimpajama.dedup.run import launch  # noqa: E402
from slimpajama.io.beam_options import pipeline_options  # noqa: E402

STAGES = [
    "Discover files", "Read, normalize, sign", "Group by band partition", "Candidate edges",
    "Group by anchor file", "One edge per pair", "Count edges", "Edges for one worker",
    "Gather edge records", "Clusters and keepers", "Edges for star rounds",
    "Star-round clusters and keepers", "Group edges by part", "Write edges", "Group short by part",
    "Write short", "Join removed lines", "Write kept", "Merge counts", "Write counts",
    "Cluster size histogram", "Write clusters", "Summarize issues", "Write issue summary",
    "Group issues by part", "Write quarantine", "Group removed by part", "Write duplicates",
]
GATHERS = ("ToList", "Gather edges", "Gather removed", "Gather short", "Gather issues")


@pytest.mark.beam
def test_dataflow_dry_run_translates_every_stage_and_stages_the_package():
    cfg = DedupConfig(input="gs://slimpajama-test-bucket/rp", output="gs://slimpajama-test-bucket/sp")
    options = pipeline_options([
        "--runner", "DataflowRunner", "--dry_run=True", "--project", "slimpajama-test",
        "--region", "us-central1", "--temp_location", "gs://slimpajama-test-bucket/tmp",
        "--setup_file", "./setup.py",
    ])
    job = launch(cfg, options).job
    names = {t.unique_name for t in job.proto_pipeline.components.transforms.values()}
    assert [s for s in STAGES if s not in names] == []
    assert [n for n in names if any(g in n for g in GATHERS)] == []  # no O(corpus) list on one worker
    staged = {
        dep.role_payload
        for env in job.proto_pipeline.components.environments.values()
        for dep in env.dependencies
    }
    assert any(b"workflow.tar.gz" in payload for payload in staged)  # the setup.py package


def dataflow_dry_run_options():
    return pipeline_options([
        "--runner", "DataflowRunner", "--dry_run=True", "--project", "slimpajama-test",
        "--region", "us-central1", "--temp_location", "gs://slimpajama-test-bucket/tmp",
        "--setup_file", "./setup.py",
    ])


def transform_names(job) -> set[str]:
    return {t.unique_name for t in job.proto_pipeline.components.transforms.values()}


MIX_STAGES = ["Root", "Files", "Spread", "Scan", "Histograms", "Plan", "SelectHoldout", "Index",
              "Bins", "Spill", "ByBin", "Write", "SumStats", "Summary"]


@pytest.mark.beam
def test_mix_dataflow_dry_run_translates_every_stage():
    from slimpajama.core.mixture import load_mixture
    from slimpajama.mix.config import MixConfig
    from slimpajama.mix.run import launch_mix, run_mix

    config = MixConfig(load_mixture("slimpajama-627b"), counter="bytes")
    job = launch_mix("gs://slimpajama-test-bucket/sp", "gs://slimpajama-test-bucket/mix.tmp", config,
                     dataflow_dry_run_options()).job
    assert [s for s in MIX_STAGES if s not in transform_names(job)] == []
    assert run_mix("gs://slimpajama-test-bucket/sp", "gs://slimpajama-test-bucket/mix", config,
                   beam_args=["--runner=DataflowRunner", "--dry_run=True", "--project=slimpajama-test",
                              "--region=us-central1",
                              "--temp_location=gs://slimpajama-test-bucket/tmp"]) is None


TOKENIZE_STAGES = ["Root", "InputFiles", "SpreadFiles", "Tokenize", "AllParts", "Offsets", "Plan",
                   "ByShard", "WriteShard", "AllShards", "WriteManifest"]


@pytest.mark.beam
def test_tokenize_dataflow_dry_run_translates_every_stage():
    from slimpajama.tokenize.config import TokenizeOptions
    from slimpajama.tokenize.pipeline import build_tokenize_pipeline

    pipeline = build_tokenize_pipeline("gs://slimpajama-test-bucket/mix",
                                       "gs://slimpajama-test-bucket/tok.tmp", TokenizeOptions(),
                                       dataflow_dry_run_options())
    job = pipeline.run().job
    assert [s for s in TOKENIZE_STAGES if s not in transform_names(job)] == []
