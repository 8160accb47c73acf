"""The ``convcli`` group, its global options and the console-script entry point."""

from __future__ import annotations

import contextlib
import gc
import importlib
import sys
import traceback
from typing import Any

import click

from ..cpus import one_blas_thread
from . import common, signals, streams
from .common import EXIT_FAILED, EXIT_OK

# Each command's module is imported only when that command runs: `apply` need not pay
# for the kernel grids or the gallery, and `convcli --help` lists the commands by the
# summaries here (each its docstring's first line, checked by tests/test_cli.py)
# without importing any of them, NumPy and Pillow with them.
_COMMANDS = {
    "apply": (".apply", "Filter INPUTS with kernels and write images to OUTPUT."),
    "explain": (".explain", "Show how one output pixel of IMAGE is computed, step by step."),
    "gallery": (".gallery", "Write a contact sheet of IMAGE under every kernel."),
    "kernels": (".kernel_view", "List the built-in kernels, or show one in full with NAME."),
}


class _Group(click.Group):
    """Commands loaded on demand; Ctrl-C while one parses or runs: one line, exit 130.

    Click would print "Aborted!" and exit 1. (``apply`` handles Ctrl-C during
    a batch itself, to print its summary first.)"""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in _COMMANDS:
            return None
        return getattr(importlib.import_module(_COMMANDS[name][0], __package__), name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Click's own command list, from the summaries in ``_COMMANDS``."""
        limit = formatter.width - 6 - max(map(len, _COMMANDS))
        rows = [
            (name, click.Command(name, help=summary).get_short_help_str(limit))
            for name, (_, summary) in sorted(_COMMANDS.items())
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        if name and not name.startswith("-") and name not in _COMMANDS:
            import difflib  # only for a typo

            close = difflib.get_close_matches(name, _COMMANDS, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            ctx.fail(f"No such command {name!r}.{hint} Commands: {', '.join(sorted(_COMMANDS))}.")
        return super().resolve_command(ctx, args)

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:  # --help and --version print here
            return super().make_context(info_name, args, parent, **extra)
        except BrokenPipeError:  # Click's own handling would exit 1 in silence
            raise streams.StdoutClosed from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as interrupt:
            with contextlib.suppress(OSError):  # SIGHUP: the terminal may be gone
                click.echo(f"convcli: {signals.describe(interrupt)}", err=True)
            ctx.exit(signals.exit_status(interrupt))
        except BrokenPipeError:
            raise streams.StdoutClosed from None


def _version() -> str:
    # importlib.metadata costs more start-up than click itself: only for --version.
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("convcli")
    except PackageNotFoundError:  # running from a source tree
        return "unknown"


def _show_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(f"convcli, version {_version()}")
        ctx.exit()


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-V",
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_show_version,
    help="Show the version and exit.",
)
@click.option(
    "--debug",
    is_flag=True,
    help="Show the traceback behind each error (for bug reports).",
)
def cli(debug: bool) -> None:
    """Run a convolution kernel over images, from the shell.

    The kernel slides over each image without flipping (cross-correlation,
    as TensorFlow's Conv2D); images are converted to 8-bit grayscale first and
    written as PNG, values rounded and clipped to 0..255.

    \b
    Examples:
      convcli apply --kernel sharpen --padding same in.jpg out.png
      convcli apply -k blur photos/*.jpg out/
      convcli apply -k outline --compare cat.jpg edges.png  # + edges.compare.png
      convcli gallery cat.jpg gallery.png
      convcli kernels

    Exit status: 0 all done, 1 an input failed, 2 bad command line,
    130 interrupted (Ctrl-C), 143 and 129 stopped by SIGTERM and SIGHUP,
    141 stdout closed by its reader.
    """
    common.debug = debug
    if debug:  # also show what Pillow logs while decoding
        import logging

        logging.basicConfig(format="convcli: debug: %(name)s: %(message)s", stream=sys.stderr)


def main() -> None:
    """Console-script entry point: Click's parsing plus our exit codes."""
    one_blas_thread()  # before anything imports NumPy
    collecting = gc.isenabled()
    gc.disable()  # until common.end_of_start_up(): start-up only builds what lasts
    try:
        _main()
    finally:  # what is left dies with the process: the last collection need not walk it
        gc.freeze()
        if collecting:  # as found, should a caller go on (a test calling main())
            gc.enable()


def _main() -> None:
    streams.prepare_streams()
    signals.install()
    try:
        # Not standalone: Click would turn a Ctrl-C it sees into "Aborted!" and exit 1.
        code = cli.main(prog_name="convcli", standalone_mode=False)
    except (streams.StdoutClosed, BrokenPipeError):  # `convcli kernels | head -3`
        # Quiet, as `cat` killed by SIGPIPE is (apply says what it stopped itself).
        streams.discard_stdout()
        if common.debug:
            with contextlib.suppress(OSError):
                common.say("debug", "stdout was closed by the program reading it")
        sys.exit(streams.EXIT_STDOUT_CLOSED)
    except (KeyboardInterrupt, click.exceptions.Abort) as stopped:
        # Click wraps a Ctrl-C (or SIGTERM) it sees while parsing in Abort.
        interrupt = stopped.__cause__ if isinstance(stopped, click.exceptions.Abort) else stopped
        interrupt = interrupt if isinstance(interrupt, KeyboardInterrupt) else KeyboardInterrupt()
        with contextlib.suppress(OSError):  # SIGHUP: the terminal may be gone
            click.echo(f"convcli: {signals.describe(interrupt)}", err=True)
        sys.exit(signals.exit_status(interrupt))
    except click.ClickException as exc:  # what standalone mode does: usage errors exit 2
        exc.show()
        sys.exit(exc.exit_code)
    except Exception as exc:  # a bug, not the user's fault: one line, unless --debug
        if common.debug:
            traceback.print_exc()
        detail = str(exc).splitlines()[0] if str(exc) else ""
        click.echo(
            f"convcli: error: internal error: {type(exc).__name__}: {detail} "
            "(run with --debug for the traceback)",
            err=True,
        )
        sys.exit(EXIT_FAILED)
    sys.exit(code if isinstance(code, int) else EXIT_OK)
