"""Getting a Dask cluster to run on: a scheduler's address, or a throw-away local one.

:func:`open_cluster` connects (or starts a ``LocalCluster``) and yields a
:class:`~.dask.DaskExecutor`; leaving it closes the client, and stops the
cluster only if it started one. Connecting is bounded by ``timeout``
*here*: distributed bounds the TCP connect, but its handshake waits
forever for a listener that never answers, so the client is built in a
thread that is abandoned at the deadline.

``distributed`` is imported only when :func:`open_cluster` is called.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .base import ExecutorFailed
from .transfer import TRANSFERS

if TYPE_CHECKING:
    from distributed import Client, LocalCluster

    from .dask import DaskExecutor

__all__ = ["open_cluster"]


@contextlib.contextmanager
def open_cluster(
    address: str | None = None,
    *,
    local: int | None = None,
    timeout: float = 10,
    io: str = "shared",
    quiet: bool = True,
) -> Iterator[DaskExecutor]:
    """A :class:`DaskExecutor` on the cluster of the scheduler at ``address`` (or of a
    ``LocalCluster`` of ``local`` worker processes started here), closed on leaving.

    Raises :class:`ExecutorFailed` naming the address when the scheduler
    cannot be reached within ``timeout`` seconds, or has no worker by then.
    ``quiet`` keeps distributed's own log lines off stderr (convcli reports).
    """
    import dask

    from .dask import DaskExecutor

    if quiet:
        _silence()
    transfer = TRANSFERS[io]()
    cluster: LocalCluster | None = None
    if local:
        cluster = _local_cluster(local, quiet=quiet)
        name, address = f"local:{local}", str(cluster.scheduler_address)
    elif address is None:
        raise ValueError("open_cluster needs an address or local workers")
    else:
        name = address
    try:
        client = _connect(address, timeout)
        try:
            try:
                client.wait_for_workers(1, timeout=timeout)
            except TimeoutError:
                raise ExecutorFailed(
                    f"the Dask scheduler has no workers (start some: dask worker {address})",
                    address,
                ) from None
            stop = None if cluster is None else _stopper(cluster, timeout)
            # Under --io client every task carries its inputs' bytes, by design:
            # distributed's warning about large graphs is not for us to print.
            with dask.config.set({"distributed.admin.large-graph-warning-threshold": "4GiB"}):
                yield DaskExecutor(client, transfer=transfer, address=name, on_interrupt=stop)
        finally:
            with contextlib.suppress(Exception):
                client.close(timeout=timeout)
    finally:
        if cluster is not None:
            with contextlib.suppress(Exception):
                cluster.close(timeout=timeout)


def _silence() -> None:
    """Keep distributed's and tornado's log lines (reconnects, tracebacks) off stderr.

    Its logging config gives some loggers levels of their own
    (``distributed.client``...), so the parent's level is not enough.
    """
    import distributed  # noqa: F401  (sets its loggers up)

    # tornado logs a callback's "Connection reset by peer" with its traceback
    # when the scheduler dies under a running client; Dask's logging config
    # gives tornado.application a level of its own too.
    for name in ["tornado", *logging.root.manager.loggerDict]:
        if name.split(".")[0] in ("distributed", "tornado"):
            logging.getLogger(name).setLevel(logging.CRITICAL + 1)


def _why(address: str, timeout: float) -> str:
    """Why a scheduler could not be reached, in a user's words (one more TCP connect)."""
    import socket

    from distributed.comm.addressing import parse_address, parse_host_port

    scheme, location = parse_address(address)
    if scheme not in ("tcp", "tls"):
        return "no answer"
    host, port = parse_host_port(location)
    try:
        with socket.create_connection((host, port), timeout=min(timeout, 0.5)):
            return "it accepts connections but does not answer as a Dask scheduler"
    except ConnectionRefusedError:
        return "connection refused"
    except OSError as exc:  # no route, unknown host, timed out...
        return exc.strerror or str(exc) or type(exc).__name__


def _stopper(cluster: LocalCluster, timeout: float) -> Any:
    def stop() -> None:  # interrupted: the workers go now, mid-task or not
        with contextlib.suppress(Exception):
            cluster.close(timeout=timeout)

    return stop


def _local_cluster(workers: int, *, quiet: bool) -> LocalCluster:
    """``workers`` processes of one thread each, every server on 127.0.0.1 only."""
    from distributed import LocalCluster

    return LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
        worker_dashboard_address=None,
        silence_logs=logging.CRITICAL if quiet else logging.WARNING,
    )


def _connect(address: str, timeout: float) -> Client:
    """A client of ``address``, or :class:`ExecutorFailed` after ``timeout`` seconds."""
    from distributed import Client

    box: dict[str, Any] = {}

    def attempt() -> None:
        try:
            box["client"] = Client(address, timeout=timeout, set_as_default=False)
        except BaseException as exc:  # handed to the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=attempt, name="convcli-dask-connect", daemon=True)
    thread.start()
    thread.join(timeout)  # a listener that never answers: the thread is left behind
    if thread.is_alive() or "error" in box:
        raise ExecutorFailed(
            f"cannot reach the Dask scheduler ({_why(address, timeout)}; gave up after "
            f"{timeout:g} s)",
            address,
        ) from box.get("error")
    client: Client = box["client"]
    return client
