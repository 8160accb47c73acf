"""Real Dask clusters for the tests, on 127.0.0.1 only, always stopped, every wait bounded.

- :class:`DaskProcesses`: a ``dask scheduler`` and ``dask worker`` processes
  started as subprocesses (``python -m dask ...``), the way a user starts a
  cluster. Random free ports (``--port 0``, the address read back from the
  scheduler file); ``--dashboard-address 127.0.0.1:0`` because
  ``--no-dashboard`` still serves HTTP on 0.0.0.0; ``TMPDIR`` pointed at the
  test's folder, where Dask puts its ``dask-scratch-space``. Workers run
  without a nanny, so a killed worker stays dead.
- :func:`silent_listener`: an address that accepts TCP connections and never
  says a word (distributed's handshake would wait for it forever).
- :func:`unreachable_address`: a port on 127.0.0.1 nobody listens on.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

START_TIMEOUT = 30.0  # seconds for a scheduler or worker to come up (a busy CI machine)


def wait_until(condition: Any, timeout: float, what: str, interval: float = 0.05) -> Any:
    """Poll ``condition()`` until it is truthy, or fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


def unreachable_address() -> str:
    """``tcp://127.0.0.1:PORT`` where nothing listens (a port just released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"tcp://127.0.0.1:{port}"


@contextlib.contextmanager
def silent_listener() -> Iterator[str]:
    """An address whose listener completes TCP handshakes (the kernel does) and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"tcp://127.0.0.1:{listener.getsockname()[1]}"


class DaskProcesses:
    """A scheduler and ``workers`` single-threaded workers, as real processes."""

    def __init__(self, folder: Path, workers: int = 2) -> None:
        self.folder = folder.resolve()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.env = {**os.environ, "TMPDIR": str(folder)}
        self.scheduler: subprocess.Popen[bytes] | None = None
        self.workers: dict[str, subprocess.Popen[bytes]] = {}  # name -> process
        self.address = ""
        self.count = workers
        self._client: Any = None

    def __enter__(self) -> DaskProcesses:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _spawn(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = open(self.folder / f"{name}.log", "wb")  # noqa: SIM115 (closed with the process)
        try:
            return subprocess.Popen(
                [sys.executable, "-m", "dask", *args],
                env=self.env,
                cwd=self.folder,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C sent to the test's group spares it
            )
        finally:
            log.close()

    def start(self) -> None:
        file = self.folder / "scheduler.json"
        self.scheduler = self._spawn(
            "scheduler",
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--dashboard-address",
            "127.0.0.1:0",
            "--scheduler-file",
            str(file),
        )
        wait_until(lambda: self._address(file), START_TIMEOUT, "the scheduler file")
        for index in range(self.count):
            self.add_worker(f"worker-{index}")
        self.wait_for_workers(self.count)

    def _address(self, file: Path) -> str:
        assert self.scheduler is not None
        if self.scheduler.poll() is not None:
            raise AssertionError(f"dask scheduler exited:\n{self.log('scheduler')}")
        try:
            self.address = json.loads(file.read_text())["address"]
        except (OSError, ValueError, KeyError):
            return ""
        return self.address

    def add_worker(self, name: str) -> None:
        self.workers[name] = self._spawn(
            name,
            "worker",
            self.address,
            "--name",
            name,
            "--nthreads",
            "1",
            "--no-nanny",
            "--host",
            "127.0.0.1",
            "--dashboard-address",
            "127.0.0.1:0",
            "--death-timeout",
            "60",
        )

    def log(self, name: str) -> str:
        path = self.folder / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    @property
    def client(self) -> Any:
        """The test's own client of this cluster (to look, and to find a busy worker)."""
        if self._client is None:
            from distributed import Client

            self._client = Client(self.address, timeout=START_TIMEOUT, set_as_default=False)
        return self._client

    def wait_for_workers(self, count: int) -> None:
        self.client.wait_for_workers(count, timeout=START_TIMEOUT)

    def busy_worker(self, timeout: float = 30) -> str:
        """The name of a worker that has a task (waits for one)."""

        def find() -> str:
            info = self.client.scheduler_info()["workers"]
            for address, keys in self.client.processing().items():
                if keys and address in info:
                    return str(info[address]["name"])
            return ""

        return wait_until(find, timeout, "a worker with a task", interval=0.02)

    def kill_worker(self, name: str) -> None:
        process = self.workers[name]
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def kill_scheduler(self) -> None:
        assert self.scheduler is not None
        if self._client is not None:  # ours would wait to reconnect; nothing to say
            with contextlib.suppress(Exception):
                self._client.close(timeout=1)
            self._client = None
        self.scheduler.send_signal(signal.SIGKILL)
        self.scheduler.wait(timeout=10)

    def alive(self) -> bool:
        return self.scheduler is not None and self.scheduler.poll() is None

    def stop(self) -> None:
        """Stop everything started here, whatever state it is in.

        SIGTERM first (a worker closes cleanly); whatever still runs after a
        few seconds (a worker whose close hangs on a broken connection) is
        SIGKILLed.
        """
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._client.close(timeout=2)
            self._client = None
        processes = [*self.workers.values(), *([self.scheduler] if self.scheduler else [])]
        for process in processes:
            if process.poll() is None:
                with contextlib.suppress(OSError):
                    process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 3
        for process in processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
