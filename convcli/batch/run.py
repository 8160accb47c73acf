"""Running a plan: :func:`run` hands its jobs to an executor and yields the results.

The runner owns what is the same whatever runs the jobs: settled results
first, the destination folders, handing jobs out lazily (and stopping for
``--fail-fast``), and cleaning up after jobs that never reported back (lost
with their worker, or interrupted). It knows the executor only through the
protocol in :mod:`.executors.base`, so a new executor plugs in without
touching this module.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

from ..errors import ConvcliError, OutputError
from ..imageio.atomic import sweep_temporaries
from ..imageio.targets import compare_path
from ..options import Options
from .executors import Executor, ExecutorFailed, WorkerLost, default_workers, local
from .jobs import Result, run_job
from .plan import Job, Plan, estimate_seconds

__all__ = ["run"]


def run(
    plan: Plan,
    options: Options,
    *,
    jobs: int | None = 1,
    fail_fast: bool = False,
    executor: Executor | None = None,
    on_start: Callable[[Job], None] | None = None,
) -> Iterator[Result]:
    """Yield the plan's settled results, then one result per job as it finishes.

    ``jobs``: worker processes (``None``: :func:`default_workers` from the
    plan's :func:`estimate_seconds`); 1 runs in
    this process; ``executor`` overrides both. ``fail_fast``: after the first
    failure no new job starts (those in flight finish). ``on_start(job)`` is
    called as each job is handed out. The jobs see ``options`` with
    ``threads`` set to the executor's ``threads_per_task`` (when it has one).
    Interrupted (``KeyboardInterrupt`` while waiting), it stops the executor,
    yields an ``ok`` result (without sizes) for each job whose output was
    finished but not reported, deletes the temporary files of the others and
    re-raises. Raises :class:`~.executors.ExecutorFailed` (a
    :class:`ConvcliError`) if the executor cannot go on.
    """
    stop = False
    for result in plan.settled:
        yield result
        if fail_fast and result.status == "failed":
            return
    if not plan.jobs:
        return
    if plan.folder is not None:
        try:
            plan.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            error = OutputError(f"cannot create folder: {exc.strerror or exc}", plan.folder)
            for job in plan.jobs:
                yield Result.of_job(job, "failed", error)
            return
    if executor is None:
        workers = (
            default_workers(len(plan.jobs), estimate_seconds(plan.jobs))
            if jobs is None
            else min(jobs, len(plan.jobs))
        )
        executor = local(workers)
    if executor.threads_per_task is not None:
        options = replace(options, threads=executor.threads_per_task)

    in_flight: dict[Path, Job] = {}

    def handed_out() -> Iterator[Job]:
        made: set[Path] = set()
        for job in plan.jobs:
            if stop:
                return
            in_flight[job.target] = job
            folder = job.target.parent
            if plan.folder is not None and folder not in made:  # -r: mirrored sub-folders
                with contextlib.suppress(OSError):  # the writer reports it properly
                    folder.mkdir(parents=True, exist_ok=True)
                made.add(folder)
            if on_start is not None:
                on_start(job)
            yield job

    started = time.time()
    results = iter(executor.map_unordered(run_job, options, handed_out(), _lost))
    try:
        for result in results:
            if result.target is not None:
                in_flight.pop(result.target, None)
            yield result
            if fail_fast and result.status == "failed":
                stop = True
    except (KeyboardInterrupt, ExecutorFailed):  # a lost cluster stops like an interrupt
        _close(results)  # workers stopped: now see which of their jobs got done
        for job in list(in_flight.values()):
            if _written_since(job, started, options):
                del in_flight[job.target]
                yield Result(job.source, job.target, "ok", index=job.index)
        raise
    finally:  # interrupted or abandoned: let the executor stop its workers now
        _close(results)
        for job in in_flight.values():
            _sweep_temporaries(job)


def _lost(job: Job, lost: WorkerLost) -> Result:
    """The failed result of a job whose worker died: it could not clean up after itself."""
    _sweep_temporaries(job)
    error = ConvcliError(str(lost), job.source)
    error.__cause__ = lost
    return Result.of_job(job, "failed", error)


def _close(results: Iterator[Result]) -> None:
    close = getattr(results, "close", None)
    if close is not None:
        close()


def _written_since(job: Job, started: float, options: Options) -> bool:
    """Did this run write the job's output(s), though its result never came back?

    The writer renames complete files into place, so an output that exists
    is whole; it is ours if the plan saw no file there or it is newer than the
    run's start (``--overwrite``)."""
    paths = [*job.outputs, *([compare_path(job.target)] if options.write.compare else [])]
    try:
        return all(
            p.is_file() and (not options.write.overwrite or p.stat().st_mtime >= started)
            for p in paths
        )
    except OSError:
        return False


def _sweep_temporaries(job: Job) -> None:
    """Delete the writer's temporary files for this job's outputs, left only if
    the process writing them was killed or hit between creating one and guarding it."""
    for target in (*job.outputs, compare_path(job.target)):
        sweep_temporaries(target)
