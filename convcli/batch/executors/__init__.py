"""Where jobs run: the :class:`Executor` protocol and the executors convcli ships.

``local(workers)`` picks the one ``-j N`` means: this process for 1, a
process pool otherwise. Other executors (a cluster, say) implement the
protocol in :mod:`.base` and are handed to ``run(executor=...)``.
"""

from __future__ import annotations

from ...cpus import usable_cpus
from .base import Executor, ExecutorFailed, WorkerLost
from .process import ProcessExecutor
from .serial import SerialExecutor

__all__ = [
    "Executor",
    "ExecutorFailed",
    "ProcessExecutor",
    "SerialExecutor",
    "WorkerLost",
    "default_workers",
    "local",
]


def default_workers(jobs: int) -> int:
    """The usable CPUs, but at most one per 4 jobs: starting a worker costs
    about as much as filtering a few photos, so a small batch runs in-process."""
    return max(1, min(usable_cpus(), jobs // 4))


def local(workers: int) -> Executor:
    """The executor for ``workers`` processes on this machine (1: this process)."""
    return ProcessExecutor(workers) if workers > 1 else SerialExecutor()
