"""Inputs to jobs: every check that needs no pixels, done before any work starts.

:func:`plan` maps ``apply``'s inputs (files, folders, glob patterns) to
:class:`Job` s with output paths, the way ``cp`` does. A usage mistake (two
inputs for one output, a bad ``--name``) is a :class:`PlanError` that costs
nothing; inputs that are missing, empty folders, non-images or existing
outputs are *settled* here as failed or skipped results, so the run only ever
sees jobs worth starting. Nothing here opens an image (Pillow is imported only
to learn which suffixes it reads).
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConvcliError, PlanError
from ..imageio.targets import check_target, compare_path, file_in_the_way, is_same_file
from ..limits import IMAGE_FORMATS
from ..options import Options
from .jobs import Result
from .names import DEFAULT_NAME, NAME_FIELDS, check_template, maps_template, render

__all__ = [
    "DEFAULT_NAME",
    "NAME_FIELDS",
    "Job",
    "Plan",
    "PlanError",
    "estimate_seconds",
    "image_extensions",
    "plan",
]

_GLOB_MAGIC = re.compile(r"[*?[]")


@dataclass(frozen=True)
class Job:
    """One input and the file it becomes: all a worker is sent (paths, never pixels)."""

    source: Path
    target: Path
    index: int = 1  # 1-based, in input order: the template's {index}
    targets: tuple[
        Path, ...
    ] = ()  # one image file per map, when there are several (target: the first)
    below: str = ""  # its folder below the input folder or pattern prefix: {dir}

    @property
    def outputs(self) -> tuple[Path, ...]:
        """Every file the job writes (besides a --compare picture)."""
        return self.targets or (self.target,)


@dataclass(frozen=True)
class Plan:
    """The jobs to run, and the results decided without running anything."""

    jobs: list[Job]
    folder: Path | None = None  # destination folder, created when the run starts
    settled: list[Result] = field(default_factory=list)  # decided without pixels

    @property
    def total(self) -> int:
        return len(self.jobs) + len(self.settled)


#: In-process seconds per job and per input byte, measured on this 2-core
#: machine for grayscale + a 3x3 kernel + PNG (compiled engine, 2026-12-01): a
#: 160x120 JPEG (4 KB) takes about 1.9 ms, a 1600x1200 photo (590 KB) 62 ms,
#: as PNG (2.9 MB RGB, 1.2 MB gray) 60-85 ms. Compressed formats cost more per
#: byte than PNG, TIFF, BMP or PPM, which hold 1-3 bytes per pixel.
SECONDS_PER_JOB = 0.0015
SECONDS_PER_BYTE = {".jpg": 0.1e-6, ".jpeg": 0.1e-6, ".webp": 0.1e-6}
SECONDS_PER_RAW_BYTE = 0.035e-6


def estimate_seconds(jobs: Sequence[Job]) -> float:
    """How long ``jobs`` would take in this process, from their inputs' sizes in
    bytes (one ``stat`` each, no image opened): enough to tell whether starting
    worker processes pays (:func:`~convcli.batch.executors.default_workers`)."""
    total = 0.0
    for job in jobs:
        try:
            size = os.stat(job.source).st_size
        except (OSError, ValueError):
            size = 0
        per_byte = SECONDS_PER_BYTE.get(job.source.suffix.lower(), SECONDS_PER_RAW_BYTE)
        total += SECONDS_PER_JOB + size * per_byte
    return total


#: Pillow's plugin, ``PIL.<name>ImagePlugin``, for each of :data:`limits.IMAGE_FORMATS`.
PLUGINS = {fmt: fmt.capitalize() for fmt in IMAGE_FORMATS} | {"WEBP": "WebP"}


def image_extensions() -> frozenset[str]:
    """Lower-case suffixes (``.jpg``) of the formats convcli reads: those of
    :data:`limits.IMAGE_FORMATS` that this Pillow can open. Only their plugins
    are imported (each registers its suffixes, and its opener if this Pillow
    decodes it): ``Image.init()`` imports ~40 more, 15-30 ms of a batch's start."""
    import importlib

    from PIL import Image

    for fmt in IMAGE_FORMATS:
        with contextlib.suppress(ImportError):  # a Pillow without it: not one we open
            importlib.import_module(f"PIL.{PLUGINS[fmt]}ImagePlugin")
    return frozenset(
        ext.lower()
        for ext, fmt in Image.EXTENSION.items()
        if fmt in Image.OPEN and fmt in IMAGE_FORMATS
    )


def plan(
    inputs: Sequence[str | os.PathLike[str]],
    destination: str | os.PathLike[str],
    options: Options | None = None,
    *,
    recursive: bool = False,
    name: str | None = None,
    skip_existing: bool = False,
) -> Plan:
    """Map inputs to outputs the way ``cp`` does, and check all that needs no pixels.

    An input is a file, a folder (the images directly in it; with
    ``recursive``, in its sub-folders too, mirrored under the destination) or,
    when no file has that literal name, a glob pattern (``**`` descends);
    pattern matches land flat in the destination, or with ``recursive``
    mirror the part of their path below the pattern's fixed prefix (the
    folders before the first wildcard: ``coll`` for ``coll/**/*.jpg``). The
    ``{dir}`` field of ``name`` is that same relative folder, with a
    trailing ``/`` (empty for a plain file or a top-level match), so
    ``{dir}{stem}.png`` mirrors without ``recursive``. One plain file input and a
    destination that is not an existing folder, has no trailing slash and no
    ``name`` template: the destination is the output file. Otherwise it is a
    folder and outputs are named by ``name`` (default ``{stem}.png``).

    Raises :class:`PlanError` for a usage mistake: no inputs, a destination
    file where a folder is needed, a bad template, or two inputs that would be
    written to one output (or over an input).
    """
    if not inputs:
        raise PlanError("no input files given")
    fields = {
        "kernel": options.label if options else "kernel",
        "padding": options.padding if options else "valid",
    }
    maps = options.maps if options else 1
    slash = os.fspath(destination).endswith(("/", os.sep))
    destination = Path(destination)
    template = check_template(name if name is not None else DEFAULT_NAME, fields)
    sources: list[tuple[Path, Path, str]] = []  # (input file, output folder, {dir})
    settled: list[Result] = []
    expanded_any = False
    seen: set[str] = set()
    extensions: frozenset[str] | None = None

    def add(source: Path, folder: Path, below: str = "") -> None:
        key = os.path.abspath(source)
        if key not in seen:
            seen.add(key)
            sources.append((source, folder, below))

    for raw in inputs:
        text = os.fspath(raw)
        path = Path(text)
        if path.is_dir():
            expanded_any = True
            extensions = extensions or image_extensions()
            found, skipped, subfolders, unreadable = _scan_folder(
                path, destination, extensions, recursive=recursive
            )
            for source, folder in found:
                add(source, folder, _below(source.parent, path))
            settled.extend(Result(p, None, "skipped", "not an image file", p) for p in skipped)
            for error in unreadable:
                where = Path(error.filename or path)
                reason = f"cannot read this folder: {error.strerror or error}"
                settled.append(Result(where, None, "failed", reason, where))
            if not found and not unreadable:
                hint = (
                    " (use -r to look in its sub-folders)" if subfolders and not recursive else ""
                )
                settled.append(
                    Result(path, None, "failed", f"no images in this folder{hint}", path)
                )
        elif path.exists() or path.is_symlink() or not _GLOB_MAGIC.search(text):
            add(path, destination)  # a missing file is settled below, with the others
        else:
            expanded_any = True
            extensions = extensions or image_extensions()
            matches = sorted(m for m in glob.glob(text, recursive=True) if os.path.isfile(m))
            if not matches:
                settled.append(
                    Result(path, None, "failed", "no such file, and no file matches it", path)
                )
            prefix = _fixed_prefix(text)
            for match in map(Path, matches):
                if match.suffix.lower() in extensions:
                    below = _below(match.parent, prefix)
                    add(match, destination / below if recursive else destination, below)
                else:
                    settled.append(Result(match, None, "skipped", "not an image file", match))

    as_folder = len(inputs) > 1 or expanded_any or slash or name is not None
    as_folder = as_folder or destination.is_dir()
    # Several maps per input need a folder; a destination without an extension is one.
    as_folder = as_folder or (maps > 1 and not destination.suffix)
    if as_folder and destination.exists() and not destination.is_dir():
        raise PlanError("is not a folder, but the inputs need one", destination)
    blocker = file_in_the_way(destination.parent if not as_folder else destination)
    if blocker is not None:  # out.jpg/x.png, out.jpg/sub/: no folder can be made there
        raise PlanError(f"{str(blocker)!r} is a file, not a folder", destination)
    per_map = False
    if maps > 1:
        per_map, template = maps_template(maps, name, template, as_folder, destination)
    jobs = []
    by_name = "{dir" in template  # the name says where: no mirroring on top of it
    for index, (source, folder, below) in enumerate(sources, start=1):
        folder = destination if by_name else folder
        if per_map and as_folder:
            targets = tuple(
                folder / render(template, source, fields, index, m, below) for m in range(maps)
            )
            jobs.append(Job(source, targets[0], index, targets, below))
            continue
        target = (
            folder / render(template, source, fields, index, 0, below) if as_folder else destination
        )
        jobs.append(Job(source, target, index, below=below))
    _check_collisions(jobs, template)
    if options is not None and options.write.compare:
        _check_compare_collisions(jobs)
    runnable = []
    for job in jobs:
        outcome = _settle(
            job, overwrite=bool(options and options.write.overwrite), skip=skip_existing
        )
        if outcome is None:
            runnable.append(job)
        else:
            settled.append(outcome)
    return Plan(runnable, destination if as_folder else None, settled)


def _scan_folder(
    folder: Path, destination: Path, extensions: frozenset[str], *, recursive: bool
) -> tuple[list[tuple[Path, Path]], list[Path], bool, list[OSError]]:
    """Images (with their output folders), skipped non-images, whether there
    are sub-folders, and the folders that could not be listed. Hidden entries
    are ignored; so is the destination, when it lies inside the folder (a
    rerun must not filter its own outputs)."""
    found: list[tuple[Path, Path]] = []
    skipped: list[Path] = []
    unreadable: list[OSError] = []
    subfolders = False
    dest = os.path.abspath(destination)
    for root, dirs, files in os.walk(folder, onerror=unreadable.append):
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(".") and os.path.abspath(os.path.join(root, d)) != dest
        )
        subfolders = subfolders or bool(dirs)
        out = destination / os.path.relpath(root, folder)
        for file in sorted(files):
            path = Path(root, file)
            if file.startswith(".") or not path.is_file():
                continue
            if path.suffix.lower() in extensions:
                found.append((path, Path(os.path.normpath(out))))
            else:
                skipped.append(path)
        if not recursive:
            break
    return found, skipped, subfolders, unreadable


def _fixed_prefix(pattern: str) -> Path:
    """The folders of a glob pattern before its first wildcard: ``coll`` for
    ``coll/**/*.jpg``, ``.`` for ``*.png``."""
    parts = Path(pattern).parts
    fixed = []
    for part in parts[:-1]:
        if _GLOB_MAGIC.search(part):
            break
        fixed.append(part)
    return Path(*fixed) if fixed else Path(".")


def _below(folder: Path, top: Path) -> str:
    """``folder`` relative to ``top`` with a trailing ``/`` (``""`` when the same)."""
    relative = os.path.relpath(folder, top)
    if relative == "." or relative.startswith(".."):
        return ""
    return Path(relative).as_posix() + "/"


def _check_collisions(jobs: list[Job], template: str) -> None:
    """Two inputs for one output, or an output that is another input: usage errors."""
    by_target: dict[str, Job] = {}
    sources = {os.path.abspath(job.source): job for job in jobs}
    inodes = {_inode(job.source): job for job in jobs}  # links and case aliases too
    inodes.pop(None, None)
    for job in jobs:
        for output in job.outputs:
            _check_one(job, output, template, by_target, sources, inodes)


def _check_one(
    job: Job,
    output: Path,
    template: str,
    by_target: dict[str, Job],
    sources: dict[str, Job],
    inodes: dict[tuple[int, int] | None, Job],
) -> None:
    key = os.path.abspath(output)
    other = by_target.get(key)
    if other is not None:
        fix = (
            "{stem}.{ext}.png" if other.source.suffix != job.source.suffix else "{stem}-{index}.png"
        )
        if template == fix:
            fix = "{index}-{stem}.{ext}.png"
        apart = f"--name '{fix}'"
        if other.below != job.below and "{dir" not in template:
            apart = f"-r (mirror their folders) or {apart}"
        raise PlanError(
            f"{other.source} and {job.source} would both be written to this file; "
            f"tell them apart with {apart}",
            output,
        )
    by_target[key] = job
    victim = sources.get(key) or inodes.get(_inode(output))
    if victim is not None and victim is not job:
        raise PlanError(
            f"the output of {job.source} would overwrite the input {victim.source}; "
            "choose another destination or --name",
            output,
        )


def _check_compare_collisions(jobs: list[Job]) -> None:
    """``--compare`` writes ``<stem>.compare.png`` too: never over another job's files."""
    outputs = {os.path.abspath(job.target): job for job in jobs}
    inputs = {os.path.abspath(job.source): job for job in jobs}
    inodes = {_inode(job.source): job for job in jobs}  # links and case aliases too
    inodes.pop(None, None)
    for job in jobs:
        path = compare_path(job.target)
        key = os.path.abspath(path)
        for taken, what in ((outputs, "output of"), (inputs, "input")):
            other = taken.get(key)
            if other is None and what == "input":
                other = inodes.get(_inode(path))
            if other is not None and other is not job:
                raise PlanError(
                    f"the --compare picture of {job.source} would overwrite the {what} "
                    f"{other.source}; choose another destination or --name",
                    path,
                )
        outputs[key] = job


def _inode(path: Path) -> tuple[int, int] | None:
    """The file a path leads to (symlinks followed), or None if there is none."""
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    return (info.st_dev, info.st_ino)


def _settle(job: Job, *, overwrite: bool, skip: bool) -> Result | None:
    """The per-file checks that need no pixels: missing input, existing output."""
    if not (job.source.exists() or job.source.is_symlink()):
        return Result.of_job(job, "failed", ConvcliError("no such file", job.source))
    exists = skip and all(p.exists() and not p.is_dir() for p in job.outputs)
    if exists and not is_same_file(job.source, job.target):
        return Result.of_job(job, "skipped", ConvcliError("output exists", job.target))
    if not job.target.parent.is_dir():
        return None  # a folder the run creates (or, for one file, reports as missing)
    try:
        for output in job.outputs:
            check_target(job.source, output, overwrite=overwrite)
    except ConvcliError as exc:
        return Result.of_job(job, "failed", exc)
    return None
