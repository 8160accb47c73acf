"""May this output be written? The checks that need only the file system, never Pillow.

The batch planner runs them for every job before any work starts, the
pipeline again just before decoding, and the writer a last time just before
renaming (files come and go meanwhile). They all raise the same
:class:`OutputError` with the same words, written here once.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import OutputError, OutputExists

__all__ = [
    "check_destination",
    "check_target",
    "compare_path",
    "exists_error",
    "file_in_the_way",
    "is_same_file",
    "missing_folder",
]


def exists_error(target: Path) -> OutputExists:
    """The one refusal of an existing output without ``--overwrite``."""
    return OutputExists("already exists (use --overwrite to replace it)", target)


def check_target(source: Path, target: Path, *, overwrite: bool) -> None:
    """Refuse, before any decoding, an output that must not or cannot be written.

    That is: an output that resolves to the input (same file by device and
    inode, so symlinks, hard links and case-insensitive spellings of the same
    name are all caught), a folder or special file, an existing file without
    ``overwrite``, and a single-file output whose folder does not exist.
    """
    if is_same_file(source, target):
        raise OutputError("is the input file; choose another output", target)
    if target.exists() or target.is_symlink():
        if target.is_dir():
            raise OutputError("is a folder", target)
        if target.exists() and not target.is_file():
            raise OutputError("is not a regular file; refusing to replace it", target)
    check_destination(target, overwrite=overwrite)


def check_destination(target: Path, *, overwrite: bool) -> None:
    """The writer's own last check: the folder exists, and nothing is in the way
    unless ``overwrite`` (a dangling symlink counts as something)."""
    if not target.parent.is_dir():
        raise OutputError(missing_folder(target.parent), target)
    if (target.exists() or target.is_symlink()) and not overwrite:
        raise exists_error(target)


def file_in_the_way(folder: Path) -> Path | None:
    """The nearest existing part of ``folder``'s path, when it is not a folder.

    ``in.jpg/x.png`` with ``in.jpg`` a file: the folder can neither exist nor
    be created, and saying it "does not exist" would send the user looking
    for the wrong thing.
    """
    for part in (folder, *folder.parents):
        if part.exists() or part.is_symlink():
            return None if part.is_dir() else part
    return None


def missing_folder(folder: Path) -> str:
    """Why an output cannot go into ``folder``, which is not there."""
    blocker = file_in_the_way(folder)
    if blocker is not None:
        return f"{str(blocker)!r} is a file, not a folder"
    return f"folder {str(folder)!r} does not exist"


def is_same_file(a: Path, b: Path) -> bool:
    """True when both paths lead to one file (symlinks followed, hard links included)."""
    try:
        first, second = a.stat(), b.stat()
    except (OSError, ValueError):
        return False
    return (first.st_dev, first.st_ino) == (second.st_dev, second.st_ino)


def compare_path(target: Path) -> Path:
    """Where ``--compare`` puts the before/after picture: ``out.png`` -> ``out.compare.png``.

    >>> compare_path(Path("out/edges.png")).as_posix()
    'out/edges.compare.png'
    """
    return target.with_name(f"{target.stem}.compare.png")
