"""``-`` as INPUT (stdin) and as OUTPUT (stdout): one image through a pipe.

``cat photo.jpg | convcli apply -k sharpen - - > sharp.png``. stdin is read
into memory under the same limits as a file (its size, then the header's
pixel count), and stdout gets the image only once it is completely encoded,
so a failure never leaves a partial image in the pipe (nor anywhere else).
The format of stdout is ``--format`` (PNG by default); a file OUTPUT still
takes its format from its extension. A file really called ``-`` is ``./-``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from ..errors import ConvcliError, one_line
from ..limits import MAX_INPUT_BYTES
from ..options import Options
from . import common
from .common import EXIT_FAILED
from .streams import StdoutClosed, write_stdout

STDIO = "-"


def check_usage(
    inputs: tuple[object, ...],
    output: str,
    *,
    out_format: str | None,
    as_json: bool,
    compare: bool,
    recursive: bool,
    name: str | None,
) -> bool:
    """Refuse what cannot work with ``-``; True when this is a ``-`` run."""
    stdin = STDIO in inputs
    stdout = output == STDIO
    if stdin and len(inputs) > 1:
        raise click.UsageError("'-' (stdin) holds one image: it must be the only input")
    if out_format is not None and not stdout:
        raise click.UsageError(
            "--format names the format of '-' (stdout); a file OUTPUT's extension names its own"
        )
    if not (stdin or stdout):
        return False
    if stdout:
        if len(inputs) > 1:
            raise click.UsageError(
                "'-' (stdout) takes one image; several inputs need an OUTPUT folder"
            )
        source = Path(str(inputs[0]))
        pattern = not source.exists() and any(c in str(source) for c in "*?[")
        if not stdin and (source.is_dir() or pattern):
            raise click.UsageError(
                f"'-' (stdout) takes one image; {str(source)!r} is a "
                f"{'pattern' if pattern else 'folder'}: give an OUTPUT folder"
            )
        if as_json:
            raise click.UsageError("--json and an image cannot share stdout; write to a file")
        if compare:
            raise click.UsageError("--compare writes a second picture; not with '-' (stdout)")
    if stdin and not stdout and (output.endswith("/") or Path(output).is_dir()):
        raise click.UsageError(
            "with '-' (stdin) OUTPUT must be a file name (or '-'): stdin has no name to reuse"
        )
    if recursive or name is not None:
        raise click.UsageError("-r and --name are for folders and patterns, not for '-'")
    return True


def read_stdin(max_bytes: int = MAX_INPUT_BYTES) -> bytes:
    """All of stdin, but never more than ``max_bytes`` (+1, to know it was more)."""
    stream = sys.stdin.buffer if sys.stdin is not None else None
    if stream is None:
        raise ConvcliError("stdin is closed", STDIO)
    if sys.stdin.isatty():
        raise ConvcliError(
            "stdin is a terminal; pipe an image in (cat photo.jpg | convcli apply ... - out.png)",
            STDIO,
        )
    chunks, total = [], 0
    while total <= max_bytes:
        chunk = stream.read(min(1 << 20, max_bytes + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    if total > max_bytes:
        raise ConvcliError(f"more than the limit of {max_bytes:,} bytes", STDIO)
    return b"".join(chunks)


def run(source: str | Path, output: str, options: Options, *, out_format: str, quiet: bool) -> None:
    """Filter one image from a file or stdin to a file or stdout; exits on failure."""
    from ..imageio.formats import FORMAT_NAMES, output_format
    from ..pipeline import process

    stdout = output == STDIO
    fmt = FORMAT_NAMES[out_format.lower()] if stdout else None
    start = time.perf_counter()
    try:
        if stdout:  # refuse an impossible depth before reading anything
            output_format(Path("<stdout>"), depth=options.write.depth, color=options.read.color,
                          fmt=fmt)  # fmt: skip
        else:
            output_format(Path(output), depth=options.write.depth, color=options.read.color)
        data = read_stdin() if source == STDIO else None
        name = Path("<stdin>" if source == STDIO else str(source))
        target = Path(STDIO if stdout else output)
        if options.maps > 1 and fmt not in (None, "NPY"):
            raise ConvcliError(
                f"these options make {options.maps} maps: '-' (stdout) can hold them only "
                "as --format npy",
                STDIO,
            )
        outcome = process(name, target, options, data=data, encode_as=fmt)
        if stdout:
            assert outcome.encoded is not None
            write_stdout(outcome.encoded)  # whole, or not at all
    except StdoutClosed:
        raise
    except ConvcliError as exc:
        common.say("error", str(exc))
        sys.exit(EXIT_FAILED)
    for warning in () if quiet else outcome.warnings:
        common.say("warning", f"{name}: {warning}")
    if not quiet:
        (w, h), (ow, oh) = outcome.input_size, outcome.output_size
        where = f"stdout ({fmt})" if stdout else output
        common.stderr().print(
            f"[green]✓[/] {_escape(str(name))} [dim]({w}x{h})[/] → "
            f"[bold]{_escape(where)}[/] [dim]({ow}x{oh})[/]  "
            f"{(time.perf_counter() - start) * 1000:.0f} ms",
            soft_wrap=True,
        )


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(one_line(text))
