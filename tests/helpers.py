"""Running convcli in a fresh interpreter, for the tests that need a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence

_PROBE = """
import importlib, sys
watch, mode, *rest = sys.argv[1:]
if mode == "import":
    for name in rest:
        importlib.import_module(name)
else:
    from convcli.cli import main
    sys.argv = ["convcli", *rest]
    try:
        main()
    except SystemExit as exit:
        if exit.code:
            raise
print("loaded:" + ",".join(m for m in watch.split(",") if m in sys.modules), file=sys.stderr)
"""


def run_convcli(*args: object, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``python -m convcli ARGS`` with a plain, fixed-width terminal."""
    return subprocess.run(
        [sys.executable, "-m", "convcli", *map(str, args)],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "100", "NO_COLOR": "1"},
        timeout=timeout,
    )


def modules_loaded(
    watch: Sequence[str], *, run: Sequence[object] = (), imports: Sequence[str] = ()
) -> list[str]:
    """Which of ``watch`` a fresh interpreter holds after ``convcli RUN...`` (or importing)."""
    mode, rest = ("import", list(imports)) if imports else ("run", [str(a) for a in run])
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, ",".join(watch), mode, *rest],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    # The last "loaded:" line: the command's own stderr (a summary line) comes before it.
    lines = [line for line in done.stderr.splitlines() if line.startswith("loaded:")]
    return [m for m in lines[-1].removeprefix("loaded:").split(",") if m]
