"""Imported by the worker pool's forkserver (see `slimpajama.forkserver.start_forkserver`) when pool
workers will use GPT-2 (mix's token counts, tokenize): the encoding is built once there, so every
pool worker forks with it instead of building its own (about 1 CPU-second each)."""

from slimpajama.io.tokenizer import gpt2_encoding

gpt2_encoding()
