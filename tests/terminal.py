"""Run the real ``convcli`` console script under a pseudo-terminal.

CliRunner and plain subprocesses never show convcli a terminal, so what
changes on one (Rich's progress bar, colour, what ``isatty`` decides) went
untested. :func:`run_in_terminal` starts the installed console script with
stderr (and, if asked, stdout) on the slave side of a pty of a fixed size,
reads the master side until the process ends (so a full pty buffer never
blocks it) and returns what each stream got.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import select
import shutil
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


def console_script() -> str:
    """The ``convcli`` entry point pip installed next to this interpreter."""
    script = Path(sys.executable).with_name("convcli")
    if script.exists():
        return str(script)
    found = shutil.which("convcli")
    assert found, "the convcli console script is not installed (pip install -e .)"
    return found


@dataclass
class Terminal:
    returncode: int
    pid: int  # also the session's id: what it left behind can be found
    stdout: bytes  # what went to stdout when it was not the terminal
    screen: str  # everything written to the terminal, escape sequences included


def _take_terminal() -> None:
    """In the child: a new session whose controlling terminal is the pty (on
    stderr), as a shell's job gets; closing the master then sends SIGHUP."""
    os.setsid()
    fcntl.ioctl(2, termios.TIOCSCTTY, 0)


def run_in_terminal(
    *args: object,
    cwd: Path | str | None = None,
    stdout_on_terminal: bool = False,
    env: dict[str, str] | None = None,
    columns: int = 100,
    timeout: float = 60,
    stdin: bytes | None = None,
    hang_up: Callable[[], bool] | None = None,
) -> Terminal:
    """``convcli ARGS`` with stderr on a terminal ``columns`` wide; stdout a pipe
    unless ``stdout_on_terminal``. ``hang_up``: close the terminal (the kernel
    sends SIGHUP to its foreground processes) once it returns true."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    environment = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(columns)}
    environment.pop("NO_COLOR", None)
    environment.update(env or {})
    process = subprocess.Popen(
        [console_script(), *map(str, args)],
        cwd=cwd,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=slave if stdout_on_terminal else subprocess.PIPE,
        stderr=slave,
        env=environment,
        preexec_fn=_take_terminal,
    )
    os.close(slave)
    if stdin is not None:
        assert process.stdin is not None
        process.stdin.write(stdin)
        process.stdin.close()
    screen = bytearray()
    out = bytearray()
    deadline = time.monotonic() + timeout
    streams = [master] + ([process.stdout.fileno()] if process.stdout else [])
    try:
        while streams:
            if time.monotonic() > deadline:
                raise TimeoutError(f"convcli {args} still running after {timeout} s")
            ready, _, _ = select.select(streams, [], [], 0.1)
            for fd in ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:  # EIO: the terminal's last writer has gone
                    chunk = b""
                if not chunk:
                    streams.remove(fd)
                else:
                    (screen if fd == master else out).extend(chunk)
            if process.poll() is not None and not ready:
                break
            if hang_up is not None and master in streams and hang_up():
                streams.remove(master)
                os.close(master)
                master = -1
        returncode = process.wait(timeout=max(0.1, deadline - time.monotonic()))
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if master >= 0:
            os.close(master)
        if process.stdout:
            with contextlib.suppress(OSError):
                process.stdout.close()
    return Terminal(returncode, process.pid, bytes(out), screen.decode("utf-8", "replace"))
