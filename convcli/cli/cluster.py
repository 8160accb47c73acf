"""``apply``'s options for running a batch on a Dask cluster, and what they turn into.

``--scheduler tcp://HOST:PORT`` (or ``--scheduler-file FILE``, or the
``DASK_SCHEDULER_ADDRESS`` variable Dask itself reads, in that order)
runs the jobs on that cluster; ``--scheduler local:N`` on a throw-away one
of N processes on this machine. Dask is imported only when one of these is
given; without the extra, that is a usage error saying what to install.

Interrupted (Ctrl-C, or SIGTERM/SIGHUP, which :mod:`.signals` turns into
the same), the outstanding tasks are cancelled and the cluster stays up.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ..errors import ConvcliError

if TYPE_CHECKING:
    from ..batch.executors.dask import DaskExecutor

__all__ = [
    "INSTALL",
    "Scheduler",
    "cluster_options",
    "open_executor",
    "read_scheduler_file",
    "scheduler_from",
]

INSTALL = "pip install 'convcli[dask]'"
ENVIRONMENT = "DASK_SCHEDULER_ADDRESS"
_ADDRESS = re.compile(
    r"(?:(?P<scheme>[a-z][a-z0-9+.-]*)://)?(?P<host>\[[^\]]+\]|[^:/\s]+):(?P<port>\d+)"
)

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Scheduler:
    """Where to run: a scheduler ``address`` (``tcp://host:port``) or ``local`` workers."""

    address: str | None = None
    local: int | None = None  # worker processes of a LocalCluster started for this run

    def __str__(self) -> str:
        return f"local:{self.local}" if self.local else str(self.address)


def read_scheduler_file(path: Path) -> str:
    """The address in a file written by ``dask scheduler --scheduler-file``."""
    import json  # only with --scheduler-file: not at every start-up

    try:
        address = json.loads(path.read_text(encoding="utf-8"))["address"]
    except OSError as exc:
        raise ConvcliError(f"cannot read: {exc.strerror or exc}", path) from None
    except (ValueError, KeyError, TypeError):
        address = None
    if not isinstance(address, str) or not address:
        raise ConvcliError("not a Dask scheduler file (no address in it)", path)
    return address


class SchedulerAddress(click.ParamType):
    """``tcp://HOST:PORT`` (``HOST:PORT`` means tcp) or ``local:N``."""

    name = "ADDRESS"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, Scheduler):
            return value
        text = str(value).strip()
        local = re.fullmatch(r"local:(\d+)", text)
        if local:
            workers = int(local.group(1))
            if workers < 1:
                self.fail("local:N needs at least one worker (N >= 1)", param, ctx)
            return Scheduler(local=workers)
        match = _ADDRESS.fullmatch(text)
        if match is None or not 0 < int(match.group("port")) < 65536:
            self.fail(
                f"{text!r} is not a scheduler address: use tcp://HOST:PORT, or local:N "
                "for N worker processes on this machine",
                param,
                ctx,
            )
        return Scheduler(address=text if match.group("scheme") else f"tcp://{text}")


def cluster_options(command: F) -> F:
    """The ``--scheduler``, ``--scheduler-file``, ``--timeout`` and ``--io`` options."""
    for option in reversed(
        [
            click.option(
                "--scheduler",
                type=SchedulerAddress(),
                default=None,
                help="Run the jobs on the Dask cluster of this scheduler (tcp://HOST:PORT), "
                "or on a throw-away one of N local processes (local:N). "
                f"Default: ${ENVIRONMENT}, if set. Needs {INSTALL}.",
            ),
            click.option(
                "--scheduler-file",
                type=click.Path(exists=True, dir_okay=False, path_type=Path),
                default=None,
                help="Read the scheduler's address from this file "
                "(what dask scheduler --scheduler-file wrote).",
            ),
            click.option(
                "--timeout",
                type=click.FloatRange(min=0, min_open=True),
                default=10.0,
                show_default=True,
                metavar="SECONDS",
                help="How long to try to reach the scheduler (and wait for a worker).",
            ),
            click.option(
                "--io",
                type=click.Choice(("shared", "client"), case_sensitive=False),
                default="shared",
                show_default=True,
                help="shared: the workers read and write the files themselves (a filesystem "
                "shared with them); client: this machine sends the inputs' bytes and writes "
                "the outputs (workers need no shared storage).",
            ),
        ]
    ):
        command = option(command)
    return command


def scheduler_from(
    ctx: click.Context,
    scheduler: Scheduler | None,
    scheduler_file: Path | None,
    *,
    jobs_given: bool,
) -> Scheduler | None:
    """Where to run, by precedence: --scheduler, --scheduler-file, $DASK_SCHEDULER_ADDRESS.

    ``-j`` alone means this machine (it beats the environment variable, not
    an explicit scheduler). Raises :class:`click.UsageError` for options that
    contradict each other, or when Dask is not installed.
    """
    if scheduler is None and scheduler_file is not None:
        try:
            scheduler = Scheduler(address=read_scheduler_file(scheduler_file))
        except ConvcliError as exc:
            raise click.BadParameter(str(exc), param_hint="'--scheduler-file'") from None
    explicit = scheduler is not None
    if scheduler is None and not jobs_given and os.environ.get(ENVIRONMENT, "").strip():
        text = os.environ[ENVIRONMENT].strip()
        try:
            scheduler = SchedulerAddress().convert(text, None, ctx)
        except click.BadParameter as exc:
            raise click.UsageError(f"${ENVIRONMENT}: {exc.message}") from None
    if scheduler is None:
        for name in ("timeout", "io"):
            if ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT:
                raise click.UsageError(f"--{name} is for runs on a Dask cluster (see --scheduler)")
        return None
    if explicit and jobs_given:
        raise click.UsageError(
            "-j/--jobs starts worker processes here; with --scheduler the cluster's "
            "workers run the jobs: give one or the other"
        )
    try:
        import distributed  # noqa: F401  (the extra is there, and it imports)
    except ImportError:
        raise click.UsageError(
            f"--scheduler needs Dask, which is not installed: {INSTALL}"
        ) from None
    return scheduler


@contextlib.contextmanager
def open_executor(
    scheduler: Scheduler | None, *, timeout: float, io: str, quiet_logs: bool
) -> Iterator[DaskExecutor | None]:
    """The executor for ``scheduler`` (None: run here), closed on leaving.

    A scheduler that cannot be reached is one ``convcli: error:`` line and exit 1.
    (SIGTERM and SIGHUP already stop a run as Ctrl-C does: see :mod:`.signals`.)
    """
    if scheduler is None:
        yield None
        return
    from ..batch.executors.cluster import open_cluster

    with contextlib.ExitStack() as stack:
        try:
            executor = stack.enter_context(
                open_cluster(
                    scheduler.address,
                    local=scheduler.local,
                    timeout=timeout,
                    io=io.lower(),
                    quiet=quiet_logs,
                )
            )
        except ConvcliError as exc:
            raise click.exceptions.Exit(_fail(exc)) from None
        yield executor


def _fail(error: ConvcliError) -> int:
    from . import common

    common.say("error", str(error))
    return common.EXIT_FAILED
