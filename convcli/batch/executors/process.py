"""The executor that runs jobs in worker processes: all of convcli's pool and signal code.

Jobs travel to workers as paths; the options travel once per worker (as the
pool's initializer arguments), not once per job. At most two jobs per
worker are in flight, so memory stays bounded whatever the batch size.

Workers are forked from this process where that is safe (Linux, no other
Python thread: see :func:`_start_method`): they start in milliseconds with
everything already imported. Otherwise (a Rich progress bar's refresh
thread, macOS, Windows) they come from a forkserver (or are spawned), which
first imports NumPy, Pillow and convcli again: about 0.25 s before the first
job starts and 0.3-0.6 s more CPU per run on a 2-core machine
(benchmarks/bench_jobs.py: sixty 1600x1200 photos on 2 workers ran 1.71x
faster than ``-j 1`` that way, 1.83x forked, in the same run).

Signals, which are the hard part:

- Workers start with SIGINT blocked and then ignore it. On Ctrl-C (which a
  terminal sends to the whole process group) the parent alone gets
  ``KeyboardInterrupt``; it stops the workers with SIGTERM and re-raises.
- A worker in a job turns SIGTERM and SIGHUP into ``SystemExit``, so the
  job unwinds (the writer deletes its temporary file), and then leaves with
  ``os._exit(128 + signum)``: the pool's worker loop would otherwise report
  the ``SystemExit`` as the job's outcome and take the next job. Outside a
  job (idle, or sending a result back) it leaves at once. (A closed terminal
  sends SIGHUP, and ``timeout`` SIGTERM, to every process of the group,
  workers included.)
- The parent's own SIGTERM and SIGHUP (the CLI makes them raise
  :class:`~convcli.errors.Terminated`, a ``KeyboardInterrupt``) take the
  Ctrl-C path: workers stopped, pool shut down, so neither they nor the
  forkserver outlive the run. While processes may be starting, those signals
  are held back like Ctrl-C (see :func:`_signals_held`).
- A worker that dies (a crash in a decoder, the OOM killer) breaks the whole
  pool. The pool is restarted and the jobs that were in flight are retried
  one at a time, so only the culprit is lost; when they keep dying (workers
  that cannot start, say) :class:`ExecutorFailed` is raised.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from types import FrameType
from typing import TYPE_CHECKING, Any

from .base import C, ExecutorFailed, R, T, WorkerLost

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext

__all__ = ["ProcessExecutor"]

#: What a job whose worker died fails with.
LOST = "the worker process died (out of memory?) while on this file"


class ProcessExecutor:
    """``workers`` processes; at most ``2 * workers`` jobs submitted at a time."""

    max_crashes = 3  # suspects in a row that kill a worker, one at a time: not chance

    def __init__(self, workers: int, start_method: str | None = None) -> None:
        """``start_method``: ``fork``, ``forkserver`` or ``spawn``; None chooses
        for each pool it starts (:func:`_start_method`)."""
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.workers = workers
        self.start_method = start_method
        self._method = ""  # the current pool's, set by _pool
        # Every worker runs one job at a time, and the workers share the CPUs.
        self.threads_per_task: int | None = 1

    def map_unordered(
        self,
        fn: Callable[[C, T], R],
        context: C,
        items: Iterable[T],
        on_lost: Callable[[T, WorkerLost], R],
    ) -> Iterator[R]:
        items = iter(items)
        window = 2 * self.workers
        pool = self._pool(fn, context)
        pending: dict[Future[R], T] = {}
        suspects: deque[T] = deque()  # in flight when a worker died
        crashes = 0
        exhausted = False
        try:
            while True:
                if suspects:  # after a crash, one at a time: only the culprit fails
                    item = suspects.popleft()
                    try:
                        future: Future[R] = self._submit(pool, item)
                        value = future.result()
                        crashes = 0
                    except BrokenProcessPool as exc:
                        crashes += 1
                        if crashes >= self.max_crashes:
                            raise ExecutorFailed(
                                f"worker processes died on {crashes} jobs in a row, "
                                "even one at a time (try -j 1)"
                            ) from exc
                        lost = WorkerLost(LOST)
                        lost.__cause__ = exc
                        value = on_lost(item, lost)
                        pool = self._restart(pool, fn, context)
                    yield value
                    continue
                while not exhausted and len(pending) < window:
                    try:
                        item = next(items)
                    except StopIteration:
                        exhausted = True
                        break
                    pending[self._submit(pool, item)] = item
                if not pending:
                    break
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                values = []
                for future in done:
                    item = pending.pop(future)
                    try:
                        values.append(future.result())
                        crashes = 0
                    except BrokenProcessPool:
                        suspects.append(item)
                if suspects:  # the pool is gone, and every job still in it
                    suspects.extend(pending.values())
                    pending.clear()
                    pool = self._restart(pool, fn, context)
                yield from values
        except BaseException:  # Ctrl-C, the caller closing us, or ExecutorFailed
            _stop(pool)
            raise
        pool.shutdown(wait=True)

    def _restart(
        self, pool: ProcessPoolExecutor, fn: Callable[[C, T], R], context: C
    ) -> ProcessPoolExecutor:
        pool.shutdown(wait=True)
        return self._pool(fn, context)

    def _pool(self, fn: Callable[[C, T], R], context: C) -> ProcessPoolExecutor:
        self._method = self.start_method or _start_method()
        with _signals_held():  # its queues may start the resource tracker
            return ProcessPoolExecutor(
                self.workers,
                mp_context=_mp_context(self._method),
                initializer=_init_worker,
                initargs=(fn, context),
            )

    def _submit(self, pool: ProcessPoolExecutor, item: Any) -> Future[Any]:
        """``pool.submit(_call, item)``, which may start the workers (see
        :func:`_signals_held`; a forking pool forks them all on its first submit)."""
        with _signals_held(), _forking_quietly(self._method == "fork"):
            return pool.submit(_call, item)


# --- in the worker ------------------------------------------------------------------

_task: tuple[Callable[[Any, Any], Any], Any] | None = None  # (fn, context), set per worker
_busy = False  # inside fn: SIGTERM unwinds the job before the worker leaves

#: The signals that end a worker's job cleanly (SIGHUP: a closed terminal).
_ENDING = tuple(getattr(signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n))


def _init_worker(fn: Callable[[Any, Any], Any], context: Any) -> None:
    global _task
    _task = (fn, context)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides
    # Started with SIGTERM/SIGHUP blocked (see _signals_held): one that came
    # meanwhile ends this worker now, outside any job, at once and in silence.
    for signum in _ENDING:
        signal.signal(signum, _on_sigterm)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, set(_ENDING))


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    """In a job: unwind it (the writer deletes its temporary file), see :func:`_call`.

    Anywhere else, leave at once, as SIGTERM's default would: a ``SystemExit``
    raised while the pool's worker loop sends a result back is caught there
    and sent as the result, and the worker then waits for work forever (the
    pool, joining it, hangs).
    """
    if _busy:
        raise SystemExit(128 + signum)
    os._exit(128 + signum)


def _call(item: Any) -> Any:
    """Run this worker's ``fn(context, item)``; die for real on SIGTERM."""
    global _busy
    assert _task is not None, "_init_worker runs first in every worker"
    fn, context = _task
    try:
        _busy = True
        try:
            return fn(context, item)
        finally:
            _busy = False
    except SystemExit as stop:  # SIGTERM/SIGHUP, after the job unwound: leave, take no next job
        os._exit(stop.code if isinstance(stop.code, int) else 143)


# --- in the parent ------------------------------------------------------------------


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold Ctrl-C, SIGTERM and SIGHUP back while processes may be started.

    Processes inherit the signal mask, so the workers (and, when not
    forking, the forkserver and the resource tracker) all start with these
    blocked: a Ctrl-C from the terminal, or the SIGHUP of a closed terminal,
    or ``timeout``'s SIGTERM, each sent to the whole process group, never
    reaches one half-started (with a traceback), and the parent alone
    decides. The forkserver and the tracker keep them blocked for good (they
    leave when the parent does; a tracker killed early would make Python
    print warnings about "leaked" semaphores); each worker unblocks them in
    :func:`_init_worker`. In the
    parent a signal that arrives meanwhile is delivered once the block ends,
    so it never interrupts the pool between starting a worker and
    registering it (an unregistered worker would outlive the run).
    """
    caught: list[int] = []
    installed = True
    try:
        previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    except ValueError:  # not the main thread, where Python never runs signal handlers
        installed, previous = False, None
    mask = None
    if hasattr(signal, "pthread_sigmask"):
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, *_ENDING})
    try:
        yield
    finally:
        if installed:
            signal.signal(
                signal.SIGINT, signal.default_int_handler if previous is None else previous
            )
        if mask is not None:  # a pending SIGTERM/SIGHUP runs its handler now (Terminated)
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        if caught:
            raise KeyboardInterrupt


def _start_method() -> str:
    """``fork`` where it is safe, else ``forkserver`` (or ``spawn``).

    Forking copies only the calling thread, so a lock another thread held at
    that moment stays held in the worker for good: Rich's refresh thread
    holding the console's lock (or stderr's) would hang a worker that warns.
    So: fork only on Linux and only while this is the one Python thread (no
    progress bar, no Dask). The other OS thread a NumPy process has is
    OpenBLAS's pool, which stops itself around a fork (its own
    ``pthread_atfork`` handler, ``openblas_fork_handler``). On macOS system
    libraries are not fork-safe (CPython's default there is spawn).
    """
    import multiprocessing
    import threading

    methods = multiprocessing.get_all_start_methods()
    if sys.platform.startswith("linux") and "fork" in methods and threading.active_count() == 1:
        return "fork"
    return "forkserver" if "forkserver" in methods else "spawn"


def _mp_context(method: str) -> BaseContext:
    import multiprocessing

    context = multiprocessing.get_context(method)
    if method == "forkserver":
        # Workers fork from a server that has imported these once.
        context.set_forkserver_preload(
            ["convcli.batch", "numpy", "PIL.Image", "PIL.PngImagePlugin"]
        )
    return context


@contextlib.contextmanager
def _forking_quietly(forking: bool) -> Iterator[None]:
    """Python 3.12+ warns (DeprecationWarning) on any fork while a second OS
    thread exists, which OpenBLAS's always is: :func:`_start_method` forks
    only with no other Python thread, so the warning would be noise on stderr."""
    if not forking:
        yield
        return
    with warnings.catch_warnings():  # safe: this is the process's one Python thread
        warnings.filterwarnings(
            "ignore",
            message=r".*use of fork\(\) may lead to deadlocks",
            category=DeprecationWarning,
        )
        yield


def _stop(pool: ProcessPoolExecutor) -> None:
    """Stop the workers now, without waiting for their jobs."""
    previous = None
    with contextlib.suppress(ValueError):  # not the main thread: cannot mask SIGINT
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C waits
    try:
        processes = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in processes:
            with contextlib.suppress(OSError):
                proc.terminate()
        for proc in processes:
            proc.join(timeout=10)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
