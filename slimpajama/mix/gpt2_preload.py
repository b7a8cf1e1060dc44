"""Imported by the worker pool's forkserver (see `slimpajama.pool.start_forkserver`) when a mix
counts GPT-2 tokens: the GPT-2 encoding is built once there, so every pool worker forks with it
instead of building its own (about 1 CPU-second each)."""

from slimpajama.io.tokenizer import gpt2_encoding

gpt2_encoding()
