"""Every core of a local run: `PooledMap` applies a pure, picklable per-element function in a pool
of worker processes, from inside one Beam DoFn.

On the in-process runner a stage's input arrives as one bundle on one thread, so a CPU-bound
per-file stage (scan, write) used one core. PooledMap submits each element to a process pool as it
arrives, emits the outputs of finished elements as it goes and the rest at the end of the bundle,
in completion order: every consumer groups or combines them, so the output bytes do not depend on
it. On a non-local runner (Dataflow, Flink, Spark) each SDK worker process already owns a core, so
`processes` is 1 and the function runs inline, exactly as a plain DoFn would.

One pool per process is shared by every pooled stage; its workers come from the forkserver of
`slimpajama.forkserver`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions
from apache_beam.transforms.window import GlobalWindows

from slimpajama.forkserver import available_cores, shared_pool, start_forkserver
from slimpajama.io.beam_options import is_local_runner

PENDING_PER_PROCESS = 2
"""Elements in flight per worker process: enough to keep each busy, few enough that finished
outputs flow downstream while the stage runs."""

Outputs = list[tuple[str | None, Any]]
"""What a pooled function returns: (output tag, value) pairs; tag None is the main output."""


def local_processes(options: PipelineOptions, beam_args: Sequence[str]) -> int:
    """Worker processes for PooledMap stages: every core on a local in-memory run; 1 on
    non-local runners and when Beam itself runs several workers (`--direct_running_mode
    multi_processing|multi_threading`). An explicit `--direct_num_workers N` on an in-memory run
    sets the pool size to N."""
    if not is_local_runner(options):
        return 1
    direct = options.view_as(DirectOptions)
    if direct.direct_running_mode not in (None, "in_memory"):
        return 1
    explicit = any(a == "--direct_num_workers" or a.startswith("--direct_num_workers=") for a in beam_args)
    return max(1, int(direct.direct_num_workers)) if explicit else available_cores()


def timed_call(fn: Callable[..., Outputs], element: Any, args: tuple) -> tuple[int, Outputs]:
    """(milliseconds, fn(element, *args)) — runs in the worker process."""
    start = time.perf_counter()
    outputs = fn(element, *args)
    return int((time.perf_counter() - start) * 1000), outputs


class PooledMap(beam.DoFn):
    """`fn(element, *args) -> Outputs` over `processes` worker processes (inline when 1). The
    milliseconds spent in `fn` are added to the Beam counter `<stage>_msecs`."""

    def __init__(self, fn: Callable[..., Outputs], *args: Any, stage: str, processes: int = 1) -> None:
        self._fn, self._args, self._stage, self._processes = fn, args, stage, processes

    def setup(self) -> None:
        self._msecs = Metrics.counter("slimpajama", f"{self._stage}_msecs")
        self._pool: ProcessPoolExecutor | None = None
        if self._processes > 1:
            start_forkserver([self._fn.__module__])
            self._pool = shared_pool(self._processes)

    def start_bundle(self) -> None:
        self._pending: set[Future] = set()

    def process(self, element: Any) -> Iterator[Any]:
        if self._pool is None:
            yield from self._route(timed_call(self._fn, element, self._args))
            return
        self._pending.add(self._pool.submit(timed_call, self._fn, element, self._args))
        while len(self._pending) >= PENDING_PER_PROCESS * self._processes:
            done, self._pending = wait(self._pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield from self._route(future.result())

    def finish_bundle(self) -> Iterator[Any]:
        while self._pending:
            done, self._pending = wait(self._pending, return_when=FIRST_COMPLETED)
            for future in done:
                for output in self._route(future.result()):
                    if isinstance(output, beam.pvalue.TaggedOutput):
                        yield beam.pvalue.TaggedOutput(output.tag, GlobalWindows.windowed_value(output.value))
                    else:
                        yield GlobalWindows.windowed_value(output)

    def _route(self, result: tuple[int, Outputs]) -> Iterator[Any]:
        msecs, outputs = result
        self._msecs.inc(msecs)
        for tag, value in outputs:
            yield value if tag is None else beam.pvalue.TaggedOutput(tag, value)
