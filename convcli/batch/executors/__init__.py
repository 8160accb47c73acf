"""Where jobs run: the :class:`Executor` protocol and the executors convcli ships.

``local(workers)`` picks the one ``-j N`` means: this process for 1, a
process pool otherwise. Other executors (a cluster, say) implement the
protocol in :mod:`.base` and are handed to ``run(executor=...)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...cpus import usable_cpus
from .base import Executor, ExecutorFailed, WorkerLost
from .serial import SerialExecutor

if TYPE_CHECKING:
    from .process import ProcessExecutor

__all__ = [
    "Executor",
    "ExecutorFailed",
    "ProcessExecutor",
    "SerialExecutor",
    "WorkerLost",
    "default_workers",
    "local",
]


#: Starting a pool costs about 20 ms where workers are forked (Linux, no
#: progress bar) and about 0.25 s from a forkserver (its imports), and every
#: job then costs ~1 ms more CPU in a worker than in-process: below this much
#: estimated in-process work, -j 1 is as fast or faster (issue 13: never more
#: than 10% slower by default; see benchmarks/bench_jobs.py). Measured on 2
#: cores: 150 small JPEGs (~0.3 s) ran 10-20% slower on 2 workers, 250
#: (~0.5 s) as fast, sixty 1600x1200 photos (~3.7 s) 1.8x faster.
POOL_PAYS_AFTER = 0.5  # seconds of estimated work


def default_workers(jobs: int, seconds: float | None = None) -> int:
    """Worker processes for ``jobs`` jobs estimated at ``seconds`` of work in-process.

    With an estimate (:func:`convcli.batch.plan.estimate_seconds`): one (in
    this process) below :data:`POOL_PAYS_AFTER`, else every usable CPU (at
    most one per job). Without one: the usable CPUs, but at most one per 4 jobs.

    >>> default_workers(50, 0.2), default_workers(1, 9.0)
    (1, 1)
    """
    if seconds is not None:
        return 1 if seconds < POOL_PAYS_AFTER else max(1, min(usable_cpus(), jobs))
    return max(1, min(usable_cpus(), jobs // 4))


def local(workers: int) -> Executor:
    """The executor for ``workers`` processes on this machine (1: this process)."""
    if workers == 1:
        return SerialExecutor()
    from .process import ProcessExecutor

    return ProcessExecutor(workers)


def __getattr__(name: str) -> Any:
    """``ProcessExecutor`` on first use: the pool module, multiprocessing and
    concurrent.futures cost ~15 ms of start-up that a one-image run never needs."""
    if name == "ProcessExecutor":
        from .process import ProcessExecutor

        return ProcessExecutor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
