"""The forkserver behind the worker pool of a local run (`slimpajama.pool.PooledMap`), without
Apache Beam, so a command can start it before it imports Beam itself.

The forkserver imports the pooled functions' modules once; workers fork from it (cheap, and no
fork of the multi-threaded runner process) and exit as soon as the run's process is gone, so a
killed run leaves no worker behind that could still write into the folder a resumed run uses. At
exit the forkserver is stopped and reaped.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import select
import signal
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

from slimpajama.io.beam_options import DEFAULT_RUNNER, LOCAL_RUNNERS

RUN_POLL_SECONDS = 1.0
"""Where pidfds are missing, how often a pool worker checks that the run is still alive."""

FORKSERVER_PRELOAD_MODULE = "slimpajama.forkserver_preload"
"""Preloaded last by the forkserver: it freezes the collector's view of what was imported and
exits without interpreter finalization (named, not imported: importing it makes the importing
process skip its own finalization)."""

_POOLS: dict[int, ProcessPoolExecutor] = {}
"""The shared pools of this process, by size (see `shared_pool`)."""


def available_cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1



def _context() -> multiprocessing.context.BaseContext:
    return multiprocessing.get_context("forkserver")


def start_forkserver(modules: Sequence[str]) -> None:
    """Start the forkserver now (it imports `modules` once), so that its start-up overlaps
    pipeline construction instead of delaying the first pooled stage. Idempotent. At exit the
    forkserver is stopped and reaped, so no process outlives the run and the CPU time of the
    pool workers is accounted to this process (its children's times)."""
    from multiprocessing import forkserver

    _context().set_forkserver_preload([*modules, FORKSERVER_PRELOAD_MODULE])
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
    """At exit: shut the pools down, then stop and reap the forkserver and the resource tracker
    it started (otherwise the tracker outlives the run by a moment)."""
    from multiprocessing import forkserver, resource_tracker

    for pool in _POOLS.values():
        pool.shutdown(wait=True, cancel_futures=True)
    _POOLS.clear()
    for server in (forkserver._forkserver, resource_tracker._resource_tracker):  # noqa: SLF001
        stop = getattr(server, "_stop", None)  # no public way to reap them
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


def start_early(modules: Sequence[str], beam_args: Sequence[str]) -> None:
    """`start_forkserver(modules)` now, before the command imports Apache Beam (the forkserver
    then imports it at the same time, on another core), when `beam_args` say the run will use a
    pool: a local runner in Beam's in-memory mode, more than one core, `--direct_num_workers` not
    1. `slimpajama.pool.local_processes` still decides the pool size; a forkserver started for
    nothing stays idle and is stopped at exit."""
    runner = _arg_value(beam_args, "runner") or DEFAULT_RUNNER
    mode = _arg_value(beam_args, "direct_running_mode") or "in_memory"
    workers = _arg_value(beam_args, "direct_num_workers")
    cores = int(workers) if workers is not None and workers.isdigit() else available_cores()
    if runner.rsplit(".", 1)[-1] in LOCAL_RUNNERS and mode == "in_memory" and cores > 1:
        start_forkserver(modules)


def _arg_value(args: Sequence[str], name: str) -> str | None:
    """The last value of `--name=value` or `--name value` in `args`, else None."""
    value = None
    for i, arg in enumerate(args):
        if arg.startswith(f"--{name}="):
            value = arg.split("=", 1)[1]
        elif arg == f"--{name}" and i + 1 < len(args):
            value = args[i + 1]
    return value
