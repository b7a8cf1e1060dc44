"""The `mix` command: config → pipeline → driver → cli.

`config` (MixConfig), `counters` (token counters), `decontam` (exact and near holdout
decontamination), `pipeline` (the Beam graph), `run` (the driver `run_mix`: report, final move),
`cli` (click command).

May import: `slimpajama.core`, `slimpajama.io`, `slimpajama.console`, Beam.
"""
