"""Running a batch on a Dask cluster: the executor behind ``--scheduler``.

Dask's distributed scheduler does the scheduling; this module only feeds it,
within the executor protocol (:mod:`.base`):

- **Bounded.** At most about two tasks per worker thread are in flight: a
  window of futures refilled through ``distributed.as_completed``, never a
  future per file up front, so the client's memory stays flat whatever the
  batch size. Results are small (no pixels travel back under ``--io
  shared``) and are fetched on the client's event loop as tasks finish.
- **Tasks worth their overhead.** A Dask task costs a few milliseconds of
  scheduling whatever it does, more than filtering a thumbnail. A task
  runs one job, or several consecutive ones when the jobs come back fast:
  as many as fill about :data:`TASK_SECONDS` of work, measured on the
  workers as the run goes. Photos stay one per task.
- **Sent once.** The options (kernels included) are scattered to the workers
  once per run, not sent with each task; tasks name them by their future.
  Data held by workers dies with them: if every copy is lost, the options
  are scattered again and the affected tasks resubmitted.
- **Workers die.** The scheduler itself runs again, elsewhere, the tasks of
  a worker that died (up to its ``allowed-failures``, 3 by default). A task
  of several jobs that keeps killing workers is split, so that only the
  culprit fails (:class:`~.base.WorkerLost`). Every task says when it starts
  (an event on a topic of this run), so the executor knows which jobs ran
  more than once: :attr:`DaskExecutor.retried`.
- **The scheduler goes.** When the client loses its scheduler, Dask cancels
  every future at once; the executor raises :class:`~.base.ExecutorFailed`,
  which the runner treats like an interrupt that exits 1.
- **Interrupted.** Ctrl-C or closing the iterator cancels the outstanding
  futures; the cluster stays up (a local one is stopped by ``on_interrupt``).
- Where the bytes go (``--io``) is a :mod:`.transfer`'s business.

The workers must have convcli (and its ``dask`` extra) installed: tasks
refer to convcli's functions by name. This module imports ``distributed``,
so it is imported only when a scheduler is asked for (see :mod:`.cluster`).
"""

from __future__ import annotations

import contextlib
import itertools
import math
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from distributed import Client, as_completed, get_worker
from distributed.client import Future, FutureCancelledError
from distributed.scheduler import KilledWorker

from .base import C, ExecutorFailed, R, T, WorkerLost
from .transfer import Ready, SharedFiles, Transfer

__all__ = ["TASK_SECONDS", "DaskExecutor"]

LOST = "the Dask worker running this file died {n} times (killed, or out of memory?)"
RESENDS = 3  # a task cancelled under us (its options lost) is resubmitted this often
TASK_SECONDS = 0.1  # the work one task should hold: many times Dask's cost per task
MOST_PER_TASK = 64


@dataclass
class _Flight:
    """A submitted task: its future, the jobs in it and their payloads."""

    future: Future
    items: list[Any]
    payloads: list[Any]
    sends: int  # 1, or more after its options were lost and it was sent again
    again: bool = False  # its jobs ran before, on a worker that died


class DaskExecutor:
    """Runs jobs as tasks on the cluster ``client`` is connected to.

    ``transfer`` decides where the bytes go (:class:`~.transfer.SharedFiles`
    by default). ``per_thread`` tasks are kept in flight per worker thread.
    ``on_interrupt`` is called when a run is interrupted, after cancelling:
    a throw-away local cluster is stopped there, before the runner sweeps
    the temporary files its workers may leave. After a run, :attr:`retried`
    counts the items that ran more than once because a worker died.
    """

    def __init__(
        self,
        client: Client,
        *,
        transfer: Transfer | None = None,
        per_thread: int = 2,
        address: str | None = None,
        on_interrupt: Callable[[], None] | None = None,
    ) -> None:
        self.client = client
        self.transfer: Transfer = transfer if transfer is not None else SharedFiles()
        self.per_thread = per_thread
        self.address = address or str(getattr(client.scheduler, "address", "the scheduler"))
        self.on_interrupt = on_interrupt
        # Each Dask worker thread runs one task at a time: one engine thread
        # per task keeps a worker within the threads it was started with.
        self.threads_per_task: int | None = 1
        self.retried = 0

    def map_unordered(
        self,
        fn: Callable[[C, T], R],
        context: C,
        items: Iterable[T],
        on_lost: Callable[[T, WorkerLost], R],
    ) -> Iterator[R]:
        client = self.client
        # The transfer knows convcli's jobs and results; to this loop they are opaque.
        transfer: Any = self.transfer
        run = f"convcli-{uuid.uuid4().hex[:12]}"
        starts: Counter[str] = Counter()  # task key -> how often a worker started it
        lock = threading.Lock()

        def started(event: tuple[float, Any]) -> None:  # on the client's event loop
            with lock:
                starts[str(event[1])] += 1

        client.subscribe_topic(run, started)
        shared = self._scatter(context)
        pending: dict[str, _Flight] = {}
        numbers = itertools.count()
        # with_results: each result is fetched on the client's event loop as its
        # task finishes, overlapping with the next, not one round trip at a time here.
        flow = as_completed(loop=client.loop, with_results=True, raise_errors=False)
        source = iter(items)
        exhausted = False
        window, checked = self._window(), time.monotonic()
        per_task = 1  # jobs per task, from how long they take on the workers

        def submit(jobs: list[Any], payloads: list[Any], sends: int, again: bool = False) -> None:
            key = f"{run}-{next(numbers)}"
            future = client.submit(
                _task, fn, transfer, run, shared, payloads, key=key, pure=False, retries=0
            )
            pending[key] = _Flight(future, jobs, payloads, sends, again)
            flow.add(future)

        try:
            while True:
                if time.monotonic() - checked > 2:  # workers come and go
                    self._check_connected()
                    window, checked = self._window(), time.monotonic()
                while not exhausted and len(pending) < window:
                    chunk: list[Any] = []
                    payloads: list[Any] = []
                    while len(chunk) < per_task:
                        item = next(source, _END)
                        if item is _END:
                            exhausted = True
                            break
                        payload = transfer.outbound(context, item)
                        if isinstance(payload, Ready):  # nothing to send (an unreadable input)
                            ready: Any = payload.result
                            yield ready
                            continue
                        chunk.append(item)
                        payloads.append(payload)
                    if chunk:
                        submit(chunk, payloads, 1)
                if not pending:
                    break
                future, reply = next(flow)
                flight = pending.pop(future.key, None)
                if flight is None:
                    continue
                with lock:
                    again = starts.pop(future.key, 0) > 1 or flight.again
                status = future.status
                future.release()
                if status == "finished":
                    replies, seconds = reply
                    per_task = _per_task(seconds / len(replies), per_task)
                    self.retried += len(replies) if again else 0
                    for item, answer in zip(flight.items, replies, strict=True):
                        yield transfer.inbound(context, item, answer, again)
                elif status == "error" and isinstance(reply, KilledWorker):
                    if len(flight.items) > 1:  # one of them kills workers: find which
                        for item, payload in zip(flight.items, flight.payloads, strict=True):
                            submit([item], [payload], flight.sends, again=True)
                        continue
                    lost = WorkerLost(LOST.format(n=reply.allowed_failures + 1))
                    yield on_lost(flight.items[0], lost)
                elif status == "error":
                    raise ExecutorFailed(
                        f"the Dask workers cannot run convcli's tasks: "
                        f"{type(reply).__name__}: {reply} "
                        "(is the same convcli, with its dask extra, installed on every worker?)",
                        self.address,
                    )
                else:  # cancelled: the scheduler is gone, or the options were lost
                    self._check_connected(future)
                    if flight.sends >= RESENDS:
                        for item in flight.items:
                            yield on_lost(item, WorkerLost(LOST.format(n=flight.sends)))
                        continue
                    if shared.status != "finished":
                        shared = self._scatter(context)
                    submit(flight.items, flight.payloads, flight.sends + 1, again=True)
        except BaseException:  # interrupted, abandoned, or the cluster is gone
            self._cancel([flight.future for flight in pending.values()])
            if self.on_interrupt is not None:
                self.on_interrupt()
            raise
        finally:
            if client.status == "running":
                with contextlib.suppress(Exception):
                    client.unsubscribe_topic(run)
                    shared.release()

    def _cancel(self, futures: list[Future]) -> None:
        """Cancel what is queued or running on the cluster (a running task may still finish)."""
        if futures and self.client.status == "running":
            with contextlib.suppress(Exception):  # the scheduler went meanwhile: nothing to cancel
                self.client.cancel(futures, force=True)

    def _scatter(self, context: Any) -> Future:
        """The options, sent once to every worker there is now."""
        try:
            [future] = self.client.scatter([context], broadcast=True, hash=False)
        except (OSError, TimeoutError) as exc:  # scheduler gone, or no worker left
            raise ExecutorFailed(
                f"cannot send the options to the Dask workers: {exc}", self.address
            ) from exc
        return future

    def _window(self) -> int:
        """About two tasks per worker thread (at least two in all)."""
        try:
            threads = sum(self.client.nthreads().values())
        except Exception as exc:
            raise ExecutorFailed(f"lost the Dask scheduler: {exc}", self.address) from exc
        return max(2, self.per_thread * threads)

    def _check_connected(self, cancelled: Future | None = None) -> None:
        """Raise :class:`ExecutorFailed` if the client has lost its scheduler
        (Dask then cancels every future, ``cancelled`` among them)."""
        lost = self.client.status != "running"
        if cancelled is not None and not lost:
            try:
                cancelled.result(timeout=0)
            except FutureCancelledError as exc:
                lost = exc.reason == "scheduler-connection-lost"
            except Exception:  # cancelled for another reason (its options were lost)
                pass
        if lost:
            raise ExecutorFailed("lost the connection to the Dask scheduler", self.address)


_END: Any = object()


def _per_task(seconds: float, current: int) -> int:
    """Jobs per task so that a task holds about :data:`TASK_SECONDS` of work."""
    wanted = TASK_SECONDS / seconds if seconds > 0 else MOST_PER_TASK
    return max(1, min(MOST_PER_TASK, math.ceil(wanted), 2 * current))


def _task(
    fn: Callable[[Any, Any], Any], transfer: Transfer, run: str, options: Any, payloads: list[Any]
) -> tuple[list[Any], float]:
    """Jobs on a worker: say the task started (for the retry count), run each there,
    and say how long they took (for the size of the next tasks)."""
    worker = get_worker()
    worker.log_event(run, worker.get_current_task())
    start = time.perf_counter()
    replies = [
        transfer.on_worker(fn, options, payload, worker.local_directory, worker.address)
        for payload in payloads
    ]
    return replies, time.perf_counter() - start
