"""Progress lines from completion markers: exact format, marker round trip, the printer's lines."""

from __future__ import annotations

import io
import os

from slimpajama.progress import (
    Mark,
    ProgressPrinter,
    Stage,
    clock,
    finished_units,
    mark_done,
    progress_line,
    run_to_completion,
)


def test_clock_formats_minutes_and_hours():
    assert [clock(s) for s in (0, 59.4, 151, 3599.6, 3600, 90061)] == [
        "00:00", "00:59", "02:31", "1:00:00", "1:00:00", "25:01:01"]


def test_progress_line_exact_format_with_disk_bytes_eta():
    stage = Stage("scan", "files", 40, total_bytes=4_000)
    marks = [Mark(65_510, 602_000_000, 500), Mark(65_511, 602_000_000, 500)]
    # 1,204 MB in 84.8 s = 14.2 MB/s; a quarter of the disk bytes -> 3 x 84.8 s = 04:14 left
    assert progress_line(stage, marks, 84.8) == (
        "scan: files 2/40, 131,021 docs, 1,204 MB, 14.2 MB/s, ETA 04:14")


def test_progress_line_counts_units_without_disk_bytes_and_before_the_first_unit():
    stage = Stage("write", "files", 4)
    assert progress_line(stage, [Mark(10, 2_000_000, 0)], 2.0) == (
        "write: files 1/4, 10 docs, 2 MB, 1.0 MB/s, ETA 00:06")
    assert progress_line(stage, [], 3.0) == "write: files 0/4, 0 docs, 0 MB, 0.0 MB/s, ETA --:--"


def test_markers_round_trip_and_leave_no_temporary_files(tmp_path):
    work = str(tmp_path)
    mark_done(work, "scan", "00003", docs=7, nbytes=1234, disk_bytes=99)
    mark_done(work, "scan", "00001", docs=1, nbytes=2)
    assert finished_units(work, "scan") == {"00003": Mark(7, 1234, 99), "00001": Mark(1, 2, 0)}
    assert sorted(os.listdir(tmp_path / "progress" / "scan")) == ["00001.json", "00003.json"]
    assert finished_units(work, "write") == {}
    stale = {"00003": Mark(0, 0, 0)}  # a known marker is not read again
    assert finished_units(work, "scan", stale) == {"00003": Mark(0, 0, 0), "00001": Mark(1, 2, 0)}


def test_printer_prints_start_progress_and_end_lines_per_stage(tmp_path):
    work = str(tmp_path)
    mark_done(work, "scan", "0", docs=3, nbytes=3_000_000, disk_bytes=10)
    stream = io.StringIO()
    stages = [Stage("scan", "files", 2, total_bytes=20), Stage("write", "files", 1)]
    with ProgressPrinter(work, stages, stream=stream, interval=0.0, poll=60.0) as printer:
        printer._update(final=False)  # one poll by hand: the thread's first poll is a minute away
        mark_done(work, "scan", "1", docs=4, nbytes=1_000_000, disk_bytes=10)
        mark_done(work, "write", "0", docs=7)
    lines = [line.split(", ETA")[0].split(" MB/s")[0].rsplit(", ", 1)[0] if "MB/s" in line else line
             for line in stream.getvalue().splitlines()]
    assert [line.split(" in ")[0] for line in lines] == [
        "scan: started, 2 files",
        "scan: files 1/2, 3 docs, 3 MB",
        "scan: files 2/2, 7 docs, 4 MB",
        "scan: done",
        "write: started, 1 files",
        "write: files 1/1, 7 docs, 0 MB",
        "write: done",
    ]


def test_quiet_printer_starts_no_thread(tmp_path):
    with ProgressPrinter(str(tmp_path), [Stage("scan", "files", 1)], stream=None) as printer:
        mark_done(str(tmp_path), "scan", "0", docs=1)
    assert printer._thread.ident is None and printer._started == {}


class FakeResult:
    def __init__(self) -> None:
        self.waited = False

    def job_id(self) -> str:
        return "2026-12-01_12_00_00-123"

    def wait_until_finish(self) -> None:
        self.waited = True


class FakePipeline:
    def __init__(self, runner: str) -> None:
        from apache_beam.options.pipeline_options import PipelineOptions

        self.options = PipelineOptions([f"--runner={runner}"])
        self.result = FakeResult()

    def run(self) -> FakeResult:
        return self.result


def test_a_non_local_runner_says_its_job_id_and_a_local_one_says_nothing():
    stream = io.StringIO()
    dataflow = FakePipeline("DataflowRunner")
    assert run_to_completion(dataflow, stream) is dataflow.result and dataflow.result.waited
    assert stream.getvalue() == (
        "DataflowRunner: job 2026-12-01_12_00_00-123 submitted; stage progress below, details in the "
        "runner's own monitoring (Dataflow: the job page of the Cloud console)\n")
    local = io.StringIO()
    assert run_to_completion(FakePipeline("FnApiRunner"), local).waited
    assert local.getvalue() == ""
