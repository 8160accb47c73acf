"""SIGTERM and SIGHUP end a run as Ctrl-C does, never by the default kill.

Killed outright by ``kill``, ``timeout`` or a closed terminal, convcli would
leave its temporary file behind (``-j 1``) or its worker processes, the
forkserver and the resource tracker running with nobody to stop them
(``-j N``), and Python's resource tracker would complain about leaked
semaphores. :func:`install` makes both signals raise
:class:`~convcli.errors.Terminated` (a ``KeyboardInterrupt``) in the main
thread instead, so the code that already cleans up after Ctrl-C runs; the
command then exits ``128 + signum`` (143, 129), as a shell reports a process
the signal killed.

The first signal is the one that counts: later ones are ignored while the
run cleans up (which is bounded: workers are joined with a timeout).
"""

from __future__ import annotations

import contextlib
import signal
from types import FrameType

from ..errors import Terminated

SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


def _raise(signum: int, frame: FrameType | None) -> None:
    for other in SIGNALS:  # one clean-up, however many signals follow
        with contextlib.suppress(ValueError, OSError):
            signal.signal(other, signal.SIG_IGN)
    raise Terminated(signum)


def install() -> None:
    """Turn SIGTERM and SIGHUP into :class:`Terminated` (main thread only).

    A signal the parent process already ignores (``nohup`` ignores SIGHUP)
    stays ignored.
    """
    for signum in SIGNALS:
        with contextlib.suppress(ValueError, OSError):  # not the main thread
            if signal.getsignal(signum) is not signal.SIG_IGN:
                signal.signal(signum, _raise)


def exit_status(interrupt: BaseException) -> int:
    """128 + the signal behind an interrupt (SIGINT: 130)."""
    return 128 + (interrupt.signum if isinstance(interrupt, Terminated) else signal.SIGINT)


def describe(interrupt: BaseException) -> str:
    """``interrupted``, ``terminated (SIGTERM)``, ``hung up (SIGHUP)``."""
    if not isinstance(interrupt, Terminated):
        return "interrupted"
    name = signal.Signals(interrupt.signum).name
    return f"hung up ({name})" if name == "SIGHUP" else f"terminated ({name})"
