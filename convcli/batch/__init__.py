"""Plan, run, report: turning ``apply``'s arguments into written files.

1. :func:`plan` (:mod:`.plan`) maps inputs (files, folders, glob patterns) to
   jobs with output paths, with every check that needs no pixels done up
   front, so inputs that are missing, empty folders, non-images or existing
   outputs are settled as results before any work starts.
2. :func:`run` (:mod:`.run`) hands the jobs to an executor (:mod:`.executors`)
   that maps :func:`run_job` (:mod:`.jobs`: one job through the pipeline)
   over them and yields a :class:`Result` per job as it finishes; a bad file
   fails alone. Jobs travel as paths, never as pixels.
3. The caller reports. Progress leaves through the results (and an optional
   ``on_start`` callback), never a print.

Note that ``convcli.batch.plan`` and ``convcli.batch.run`` are the functions;
their modules are reached with ``importlib.import_module("convcli.batch.plan")``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..cpus import usable_cpus
from .executors import Executor, ExecutorFailed, SerialExecutor, WorkerLost, default_workers
from .jobs import Result, run_job
from .plan import DEFAULT_NAME, Job, Plan, PlanError, image_extensions, plan
from .run import run

if TYPE_CHECKING:
    from .executors.process import ProcessExecutor

__all__ = [
    "DEFAULT_NAME",
    "Executor",
    "ExecutorFailed",
    "Job",
    "Plan",
    "PlanError",
    "ProcessExecutor",
    "Result",
    "SerialExecutor",
    "WorkerLost",
    "default_workers",
    "image_extensions",
    "plan",
    "run",
    "run_job",
    "usable_cpus",
]


def __getattr__(name: str) -> Any:
    """``ProcessExecutor`` imported on first use (see :mod:`.executors`)."""
    if name == "ProcessExecutor":
        from .executors.process import ProcessExecutor

        return ProcessExecutor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
