"""The `tokenize` command: options → pipeline → driver → cli.

`pipeline` (TokenizeOptions, per-file encoding, shard planning and writing, `run_tokenize`),
`cli` (click command).

May import: `slimpajama.core`, `slimpajama.io`, `slimpajama.console`, Beam.
"""
