"""The one exception family a user ever sees.

Every message is a single line a user can act on. The CLI turns these into
``convcli: error: <path>: <reason>`` and an exit status; nothing in the core
prints or exits.
"""

from __future__ import annotations

from os import PathLike

_CONTROL = dict.fromkeys([*range(0x20), 0x7F, 0x85, 0x2028, 0x2029])


def one_line(text: str) -> str:
    r"""``text`` with control characters escaped, so a message stays one line.

    File names may hold newlines or terminal escapes; printed raw they could
    forge extra ``convcli: error:`` lines or recolour the terminal.

    >>> one_line("evil\nconvcli: error: x\x1b[31m")
    'evil\\nconvcli: error: x\\x1b[31m'
    """
    if not any(ord(c) in _CONTROL for c in text):
        return text
    return "".join(repr(c)[1:-1] if ord(c) in _CONTROL else c for c in text)


class ConvcliError(Exception):
    """A problem with the user's input, kernel or output, not a bug in convcli."""

    def __init__(self, reason: str, path: str | PathLike[str] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path = None if path is None else str(path)

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}" if self.path else self.reason


class KernelError(ConvcliError):
    """A kernel name, spec or file that cannot be used."""


class ImageReadError(ConvcliError):
    """An input that is missing, not a regular file, or not a readable image."""


class ImageShapeError(ConvcliError):
    """An image that cannot be filtered as asked (e.g. smaller than the kernel)."""


class OutputError(ConvcliError):
    """An output that cannot or must not be written."""


class OutputExists(OutputError):
    """An output that is already there, without ``--overwrite`` (or ``--skip-existing``)."""


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised in the main thread so that a run unwinds as
    for Ctrl-C: workers stopped, temporary files removed, finished outputs
    kept. A ``KeyboardInterrupt`` so that every interrupt path handles it; the
    CLI exits ``128 + signum``."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class PlanError(ConvcliError):
    """The arguments cannot be turned into jobs (a usage error, exit 2)."""
