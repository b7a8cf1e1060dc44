"""The `tokenize` command: options → pipeline → driver → cli.

`config` (TokenizeOptions), `pipeline` (per-file encoding, shard planning and writing, the
manifest), `run` (the driver `run_tokenize`), `cli` (click command).

May import: `slimpajama.core`, `slimpajama.io`, `slimpajama.console`, Beam.
"""
