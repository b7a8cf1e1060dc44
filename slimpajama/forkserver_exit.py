"""Imported last by the worker pool's forkserver (`slimpajama.forkserver.start_forkserver`), never by a
run's own process: when the run stops the forkserver, it ends at once (`os._exit`) instead of
finalizing an interpreter that holds Beam, numpy and GPT-2 (about 0.4 s at the end of every run,
which the run waits for). The forkserver has nothing to flush, and its workers already end
through `os._exit`."""

import atexit
import os

atexit.register(os._exit, 0)
