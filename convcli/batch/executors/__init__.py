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


def default_workers(jobs: int) -> int:
    """The usable CPUs, but at most one per 4 jobs: starting a worker costs
    about as much as filtering a few photos, so a small batch runs in-process."""
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
