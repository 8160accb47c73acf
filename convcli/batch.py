"""Plan, run, report: turning ``apply``'s arguments into written files.

1. :func:`plan` maps inputs to output paths, with every check that needs no
   pixels done up front (so a usage mistake costs nothing).
2. :func:`run` maps :func:`process` (``pipeline.process`` for one job) over the jobs and yields a
   :class:`Result` per job as it finishes; a bad file fails alone.
3. The caller reports. Progress leaves through the results, never a print.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from . import pipeline
from .errors import ConvcliError, OutputError
from .pipeline import Options

__all__ = ["Job", "Plan", "PlanError", "Result", "plan", "process", "run"]


class PlanError(ConvcliError):
    """The arguments cannot be turned into jobs (a usage error, exit 2)."""


@dataclass(frozen=True)
class Job:
    source: Path
    target: Path


@dataclass(frozen=True)
class Plan:
    jobs: list[Job]
    folder: Path | None = None  # destination folder, created when the run starts


@dataclass(frozen=True)
class Result:
    job: Job
    status: str  # "ok" or "failed"
    reason: str = ""
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


def plan(inputs: Sequence[str | os.PathLike[str]], destination: str | os.PathLike[str]) -> Plan:
    """Map inputs to outputs the way ``cp`` does.

    Several inputs: ``destination`` is a folder. One input: a folder if it
    exists as one or is written with a trailing slash, else the output file.
    Outputs are ``<stem>.png`` inside a folder.
    """
    if not inputs:
        raise PlanError("no input files given")
    slash = os.fspath(destination).endswith(("/", os.sep))
    destination = Path(destination)
    as_folder = len(inputs) > 1 or slash or destination.is_dir()
    if as_folder and destination.exists() and not destination.is_dir():
        raise PlanError("is not a folder, but several inputs need one", destination)
    jobs = [
        Job(Path(source), destination / f"{Path(source).stem}.png" if as_folder else destination)
        for source in inputs
    ]
    seen: dict[Path, Path] = {}
    for job in jobs:
        if job.target in seen:
            raise PlanError(
                f"{seen[job.target]} and {job.source} would both be written to this file",
                job.target,
            )
        seen[job.target] = job.source
    return Plan(jobs, destination if as_folder else None)


def process(job: Job, options: Options) -> Result:
    """Run one job; a user-facing failure becomes a failed Result, never an exception."""
    start = time.perf_counter()
    try:
        outcome = pipeline.process(job.source, job.target, options)
    except ConvcliError as exc:
        return Result(job, "failed", str(exc), seconds=time.perf_counter() - start, error=exc)
    return Result(
        job,
        "ok",
        input_size=outcome.input_size,
        output_size=outcome.output_size,
        seconds=time.perf_counter() - start,
        warnings=outcome.warnings,
        raw_range=(outcome.raw_min, outcome.raw_max),  # type: ignore[arg-type]
        clipped=outcome.clipped,
    )


def run(
    plan: Plan,
    options: Options,
    *,
    worker: Callable[[Job, Options], Result] = process,
) -> Iterator[Result]:
    """Process the plan's jobs in order, in this process, yielding each result."""
    if plan.folder is not None:
        try:
            plan.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            reason = str(OutputError(f"cannot create folder: {exc.strerror or exc}", plan.folder))
            for job in plan.jobs:
                yield Result(job, "failed", reason)
            return
    for job in plan.jobs:
        yield worker(job, options)
