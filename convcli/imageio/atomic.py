"""Writing a file so that it is either all there or not there at all.

The bytes go to a temporary file beside the target, created with ``O_EXCL``
(ordinary permissions, as ``open()`` gives), are flushed to disk and renamed
into place, so a crash, a full disk or Ctrl-C never leaves a partial file and
never harms an existing one. Only a process killed outright can leave its
temporary file behind; :func:`sweep_temporaries` is how the batch runner
cleans up after such a worker. This module is the only one that knows what a
temporary file is called. No Pillow here: the encoder is a callback.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from ..errors import OutputError
from .targets import exists_error

__all__ = [
    "TEMP_STEM_BYTES",
    "random_token",
    "sweep_temporaries",
    "temporary_files",
    "temporary_stem",
    "write_atomically",
]

#: How much of an output's name its temporary file keeps: ``.<stem>.<token>.tmp``
#: must stay within NAME_MAX (usually 255 bytes) even for a long, legal name.
TEMP_STEM_BYTES = 200


def temporary_stem(name: str) -> str:
    """The part of an output file name its temporary file is named after.

    >>> temporary_stem("out.png"), len(temporary_stem("é" * 150).encode())
    ('out.png', 200)
    """
    return os.fsencode(name)[:TEMP_STEM_BYTES].decode(errors="ignore") or "output"


def random_token() -> str:
    """Eight hex digits for a temporary name (``secrets`` costs start-up time)."""
    return os.urandom(4).hex()


def _temporary_name(target: Path, token: str) -> str:
    """``.<stem>.<token>.tmp``: hidden, and matched by :func:`temporary_files`."""
    return f".{temporary_stem(target.name)}.{token}.tmp"


def temporary_files(target: Path) -> list[Path]:
    """The temporary files of ``target`` that exist now (regular files only)."""
    pattern = re.compile(rf"\.{re.escape(temporary_stem(target.name))}\.\w+\.tmp")
    found: list[Path] = []
    with contextlib.suppress(OSError):
        for entry in os.scandir(target.parent):
            if pattern.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
                found.append(Path(entry.path))
    return sorted(found)


def sweep_temporaries(target: Path) -> None:
    """Delete what a killed writer of ``target`` left behind; never raises."""
    for path in temporary_files(target):
        with contextlib.suppress(OSError):
            os.unlink(path)


def write_atomically(target: Path, write: Callable[[BinaryIO], None], *, overwrite: bool) -> None:
    """Call ``write(handle)`` on a temporary file, then rename it onto ``target``.

    Without ``overwrite`` the final step never replaces a file that appeared
    meanwhile. Every ``OSError`` becomes an :class:`OutputError` naming
    ``target``; on any failure, Ctrl-C included, the temporary file is removed.
    """
    try:
        fd, tmp = _create_temporary(target)
    except OSError as exc:
        raise OutputError(f"cannot write here: {exc.strerror or exc}", target) from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        _place(tmp, target, overwrite=overwrite)
    except FileExistsError:
        tmp.unlink(missing_ok=True)
        raise exists_error(target) from None
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write: {exc.strerror or exc}", target) from exc
    except BaseException:  # Ctrl-C, or an encoder bug: never leave the temporary file
        tmp.unlink(missing_ok=True)
        raise
    _sync_folder(target.parent)


def _create_temporary(target: Path) -> tuple[int, Path]:
    """A new, empty file beside ``target``: ``O_EXCL``, mode ``0o666 & ~umask``."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    flags |= getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = target.with_name(_temporary_name(target, random_token()))
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary file name", str(target.parent))


def _place(tmp: Path, target: Path, *, overwrite: bool) -> None:
    """Rename ``tmp`` onto ``target``; without ``overwrite`` never clobber it."""
    if overwrite:
        os.replace(tmp, target)
        return
    try:
        os.link(tmp, target)  # atomic, and fails if the target appeared meanwhile
    except FileExistsError:
        raise
    except OSError:  # a filesystem without hard links
        if target.exists() or target.is_symlink():
            raise FileExistsError(target) from None
        os.replace(tmp, target)
    else:
        tmp.unlink()


def _sync_folder(folder: Path) -> None:
    """Best effort: make the rename itself durable (POSIX only; harmless elsewhere)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
