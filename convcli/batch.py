"""Plan, run, report: turning ``apply``'s arguments into written files.

1. :func:`plan` maps inputs (files, folders, glob patterns) to jobs with output
   paths, with every check that needs no pixels done up front: a usage mistake
   (two inputs for one output, a bad ``--name``) costs nothing, and inputs that
   are missing, empty folders, non-images or existing outputs are settled as
   failed or skipped results before any work starts.
2. :func:`run` hands the jobs to an executor that maps :func:`process` (one
   job through ``pipeline.process``) over them and yields a :class:`Result`
   per job as it finishes; a bad file fails alone. :class:`SerialExecutor`
   runs in this process, :class:`ProcessExecutor` in worker processes with at
   most about two jobs per worker queued, so memory stays bounded whatever the
   batch size. Jobs travel as paths, never as pixels.
3. The caller reports. Progress leaves through the results (and an optional
   ``on_start`` callback), never a print.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import signal
import string
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Protocol, TypeVar

from . import pipeline
from .errors import ConvcliError, OutputError
from .limits import IMAGE_FORMATS, temporary_stem
from .pipeline import Options

__all__ = [
    "DEFAULT_NAME",
    "Executor",
    "Job",
    "Plan",
    "PlanError",
    "ProcessExecutor",
    "Result",
    "SerialExecutor",
    "default_workers",
    "image_extensions",
    "plan",
    "process",
    "run",
    "usable_cpus",
]

DEFAULT_NAME = "{stem}.png"
NAME_FIELDS = ("stem", "ext", "kernel", "padding", "index")
_GLOB_MAGIC = re.compile(r"[*?[]")


class PlanError(ConvcliError):
    """The arguments cannot be turned into jobs (a usage error, exit 2)."""


@dataclass(frozen=True)
class Job:
    source: Path
    target: Path
    index: int = 1  # 1-based, in input order: the template's {index}


@dataclass(frozen=True)
class Result:
    """What became of one input: ``ok``, ``skipped`` or ``failed`` (and why)."""

    source: Path
    target: Path | None
    status: str  # "ok", "skipped" or "failed"
    reason: str = ""
    path: Path | None = None  # the file the reason is about (input or output)
    index: int | None = None
    input_size: tuple[int, int] | None = None  # (width, height) as loaded
    output_size: tuple[int, int] | None = None
    seconds: float = 0.0
    warnings: tuple[str, ...] = ()  # about the input, one line each
    error: ConvcliError | None = None  # the exception behind a failure, for --debug
    raw_range: tuple[float, float] | None = None  # the float result's min and max
    clipped: float | None = None  # share of pixels that clipping changed

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def message(self) -> str:
        """``<path>: <reason>``, the CLI's error line without its prefix."""
        return f"{self.path}: {self.reason}" if self.path else self.reason

    @classmethod
    def of_job(cls, job: Job, status: str, error: ConvcliError | None = None) -> Result:
        return cls(
            job.source,
            job.target,
            status,
            reason=error.reason if error else "",
            path=Path(error.path) if error and error.path else job.source,
            index=job.index,
            error=error,
        )


@dataclass(frozen=True)
class Plan:
    jobs: list[Job]
    folder: Path | None = None  # destination folder, created when the run starts
    settled: list[Result] = field(default_factory=list)  # decided without pixels

    @property
    def total(self) -> int:
        return len(self.jobs) + len(self.settled)


# --- plan -------------------------------------------------------------------------


def image_extensions() -> frozenset[str]:
    """Lower-case suffixes (``.jpg``) of the formats convcli reads: those of
    :data:`limits.IMAGE_FORMATS` that this Pillow can open."""
    from PIL import Image

    Image.init()
    return frozenset(
        ext.lower()
        for ext, fmt in Image.registered_extensions().items()
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
    pattern matches land flat in the destination. One plain file input and a
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
        "kernel": "+".join(k.name for k in options.kernels) if options else "kernel",
        "padding": options.padding if options else "valid",
    }
    template = _check_template(name if name is not None else DEFAULT_NAME, fields)
    slash = os.fspath(destination).endswith(("/", os.sep))
    destination = Path(destination)
    sources: list[tuple[Path, Path]] = []  # (input file, output folder)
    settled: list[Result] = []
    expanded_any = False
    seen: set[str] = set()
    extensions: frozenset[str] | None = None

    def add(source: Path, folder: Path) -> None:
        key = os.path.abspath(source)
        if key not in seen:
            seen.add(key)
            sources.append((source, folder))

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
                add(source, folder)
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
            for match in map(Path, matches):
                if match.suffix.lower() in extensions:
                    add(match, destination)
                else:
                    settled.append(Result(match, None, "skipped", "not an image file", match))

    as_folder = len(inputs) > 1 or expanded_any or slash or name is not None
    as_folder = as_folder or destination.is_dir()
    if as_folder and destination.exists() and not destination.is_dir():
        raise PlanError("is not a folder, but the inputs need one", destination)
    jobs = []
    for index, (source, folder) in enumerate(sources, start=1):
        target = folder / _render(template, source, fields, index) if as_folder else destination
        jobs.append(Job(source, target, index))
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


def _check_template(template: str, fields: dict[str, str]) -> str:
    """Refuse a ``--name`` template that cannot make a file name."""
    try:
        names = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as exc:
        raise PlanError(f"--name {template!r}: {exc}") from None
    for name in names:
        if name not in NAME_FIELDS:
            raise PlanError(
                f"--name {template!r}: unknown field {{{name}}}; "
                f"use {', '.join('{' + f + '}' for f in NAME_FIELDS)}"
            )
    try:
        sample = _render(template, Path("photo.jpg"), fields, 1)
    except (ValueError, TypeError, IndexError) as exc:
        raise PlanError(f"--name {template!r}: {exc}") from None
    if "/" in sample or os.sep in sample or sample in ("", ".", ".."):
        raise PlanError(f"--name {template!r}: must make a file name, not a path")
    return template


def _render(template: str, source: Path, fields: dict[str, str], index: int) -> str:
    return template.format(
        stem=source.stem,
        ext=source.suffix[1:],
        kernel=re.sub(r"[^\w.+-]+", "-", fields["kernel"]).strip("-") or "kernel",
        padding=fields["padding"],
        index=index,
    )


def _check_collisions(jobs: list[Job], template: str) -> None:
    """Two inputs for one output, or an output that is another input: usage errors."""
    by_target: dict[str, Job] = {}
    sources = {os.path.abspath(job.source): job for job in jobs}
    inodes = {_inode(job.source): job for job in jobs}  # links and case aliases too
    inodes.pop(None, None)
    for job in jobs:
        key = os.path.abspath(job.target)
        other = by_target.get(key)
        if other is not None:
            fix = (
                "{stem}.{ext}.png"
                if other.source.suffix != job.source.suffix
                else "{stem}-{index}.png"
            )
            if template == fix:
                fix = "{index}-{stem}.{ext}.png"
            raise PlanError(
                f"{other.source} and {job.source} would both be written to this file; "
                f"tell them apart with --name '{fix}'",
                job.target,
            )
        by_target[key] = job
        victim = sources.get(key) or inodes.get(_inode(job.target))
        if victim is not None and victim is not job:
            raise PlanError(
                f"the output of {job.source} would overwrite the input {victim.source}; "
                "choose another destination or --name",
                job.target,
            )


def _check_compare_collisions(jobs: list[Job]) -> None:
    """``--compare`` writes ``<stem>.compare.png`` too: never over another job's files."""
    outputs = {os.path.abspath(job.target): job for job in jobs}
    inputs = {os.path.abspath(job.source): job for job in jobs}
    inodes = {_inode(job.source): job for job in jobs}  # links and case aliases too
    inodes.pop(None, None)
    for job in jobs:
        path = pipeline.compare_path(job.target)
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
    exists = skip and job.target.exists() and not job.target.is_dir()
    if exists and not pipeline.is_same_file(job.source, job.target):
        return Result.of_job(job, "skipped", ConvcliError("output exists", job.target))
    if not job.target.parent.is_dir():
        return None  # a folder the run creates (or, for one file, reports as missing)
    try:
        pipeline.check_target(job.source, job.target, overwrite=overwrite)
    except ConvcliError as exc:
        return Result.of_job(job, "failed", exc)
    return None


# --- run ----------------------------------------------------------------------------

T = TypeVar("T")
R = TypeVar("R")


class Executor(Protocol):
    """Maps ``fn`` over ``items``, pulling items lazily, yielding results as they finish.

    When ``items`` runs dry, the executor drains what is in flight and stops;
    that is how ``--fail-fast`` stops it. ``on_error(item, exc)`` turns an
    infrastructure failure (a worker process that died) into a result.
    """

    def map_unordered(
        self,
        fn: Callable[[T], R],
        items: Iterable[T],
        on_error: Callable[[T, BaseException], R],
    ) -> Iterator[R]: ...


class SerialExecutor:
    """One job after another, in this process (``-j 1``)."""

    def map_unordered(
        self,
        fn: Callable[[T], R],
        items: Iterable[T],
        on_error: Callable[[T, BaseException], R],
    ) -> Iterator[R]:
        for item in items:
            yield fn(item)


class ProcessExecutor:
    """``workers`` processes; at most ``2 * workers`` jobs submitted at a time.

    Workers start with SIGINT blocked and ignore it: on Ctrl-C the parent gets
    ``KeyboardInterrupt``,
    stops the workers with SIGTERM (each unwinds, so the writer deletes its
    temporary file) and re-raises. When a worker dies (a crash in a decoder,
    the OOM killer), the pool is restarted and the jobs that were in flight are
    retried one at a time, so only the culprit fails; when they keep dying
    (workers that cannot start, say), :class:`BrokenProcessPool` is raised.
    """

    max_crashes = 3

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.workers = workers

    def map_unordered(
        self,
        fn: Callable[[T], R],
        items: Iterable[T],
        on_error: Callable[[T, BaseException], R],
    ) -> Iterator[R]:
        items = iter(items)
        window = 2 * self.workers
        pool = self._pool()
        pending: dict[Future[R], T] = {}
        suspects: deque[T] = deque()  # in flight when a worker died
        crashes = 0  # suspects in a row that killed a worker: more than chance
        exhausted = False
        try:
            while True:
                if suspects:  # after a crash, one at a time: only the culprit fails
                    item = suspects.popleft()
                    try:
                        with _sigint_held():
                            future = pool.submit(fn, item)
                        value = future.result()
                        crashes = 0
                    except BrokenProcessPool as exc:
                        crashes += 1
                        if crashes >= self.max_crashes:
                            raise BrokenProcessPool(
                                f"worker processes died on {crashes} jobs in a row, "
                                "even one at a time (try -j 1)"
                            ) from exc
                        value = on_error(item, exc)
                        pool = self._restart(pool)
                    yield value
                    continue
                while not exhausted and len(pending) < window:
                    item = next(items, _END)  # type: ignore[arg-type]
                    if item is _END:
                        exhausted = True
                        break
                    with _sigint_held():  # may start workers: see _sigint_held
                        pending[pool.submit(fn, item)] = item
                if not pending:
                    break
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                values = []
                for future in done:
                    item = pending.pop(future)
                    try:
                        values.append(future.result())
                        crashes = 0
                    except BrokenProcessPool:
                        suspects.append(item)
                if suspects:  # the pool is gone, and every job still in it
                    suspects.extend(pending.values())
                    pending.clear()
                    pool = self._restart(pool)
                yield from values
        except BaseException:
            _stop(pool)
            raise
        pool.shutdown(wait=True)

    def _restart(self, pool: ProcessPoolExecutor) -> ProcessPoolExecutor:
        pool.shutdown(wait=True)
        return self._pool()

    def _pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self.workers, mp_context=_mp_context(), initializer=_init_worker)


_END = object()


@contextlib.contextmanager
def _sigint_held() -> Iterator[None]:
    """Hold Ctrl-C back while worker processes may be started.

    Processes inherit the signal mask, so workers (and the forkserver) start
    with SIGINT blocked: a Ctrl-C from the terminal, which signals the whole
    process group, never reaches them half-started (with a traceback) and the
    parent alone decides. In the parent a Ctrl-C that arrives meanwhile (or
    just before, still pending in Python) is raised only once the block ends,
    so it never interrupts the pool between starting a worker and
    registering it (an unregistered worker would outlive the run).
    """
    caught: list[int] = []
    try:
        handler = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    except ValueError:  # not the main thread, where Python never runs signal handlers
        handler = _END
    mask = None
    if hasattr(signal, "pthread_sigmask"):
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        if mask is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        if handler is not _END:
            signal.signal(signal.SIGINT, signal.default_int_handler if handler is None else handler)
    if caught:
        raise KeyboardInterrupt


def _mp_context():  # type: ignore[no-untyped-def]
    """Fresh workers that do not inherit the parent's threads (Rich's refresh
    thread, say): forkserver where there is one, else spawn."""
    import multiprocessing

    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    # Workers fork from a server that has imported these once: fast start.
    context.set_forkserver_preload(["convcli.batch", "numpy", "PIL.Image", "PIL.PngImagePlugin"])
    return context


def _init_worker() -> None:
    global _IN_WORKER
    _IN_WORKER = True
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides
    signal.signal(signal.SIGTERM, _on_sigterm)


def _on_sigterm(signum: int, frame: object) -> None:
    # Unwind (the writer's cleanup deletes its temporary file), then exit.
    raise SystemExit(128 + signum)


def _stop(pool: ProcessPoolExecutor) -> None:
    """Stop the workers now, without waiting for their jobs."""
    previous = None
    with contextlib.suppress(ValueError):  # not the main thread: cannot mask SIGINT
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C waits
    try:
        processes = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in processes:
            with contextlib.suppress(OSError):
                proc.terminate()
        for proc in processes:
            proc.join(timeout=10)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def usable_cpus() -> int:
    """CPUs this process may run on (affinity-aware where the OS says)."""
    count = getattr(os, "process_cpu_count", None)
    if count is not None:
        return count() or 1
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def default_workers(jobs: int) -> int:
    """The usable CPUs, but at most one per 4 jobs: starting a worker costs
    about as much as filtering a few photos, so a small batch runs in-process."""
    return max(1, min(usable_cpus(), jobs // 4))


def process(job: Job, options: Options) -> Result:
    """Run one job; any failure becomes a failed Result, so a bad file fails alone."""
    start = time.perf_counter()
    try:
        outcome = pipeline.process(job.source, job.target, options)
    except ConvcliError as exc:
        return _timed(Result.of_job(job, "failed", exc), start)
    except SystemExit:  # SIGTERM in a worker, after the writer cleaned up
        if _IN_WORKER:
            os._exit(143)
        raise
    except Exception as exc:  # a bug or an odd file: report it, keep going
        reason = f"unexpected error: {type(exc).__name__}: {exc}"
        error = ConvcliError(reason, job.source)
        error.__cause__ = exc  # so that --debug can show where it came from
        return _timed(Result.of_job(job, "failed", error), start)
    return Result(
        job.source,
        job.target,
        "ok",
        index=job.index,
        input_size=outcome.input_size,
        output_size=outcome.output_size,
        seconds=time.perf_counter() - start,
        warnings=outcome.warnings,
        raw_range=(outcome.raw_min, outcome.raw_max),  # type: ignore[arg-type]
        clipped=outcome.clipped,
    )


_IN_WORKER = False


def _timed(result: Result, start: float) -> Result:
    return replace(result, seconds=time.perf_counter() - start)


def _worker_died(job: Job, exc: BaseException) -> Result:
    _sweep_temporaries(job)  # a process killed outright could not clean up
    error = ConvcliError("the worker process died (out of memory?) while on this file", job.source)
    return Result.of_job(job, "failed", error)


def _sweep_temporaries(job: Job) -> None:
    """Delete the writer's temporary files (``.<name>.<token>.tmp``) for this
    job's outputs, left only if the process writing them was killed or hit
    between creating one and guarding it."""
    names = [job.target.name, pipeline.compare_path(job.target).name]
    for name in names:
        pattern = re.compile(rf"\.{re.escape(temporary_stem(name))}\.\w+\.tmp")
        with contextlib.suppress(OSError):
            for entry in os.scandir(job.target.parent):
                if pattern.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)


def run(
    plan: Plan,
    options: Options,
    *,
    jobs: int | None = 1,
    fail_fast: bool = False,
    executor: Executor | None = None,
    on_start: Callable[[Job], None] | None = None,
) -> Iterator[Result]:
    """Yield the plan's settled results, then one result per job as it finishes.

    ``jobs``: worker processes (``None``: :func:`default_workers`); 1 runs in
    this process. ``fail_fast``: after the first failure no new job starts (those in
    flight finish). ``on_start(job)`` is called as each job is handed out.
    Interrupted (``KeyboardInterrupt`` while waiting), it stops the workers,
    yields an ``ok`` result (without sizes) for each job whose output they
    finished but could not report, deletes the temporary files of the others
    and re-raises. Raises :class:`ConvcliError` if worker processes keep dying.
    """
    stop = False
    for result in plan.settled:
        yield result
        if fail_fast and result.status == "failed":
            return
    if not plan.jobs:
        return
    if plan.folder is not None:
        try:
            plan.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            error = OutputError(f"cannot create folder: {exc.strerror or exc}", plan.folder)
            for job in plan.jobs:
                yield Result.of_job(job, "failed", error)
            return
    if executor is None:
        workers = default_workers(len(plan.jobs)) if jobs is None else min(jobs, len(plan.jobs))
        executor = ProcessExecutor(workers) if workers > 1 else SerialExecutor()

    in_flight: dict[Path, Job] = {}

    def handed_out() -> Iterator[Job]:
        made: set[Path] = set()
        for job in plan.jobs:
            if stop:
                return
            in_flight[job.target] = job
            folder = job.target.parent
            if plan.folder is not None and folder not in made:  # -r: mirrored sub-folders
                with contextlib.suppress(OSError):  # the writer reports it properly
                    folder.mkdir(parents=True, exist_ok=True)
                made.add(folder)
            if on_start is not None:
                on_start(job)
            yield job

    work = partial(process, options=options)
    started = time.time()
    results = iter(executor.map_unordered(work, handed_out(), _worker_died))
    try:
        for result in results:
            in_flight.pop(result.target, None)  # type: ignore[arg-type]
            yield result
            if fail_fast and result.status == "failed":
                stop = True
    except BrokenProcessPool as exc:
        raise ConvcliError(str(exc)) from exc
    except KeyboardInterrupt:
        _close(results)  # workers stopped: now see which of their jobs got done
        for job in list(in_flight.values()):
            if _written_since(job, started, options):
                del in_flight[job.target]
                yield Result(job.source, job.target, "ok", index=job.index)
        raise
    finally:  # interrupted or abandoned: let the executor stop its workers now
        _close(results)
        for job in in_flight.values():
            _sweep_temporaries(job)


def _close(results: Iterator[Result]) -> None:
    close = getattr(results, "close", None)
    if close is not None:
        close()


def _written_since(job: Job, started: float, options: Options) -> bool:
    """Did this run write the job's output(s), though its result never came back?

    The writer renames complete files into place, so an output that exists
    is whole; it is ours if the plan saw no file there or it is newer than the
    run's start (``--overwrite``)."""
    paths = (
        [job.target, pipeline.compare_path(job.target)] if options.write.compare else [job.target]
    )
    try:
        return all(
            p.is_file() and (not options.write.overwrite or p.stat().st_mtime >= started)
            for p in paths
        )
    except OSError:
        return False
