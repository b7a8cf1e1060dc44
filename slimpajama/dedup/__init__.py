"""The `dedup` command: config → pipeline → driver → cli.

`config` (DedupConfig, recipes and presets), `scan` (per-file read/normalize/sign/band, Beam-free),
`edges` (bucket stars and union-find clusters), `verify` (exact Jaccard of candidate stars),
`distributed_clusters` (star rounds as Beam transforms), `pipeline` (the Beam graph), `run` (the
driver: paths, launch, report), `explain` (why a document was removed), `cli` (click commands).

May import: `slimpajama.core`, `slimpajama.io`, `slimpajama.console`, Beam.
"""
