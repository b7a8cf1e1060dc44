"""File formats and discovery: RedPajama input files (`inputs`), the SlimPajama release layout
(`release`), Megatron/HDF5 token shards (`shards`), the offline GPT-2 BPE (`tokenizer`) and the
shared Beam pipeline options (`beam_options`).

May import: `slimpajama.core`, Beam's filesystems and options, pyarrow, zstandard. Never a command
package (`dedup`, `mix`, `tokenize`, `train`) or click.
"""
