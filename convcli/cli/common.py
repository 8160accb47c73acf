"""What every command shares: exit codes, the stderr console, ``--debug``."""

from __future__ import annotations

from rich.console import Console

from ..errors import one_line

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

# Progress, status, warnings and errors; stdout is kept for results (--json).
# Read as ``common.stderr`` so tests can swap in a terminal console.
stderr = Console(stderr=True, highlight=False)

debug = False  # set by --debug: show the traceback behind each error


def say(kind: str, message: str) -> None:
    """One ``convcli: <kind>: <message>`` line on stderr, never read as markup."""
    stderr.print(
        f"convcli: {kind}: {one_line(message)}", markup=False, highlight=False, soft_wrap=True
    )
