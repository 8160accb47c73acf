"""What every command shares: exit codes, the stderr console, ``--debug``."""

from __future__ import annotations

import contextlib
import gc
import sys
import traceback
from collections.abc import Iterator
from os import PathLike
from typing import TYPE_CHECKING

from ..errors import ConvcliError, one_line

if TYPE_CHECKING:
    from rich.console import Console

    from .plain import PlainStderr

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

debug = False  # set by --debug: show the traceback behind each error

_console: Console | PlainStderr | None = None


def stderr() -> Console | PlainStderr:
    """Progress, status, warnings and errors; stdout is kept for results (--json).

    Made on first use: Rich costs ~30 ms of start-up that `apply -q` never
    needs, and a stderr that is not a terminal gets the same lines without
    Rich (:mod:`.plain`). If stderr's reader goes away, the run goes on
    silently (Rich's own default would exit 1 and point *stdout* at /dev/null).
    """
    global _console
    if _console is None:
        import sys

        from . import plain

        if plain.wanted(sys.stderr):
            _console = plain.PlainStderr()
            return _console
        from rich.console import Console

        class _Stderr(Console):
            def on_broken_pipe(self) -> None:
                self.quiet = True

        _console = _Stderr(file=_StderrFile(), highlight=False)  # type: ignore[arg-type]
    return _console


class _StderrFile:
    """``sys.stderr`` (looked up on each call, as tests swap it), but a write
    that fails (EIO once a terminal has hung up, EPIPE) drops the message
    instead of failing the run that is cleaning up after SIGHUP."""

    def write(self, text: str) -> int:
        try:
            return sys.stderr.write(text)
        except OSError:
            return len(text)

    def flush(self) -> None:
        with contextlib.suppress(OSError):
            sys.stderr.flush()

    def __getattr__(self, name: str) -> object:  # isatty, fileno, encoding...
        return getattr(sys.stderr, name)


def stdout() -> Console:
    """A console for a command's results on stdout (``convcli kernels``).

    A reader that closes the pipe (``| head``) raises ``StdoutClosed``, which
    ``main`` turns into one line and exit 141; Rich's default is a silent exit 1.
    """
    from rich.console import Console

    from .streams import StdoutClosed, discard_stdout

    class _Stdout(Console):
        def on_broken_pipe(self) -> None:
            self.quiet = True
            discard_stdout()
            raise StdoutClosed

    return _Stdout(highlight=False)


def end_of_start_up() -> None:
    """Start-up is over: collect garbage again, but never re-traverse what start-up built.

    ``main()`` runs with the collector off: the ~200 modules, the classes, click's
    options and the plan all live as long as the process, and each collection pass
    during start-up walked all of them again (about 25 ms of a one-image run,
    measured: ``benchmarks/bench_cli.py``). Frozen here (``gc.freeze``), they are
    left out of every later pass, so a long batch collects its own garbage at the
    usual cost, and forked workers share those pages instead of touching them.
    """
    if gc.isenabled():  # not started by main(): a test or a Python caller manages its own
        return
    gc.freeze()
    gc.enable()


def say(kind: str, message: str) -> None:
    """One ``convcli: <kind>: <message>`` line on stderr, never read as markup."""
    stderr().print(
        f"convcli: {kind}: {one_line(message)}", markup=False, highlight=False, soft_wrap=True
    )


@contextlib.contextmanager
def one_image(image: str | PathLike[str], notes: list[str]) -> Iterator[None]:
    """How a one-image command (``gallery``, ``explain``) fails: one error line and
    exit 1 (the traceback too with ``--debug``); the reader's notes about the
    image as warnings, whether or not it failed."""
    try:
        yield
    except ConvcliError as exc:
        if debug:
            traceback.print_exception(exc, file=sys.stderr)
        say("error", str(exc))
        sys.exit(EXIT_FAILED)
    finally:
        for note in notes:
            say("warning", f"{image}: {note}")
