"""One job, run: :func:`run_job` and the :class:`Result` every input ends as.

``run_job`` is what an executor maps over the plan's jobs, wherever it runs
them (this process, a worker process, a cluster). It turns every failure of
the file into a failed :class:`Result`, so a bad file fails alone; only
``BaseException`` s that are not errors (``SystemExit``, ``KeyboardInterrupt``)
pass through, for the executor to act on.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from .. import pipeline
from ..errors import ConvcliError
from ..options import Options

if TYPE_CHECKING:  # plan.py builds Results; a Job is only read here
    from .plan import Job

__all__ = ["Result", "run_job"]


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
    geometry: dict[str, object] | None = None  # pads, stride, dilation, maps (for --json)
    targets: tuple[Path, ...] = ()  # one file per map, when several were written

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


def run_job(options: Options, job: Job) -> Result:
    """Run one job through the pipeline; any failure becomes a failed Result.

    ``options`` comes first: it is the executor's ``context``, the same for
    every job (shipped once per worker where the executor can).
    """
    start = time.perf_counter()
    try:
        outcome = pipeline.process(job.source, job.target, options, job.targets)
    except ConvcliError as exc:
        return _timed(Result.of_job(job, "failed", exc), start)
    except Exception as exc:  # a bug or an odd file: report it, keep going
        reason = f"unexpected error: {type(exc).__name__}: {exc}"
        error = ConvcliError(reason, job.source)
        error.__cause__ = exc  # so that --debug can show where it came from
        return _timed(Result.of_job(job, "failed", error), start)
    low, high = outcome.raw_min, outcome.raw_max
    return Result(
        job.source,
        job.target,
        "ok",
        index=job.index,
        input_size=outcome.input_size,
        output_size=outcome.output_size,
        seconds=time.perf_counter() - start,
        warnings=outcome.warnings,
        raw_range=None if low is None or high is None else (low, high),
        clipped=outcome.clipped,
        geometry=outcome.geometry,
        targets=job.targets,
    )


def _timed(result: Result, start: float) -> Result:
    return replace(result, seconds=time.perf_counter() - start)
