"""The executor protocol: how :func:`convcli.batch.run` gets jobs run, wherever.

An executor maps ``fn(context, item)`` over ``items`` and yields the results
as they finish, in any order. The runner knows nothing else about it: a
process pool, this process or a cluster plug in here without touching
``run``. What each must do:

- ship ``context`` (the run's options) once per worker where it can, and
  send items as they are (paths, never pixels);
- pull ``items`` lazily, keeping a bounded window in flight, so memory stays
  bounded whatever the batch size and the runner can stop handing out items;
- when ``items`` runs dry, drain what is in flight and stop (that is how
  ``--fail-fast`` stops it);
- when the worker running an item dies (a crash, the OOM killer, SIGKILL),
  yield ``on_lost(item, WorkerLost(...))`` for it and go on;
- when it cannot go on at all, raise :class:`ExecutorFailed`;
- on ``KeyboardInterrupt`` or when the iterator is closed, cancel what is
  outstanding and stop its workers before returning.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Protocol, TypeVar

from ...errors import ConvcliError

__all__ = ["C", "Executor", "ExecutorFailed", "R", "T", "WorkerLost"]

C = TypeVar("C")  # the context, the same for every item (the run's options)
T = TypeVar("T")  # an item (a job)
R = TypeVar("R")  # what ``fn`` returns for one item (a result)


class WorkerLost(Exception):
    """The worker running this item died (a crash, out of memory, SIGKILL).

    Its message says so in the user's words, for the item's failed result.
    """


class ExecutorFailed(ConvcliError):
    """The executor cannot go on (workers keep dying, the cluster is gone)."""


class Executor(Protocol):
    """Runs ``fn(context, item)`` for each item; see the module docstring."""

    #: Engine threads each task may use; None: the engine decides by image size.
    threads_per_task: int | None

    def map_unordered(
        self,
        fn: Callable[[C, T], R],
        context: C,
        items: Iterable[T],
        on_lost: Callable[[T, WorkerLost], R],
    ) -> Iterator[R]: ...
