"""The executor protocol as run() uses it: context, thread count, lost workers, failure."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from convcli import KERNELS
from convcli.batch import (
    ExecutorFailed,
    ProcessExecutor,
    SerialExecutor,
    WorkerLost,
    plan,
    run,
)
from convcli.errors import ConvcliError
from convcli.options import Options

SHARPEN = Options.build(KERNELS["sharpen"], padding="same")


def images(folder: Path, names: list[str]) -> None:
    folder.mkdir(parents=True)
    for i, name in enumerate(names):
        pixels = np.random.default_rng(i).integers(0, 256, (16, 24, 3), dtype=np.uint8)
        Image.fromarray(pixels, "RGB").save(folder / name)


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


class Counted:
    """A context that counts, in this process, how often it is pickled."""

    pickled = 0

    def __init__(self, factor: int) -> None:
        self.factor = factor

    def __getstate__(self) -> dict[str, int]:
        Counted.pickled += 1
        return {"factor": self.factor}


def _scaled(context: Counted, x: int) -> int:
    return context.factor * x


#: Workers forked from this process, or from a forkserver: both must keep every guarantee.
START_METHODS = [m for m in ("fork", "forkserver") if m in multiprocessing.get_all_start_methods()]


@pytest.mark.parametrize("method", START_METHODS)
def test_the_context_is_shipped_once_per_worker_not_once_per_item(method):
    Counted.pickled = 0
    executor = ProcessExecutor(2, method)
    results = list(executor.map_unordered(_scaled, Counted(3), range(40), None))
    assert sorted(results) == [3 * i for i in range(40)]
    # forked workers inherit it; a forkserver's get it once each (initializer arguments)
    assert Counted.pickled == 0 if method == "fork" else 1 <= Counted.pickled <= 2


#: Where a default ProcessExecutor's worker comes from, in a fresh interpreter,
#: with another Python thread running or not.
PARENT_OF_WORKER = textwrap.dedent(
    """
    import os, sys, threading
    from convcli.batch import ProcessExecutor

    def parent(context, item):
        return os.getppid()

    if __name__ == "__main__":
        stop = threading.Event()
        if sys.argv[1] == "thread":  # a progress bar's refresh thread, say
            threading.Thread(target=stop.wait).start()
        [ppid] = ProcessExecutor(1).map_unordered(parent, None, [0], None)
        stop.set()
        print("here" if ppid == os.getpid() else "elsewhere")
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork is chosen on Linux only")
@pytest.mark.parametrize(("threads", "where"), [("none", "here"), ("thread", "elsewhere")])
def test_workers_are_forked_from_this_process_only_while_it_has_no_other_thread(
    tmp_path, threads, where
):
    # Forked workers start at once, with all imported (issue 13's photos: 0.25 s
    # and ~0.5 s of CPU less on 2 cores); a thread holding a lock at the fork
    # would leave that lock held in the worker, so then a forkserver makes them.
    script = tmp_path / "parent_of_worker.py"
    script.write_text(PARENT_OF_WORKER)
    done = subprocess.run(
        [sys.executable, "-W", "error", str(script), threads],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert (done.stdout.strip(), done.stderr) == (where, "")


def test_each_executor_says_how_many_engine_threads_a_task_may_use():
    assert ProcessExecutor(3).threads_per_task == 1  # the workers share the CPUs
    assert SerialExecutor().threads_per_task is None  # the engine decides by size


class Spy:
    """Runs everything in this process and records the context each job saw."""

    def __init__(self, threads: int | None) -> None:
        self.threads_per_task = threads
        self.seen: list[int | None] = []

    def map_unordered(self, fn, context, items, on_lost):
        for item in items:
            self.seen.append(context.threads)
            yield fn(context, item)


@pytest.mark.parametrize(("per_task", "own", "expected"), [(1, None, 1), (1, 4, 1), (None, 4, 4)])
def test_jobs_run_with_the_executors_thread_count(tmp_path, per_task, own, expected):
    images(tmp_path / "in", ["a.png", "b.png"])
    spy = Spy(per_task)
    options = replace(SHARPEN, threads=own)
    results = list(run(plan([tmp_path / "in"], tmp_path / "out"), options, executor=spy))
    assert [r.status for r in results] == ["ok", "ok"]
    assert spy.seen == [expected, expected]


def test_a_lost_worker_fails_its_job_alone_and_its_temporary_file_is_swept(tmp_path):
    images(tmp_path / "in", ["a.png", "b.png"])
    out = tmp_path / "out"

    class LosesTheFirst:  # the worker on a.png is killed mid-write
        threads_per_task = None

        def map_unordered(self, fn, context, items, on_lost):
            for i, job in enumerate(items):
                if i:
                    yield fn(context, job)
                    continue
                (job.target.parent / f".{job.target.name}.deadbeef.tmp").write_bytes(b"half")
                yield on_lost(job, WorkerLost("the worker vanished"))

    results = list(run(plan([tmp_path / "in"], out), SHARPEN, executor=LosesTheFirst()))
    assert [(r.source.name, r.status, r.reason) for r in results] == [
        ("a.png", "failed", "the worker vanished"),
        ("b.png", "ok", ""),
    ]
    assert results[0].message == f"{tmp_path / 'in' / 'a.png'}: the worker vanished"
    assert isinstance(results[0].error.__cause__, WorkerLost)
    assert listing(out) == ["b.png"]


def test_an_executor_that_cannot_go_on_stops_the_run_and_its_jobs_are_swept(tmp_path):
    images(tmp_path / "in", ["a.png", "b.png"])
    out = tmp_path / "out"

    class ClusterGone:
        threads_per_task = None

        def map_unordered(self, fn, context, items, on_lost):
            job = next(iter(items))
            (job.target.parent / f".{job.target.name}.0badf00d.tmp").write_bytes(b"half")
            raise ExecutorFailed("lost the cluster")
            yield

    with pytest.raises(ConvcliError, match="^lost the cluster$"):
        list(run(plan([tmp_path / "in"], out), SHARPEN, executor=ClusterGone()))
    assert listing(out) == []


class TerminatedWhileReported:
    """A result whose pickling (the worker sending it back) brings SIGTERM."""

    def __reduce__(self):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler runs at once; never reached
        return (int, (0,))


def _reported_under_sigterm(context: object, x: int) -> TerminatedWhileReported:
    return TerminatedWhileReported()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("method", START_METHODS)
def test_a_worker_terminated_between_jobs_leaves_instead_of_waiting_for_more(method):
    # SIGTERM as the pool sends a result back: its worker loop would catch the
    # SystemExit and send *that* as the result, then wait for work forever (a
    # pool that terminates it then hangs joining it). The worker must just go.
    executor = ProcessExecutor(1, method)
    lost = list(executor.map_unordered(_reported_under_sigterm, None, [7], _as_lost))
    assert lost == [("lost", 7)]


def _as_lost(item: int, exc: WorkerLost) -> tuple[str, int]:
    assert "died" in str(exc)
    return ("lost", item)
