"""Every core of a local run: `PooledMap` applies a pure, picklable per-element function in a pool
of worker processes, from inside one Beam DoFn.

On the in-process runner a stage's input arrives as one bundle on one thread, so a CPU-bound
per-file stage (scan, write) used one core. PooledMap submits each element to a process pool as it
arrives, emits the outputs of finished elements as it goes and the rest at the end of the bundle,
in completion order: every consumer groups or combines them, so the output bytes do not depend on
it. On a non-local runner (Dataflow, Flink, Spark) each SDK worker process already owns a core, so
`processes` is 1 and the function runs inline, exactly as a plain DoFn would.

One pool per process is shared by every pooled stage. Its workers are forked from a forkserver
that has imported the function's module once (cheap to fork, no fork of the multi-threaded
runner process) and exit as soon as the run's process is gone: a killed run leaves no worker
behind that could still write into the folder a resumed run uses.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import select
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions
from apache_beam.transforms.window import GlobalWindows

from slimpajama.io.beam_options import is_local_runner

PENDING_PER_PROCESS = 2
"""Elements in flight per worker process: enough to keep each busy, few enough that finished
outputs flow downstream while the stage runs."""
RUN_POLL_SECONDS = 1.0
"""Where pidfds are missing, how often a pool worker checks that the run is still alive."""

FORKSERVER_EXIT_MODULE = "slimpajama.forkserver_exit"
"""Preloaded last by the forkserver: it then exits without interpreter finalization (named, not
imported: importing it makes the importing process skip its own finalization)."""

_POOLS: dict[int, ProcessPoolExecutor] = {}
"""The shared pools of this process, by size (see `shared_pool`)."""

Outputs = list[tuple[str | None, Any]]
"""What a pooled function returns: (output tag, value) pairs; tag None is the main output."""


def available_cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


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


def _context() -> multiprocessing.context.BaseContext:
    return multiprocessing.get_context("forkserver")


def start_forkserver(modules: Sequence[str]) -> None:
    """Start the forkserver now (it imports `modules` once), so that its start-up overlaps
    pipeline construction instead of delaying the first pooled stage. Idempotent. At exit the
    forkserver is stopped and reaped, so no process outlives the run and the CPU time of the
    pool workers is accounted to this process (its children's times)."""
    from multiprocessing import forkserver

    _context().set_forkserver_preload([*modules, FORKSERVER_EXIT_MODULE])
    forkserver.ensure_running()
    atexit.unregister(_stop_forkserver)
    atexit.register(_stop_forkserver)


def shared_pool(processes: int) -> ProcessPoolExecutor:
    """This process's pool of `processes` workers: made on first use, then shared by every
    PooledMap stage of every pipeline the process runs (one set of workers, not one per stage),
    and made anew if a worker died."""
    pool = _POOLS.get(processes)
    if pool is None or getattr(pool, "_broken", False):
        pool = _POOLS[processes] = ProcessPoolExecutor(
            processes, mp_context=_context(), initializer=_worker_init, initargs=(os.getpid(),))
    return pool


def _stop_forkserver() -> None:
    """At exit: shut the pools down, then stop and reap the forkserver."""
    from multiprocessing import forkserver

    for pool in _POOLS.values():
        pool.shutdown(wait=True, cancel_futures=True)
    _POOLS.clear()

    stop = getattr(forkserver._forkserver, "_stop", None)  # noqa: SLF001  no public way to reap it
    if stop is not None:
        stop()


def _worker_init(run_pid: int) -> None:
    """Pool worker initializer: leave Ctrl-C to the run itself (one message, not one traceback
    per worker), and exit as soon as the run's process is gone, even mid-task: a killed run must
    leave no worker behind writing into the folder a resumed run will use. (Workers are children
    of the forkserver, and every worker keeps the forkserver alive, so the parent-death signal
    alone cannot do this.)"""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with, args=(run_pid,), name="exit-with-run", daemon=True).start()


def _exit_with(pid: int) -> None:
    """Block until process `pid` has exited, then end this process at once."""
    try:
        handle = os.pidfd_open(pid)
        select.select([handle], [], [])  # a pidfd becomes readable when its process exits
    except (AttributeError, OSError):  # no pidfd (not Linux >= 5.3): poll
        while True:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(RUN_POLL_SECONDS)
    os._exit(1)


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
