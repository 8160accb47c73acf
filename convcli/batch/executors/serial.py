"""The executor that runs each job in this process, one after another (``-j 1``).

No worker can be lost: a crash here is the whole process's. The engine may
use its own threads (``threads_per_task`` None: it decides by image size).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from .base import C, R, T, WorkerLost

__all__ = ["SerialExecutor"]


class SerialExecutor:
    """One job after another, in this process."""

    threads_per_task: int | None = None

    def map_unordered(
        self,
        fn: Callable[[C, T], R],
        context: C,
        items: Iterable[T],
        on_lost: Callable[[T, WorkerLost], R],
    ) -> Iterator[R]:
        for item in items:
            yield fn(context, item)
