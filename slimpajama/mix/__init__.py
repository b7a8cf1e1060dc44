"""The `mix` command: config → pipeline → driver → cli.

`counters` (token counters), `decontam` (exact and near holdout decontamination), `pipeline`
(MixConfig, the Beam graph and the driver `run_mix`), `cli` (click command).

May import: `slimpajama.core`, `slimpajama.io`, `slimpajama.console`, Beam.
"""
