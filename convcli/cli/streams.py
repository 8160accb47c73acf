"""stdout and stderr as a Unix tool needs them: any encoding, a reader that goes away.

Two things the rest of the CLI relies on:

* **Any encoding.** ``PYTHONIOENCODING=ascii`` or a latin-1 locale must not
  turn a check mark into ``UnicodeEncodeError``. :func:`prepare_streams`
  gives both streams the ``convcli`` error handler, which writes each
  symbol convcli prints in a form the stream can encode (``✓`` -> ``ok``,
  the multiplication sign -> ``x``, ``ᵀ`` -> ``^T``...) and escapes anything else
  (``\\u2603``, and the surrogates of a non-UTF-8 file name). Rich sees the
  stream's encoding and draws ASCII boxes and bars by itself.
* **A reader that closes the pipe** (``| head``). :func:`write_stdout`
  writes every byte or raises :class:`StdoutClosed`: a pipe that closes in
  the middle of a large write may accept part of it without an error, so it
  writes in a loop and checks what each call took. The caller stops as for
  an interrupt; :func:`main` exits 141 (128 + SIGPIPE), as a shell reports
  a tool killed by SIGPIPE, after one line on stderr.
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import io
import os
import sys

EXIT_STDOUT_CLOSED = 141  # 128 + SIGPIPE

# What each non-ASCII character convcli itself prints becomes on a stream that
# cannot encode it (anything else is escaped as \uXXXX).
FALLBACKS = {
    "✓": "ok",
    "✗": "x",
    "→": "->",
    "←": "<-",
    "×": "x",
    "ᵀ": "^T",
    "°": " degrees",
    "·": "*",
    "−": "-",
    "–": "-",
    "—": "-",
    "…": "...",
    "≤": "<=",
    "≥": ">=",
    "²": "^2",
    "σ": "sigma",
    "’": "'",
    "‘": "'",
    "“": '"',
    "”": '"',
    "━": "-",
    "│": "|",
}

_HANDLER = "convcli"


def _fallback(error: UnicodeError) -> tuple[str, int]:
    """The ``convcli`` codec error handler: ``FALLBACKS``, else an escape."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    parts = []
    for char in error.object[error.start : error.end]:
        if char in FALLBACKS:
            parts.append(FALLBACKS[char])
        elif ord(char) <= 0xFF:
            parts.append(f"\\x{ord(char):02x}")
        elif ord(char) <= 0xFFFF:
            parts.append(f"\\u{ord(char):04x}")
        else:
            parts.append(f"\\U{ord(char):08x}")
    return "".join(parts), error.end


codecs.register_error(_HANDLER, _fallback)


def prepare_streams() -> None:
    """Let stdout and stderr write anything: fallbacks and escapes, never an error."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            with contextlib.suppress(ValueError, OSError):  # closed, or not reconfigurable
                stream.reconfigure(errors=_HANDLER)


def can_encode(text: str, stream: object) -> bool:
    """Whether ``stream`` (its ``encoding``) can write ``text`` as it is."""
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


class StdoutClosed(Exception):
    """Whoever read stdout has gone (EPIPE): stop, as for an interrupt."""


def write_stdout(data: str | bytes) -> None:
    """Write all of ``data`` to stdout now, or raise :class:`StdoutClosed`.

    Text is encoded as ``sys.stdout`` would (its encoding, the ``convcli``
    fallbacks). On a real file descriptor the bytes go out with
    ``os.write`` in a loop until every one is taken; a stream without one
    (a test's capture) gets a plain write.
    """
    stream = sys.stdout
    if stream is None:
        raise StdoutClosed
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is an OSError
        fd = None
    try:
        if fd is None:
            if isinstance(data, bytes):
                buffer = getattr(stream, "buffer", None)
                if buffer is None:
                    raise TypeError("stdout takes no bytes here")
                stream.flush()
                buffer.write(data)
                buffer.flush()
            else:
                stream.write(data)
                stream.flush()
            return
        if isinstance(data, str):
            data = data.encode(getattr(stream, "encoding", None) or "utf-8", _HANDLER)
        stream.flush()  # whatever print() left in Python's buffer goes first
        view = memoryview(data)
        while view:
            taken = os.write(fd, view)
            if taken <= 0:  # nothing taken and no error: treat as gone, never spin
                raise StdoutClosed
            view = view[taken:]
    except BrokenPipeError:
        raise StdoutClosed from None
    except OSError as exc:
        if exc.errno in (errno.EPIPE, errno.EINVAL) and fd is not None:
            raise StdoutClosed from None
        raise


def discard_stdout() -> None:
    """Point stdout at /dev/null, so Python's flush at exit cannot fail again.

    After EPIPE, anything left in ``sys.stdout``'s buffer would make the
    interpreter print ``Exception ignored ... BrokenPipeError`` on its way out.
    """
    with contextlib.suppress(OSError, ValueError, AttributeError):
        fd = sys.stdout.fileno()
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, fd)
        finally:
            os.close(null)
