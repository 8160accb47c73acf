"""The command line: parse, call the core, render, map errors to exit codes.

The only package that imports click and rich; the core never prints. Exit
codes: 0 all done, 1 some input failed at run time, 2 the command line is
wrong, 130 interrupted (143, 129: SIGTERM, SIGHUP; 141: stdout closed).

``main`` (the group and the entry point), ``params`` (option types),
``apply`` + ``report`` (filtering and its progress, summary and JSON),
``kernel_view`` (``convcli kernels``), ``gallery`` (``convcli gallery``),
``common`` (the stderr console, ``--debug``, message lines).
"""

from .common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from .main import cli, main

__all__ = ["EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "cli", "main"]
