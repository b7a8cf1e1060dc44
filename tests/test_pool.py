"""slimpajama.pool: the same outputs inline and in a pool of processes, tagged outputs routed,
time counted; the pool size chosen from the runner and Beam's own worker options."""

from __future__ import annotations

import os

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline as BeamPipeline
from apache_beam.testing.util import assert_that, equal_to

from slimpajama.io.beam_options import pipeline_options
from slimpajama.pool import Outputs, PooledMap, available_cores, local_processes


def squares_and_pids(n: int, offset: int) -> Outputs:
    """Main output n² + offset; the worker's pid to 'pid'; odd n also to 'odd'."""
    outputs: Outputs = [(None, n * n + offset), ("pid", os.getpid())]
    return [*outputs, ("odd", n)] if n % 2 else outputs


def worker_count_matcher(processes: int):
    """A Beam matcher (it must raise to fail) for the count of distinct worker pids."""

    def check(got: list[int]) -> None:
        (workers,) = got
        assert 1 <= workers <= processes and (workers > 1) == (processes > 1), (workers, processes)

    return check


@pytest.mark.parametrize("processes", [1, 3])
def test_pooled_map_gives_every_output_once_whatever_the_pool(processes):
    with BeamPipeline(runner="FnApiRunner") as p:
        results = (
            p
            | beam.Create(range(40))
            | beam.ParDo(PooledMap(squares_and_pids, 7, stage="squares", processes=processes))
            .with_outputs("pid", "odd", main="squares")
        )
        assert_that(results.squares, equal_to([n * n + 7 for n in range(40)]), label="main")
        assert_that(results.odd, equal_to(list(range(1, 40, 2))), label="odd")
        again = (
            results.squares
            | "Second stage" >> beam.ParDo(PooledMap(squares_and_pids, 0, stage="again", processes=processes))
            .with_outputs("pid", "odd", main="squares")
        )
        pids = (
            (results.pid, again.pid)
            | beam.Flatten()
            | beam.combiners.Count.PerElement()
            | beam.Keys()
            | beam.combiners.Count.Globally()
        )
        # both stages share one pool: never more workers than processes (1 = this process)
        assert_that(pids, worker_count_matcher(processes), label="pids")


def raises_on_five(n: int) -> Outputs:
    if n == 5:
        raise ValueError("five is not allowed")
    return [(None, n)]


def test_an_error_in_a_pool_worker_fails_the_run_with_its_message():
    with pytest.raises(Exception, match="five is not allowed"):
        with BeamPipeline(runner="FnApiRunner") as p:
            _ = p | beam.Create(range(10)) | beam.ParDo(PooledMap(raises_on_five, stage="x", processes=2))


@pytest.mark.parametrize(("args", "expected"), [
    ([], available_cores()),
    (["--direct_num_workers", "3"], 3),
    (["--direct_num_workers=1"], 1),
    (["--direct_running_mode", "multi_processing", "--direct_num_workers", "2"], 1),
    (["--runner", "PortableRunner"], 1),
    (["--runner", "DataflowRunner"], 1),
])
def test_local_processes_uses_every_core_only_on_an_in_memory_local_run(args, expected):
    assert local_processes(pipeline_options(args), args) == expected


def sleep_after_writing_pid(n: int, folder: str) -> Outputs:
    """Record this worker's pid, then sleep far longer than the test waits."""
    import time
    from pathlib import Path

    Path(folder, f"{n}-{os.getpid()}").touch()
    time.sleep(120)
    return [(None, n)]


def test_pool_workers_exit_when_the_run_is_killed(tmp_path):
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    script = (
        "import apache_beam as beam, sys\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from test_pool import sleep_after_writing_pid\n"
        "from slimpajama.pool import PooledMap\n"
        "with beam.Pipeline(runner='FnApiRunner') as p:\n"
        "    _ = p | beam.Create([1, 2]) | beam.ParDo(PooledMap(sleep_after_writing_pid, "
        f"{str(tmp_path)!r}, stage='s', processes=2))\n"
    )
    run = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 60
    while len(list(tmp_path.iterdir())) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    workers = [int(p.name.split("-")[1]) for p in tmp_path.iterdir()]
    assert len(workers) == 2 and run.pid not in workers
    run.send_signal(signal.SIGKILL)
    run.wait()
    deadline = time.monotonic() + 10
    alive = workers
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = [pid for pid in workers if Path(f"/proc/{pid}").exists()
                 and Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"]
    assert alive == []  # both workers, mid-task, ended with the run


@pytest.mark.parametrize(("args", "cores", "started"), [
    ([], 2, True),
    ([], 1, False),
    (["--runner=FnApiRunner"], 2, True),
    (["--runner", "apache_beam.runners.direct.DirectRunner"], 2, True),
    (["--runner=DataflowRunner", "--project", "p"], 2, False),
    (["--runner", "FlinkRunner"], 8, False),
    (["--direct_num_workers=1"], 4, False),
    (["--direct_num_workers", "3"], 1, True),
    (["--direct_running_mode=multi_processing"], 2, False),
    (["--direct_running_mode", "in_memory"], 2, True),
])
def test_start_early_only_when_the_run_will_pool(monkeypatch, args, cores, started):
    from slimpajama import forkserver

    calls = []
    monkeypatch.setattr(forkserver, "start_forkserver", calls.append)
    monkeypatch.setattr(forkserver, "available_cores", lambda: cores)
    forkserver.start_early(("some.module",), args)
    assert calls == ([("some.module",)] if started else [])


def test_pool_preload_names_the_modules_the_pools_run():
    import importlib.util

    from slimpajama.core.mixture import Mixture
    from slimpajama.dedup import units as dedup_units
    from slimpajama.dedup.config import POOL_PRELOAD as DEDUP
    from slimpajama.io.tokenizer import GPT2_PRELOAD_MODULE
    from slimpajama.mix import units as mix_units
    from slimpajama.mix.config import MixConfig
    from slimpajama.tokenize import pipeline as tokenize_pipeline
    from slimpajama.tokenize.config import POOL_PRELOAD as TOKENIZE

    natural = Mixture("natural", "every source as it is", None)
    gpt2 = MixConfig(natural, counter="gpt2").pool_preload()
    by_bytes = MixConfig(natural, counter="bytes").pool_preload()
    assert DEDUP == (dedup_units.__name__,)
    assert gpt2 == (mix_units.__name__, GPT2_PRELOAD_MODULE) and by_bytes == (mix_units.__name__,)
    assert TOKENIZE == (tokenize_pipeline.__name__, GPT2_PRELOAD_MODULE)
    assert importlib.util.find_spec(GPT2_PRELOAD_MODULE) is not None


def pid_output(n: int) -> Outputs:
    """The pid of the worker that ran it (for the session test)."""
    import os

    return [(None, os.getpid())]


def session_processes(sid: int) -> list[str]:
    """'pid state command' of every process (zombies too) in session `sid`."""
    from pathlib import Path

    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # ended meanwhile
            continue
        name, fields = text[text.index("(") + 1:text.rindex(")")], text[text.rindex(")") + 2:].split()
        if int(fields[3]) == sid:  # fields: state ppid pgrp session ...
            found.append(f"{stat.parent.name} {fields[0]} {name}")
    return found


def test_no_process_outlives_a_pooled_run():
    """The forkserver, its workers and the resource tracker are all reaped before the run exits."""
    import subprocess
    import sys
    from pathlib import Path

    script = (
        "import apache_beam as beam, sys\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from test_pool import pid_output\n"
        "from slimpajama.pool import PooledMap\n"
        "with beam.Pipeline(runner='FnApiRunner') as p:\n"
        "    _ = (p | beam.Create([1, 2, 3, 4]) | beam.ParDo(PooledMap(pid_output, stage='s', "
        "processes=2)) | beam.combiners.Count.PerElement() | beam.Map(print))\n"
    )
    run = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, start_new_session=True)
    out, err = run.communicate(timeout=300)
    assert run.returncode == 0, err[-2000:]
    counts = sorted(int(line.split(", ")[1].rstrip(")")) for line in out.splitlines())
    assert sum(counts) == 4 and run.pid not in {  # 4 elements, all run by pool workers
        int(line.split(", ")[0].lstrip("(")) for line in out.splitlines()}
    assert session_processes(run.pid) == []  # nothing left, not even a zombie
