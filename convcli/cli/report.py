"""How a batch shows itself: progress bar, error lines and summary on stderr, --json on stdout."""

from __future__ import annotations

import contextlib
import sys
import time
import traceback
from typing import TYPE_CHECKING, Any

from ..errors import OutputExists, one_line
from . import common
from .plain import escape
from .streams import StdoutClosed, write_stdout

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress


class BatchReport:
    """Progress bar, error lines, final summary (stderr) and --json (stdout)."""

    def __init__(self, total: int, *, quiet: bool, as_json: bool, settings: dict[str, Any]) -> None:
        self.total = total
        self.quiet = quiet
        self.as_json = as_json
        self.settings = settings
        self.counts = {"ok": 0, "skipped": 0, "failed": 0}
        self.skip_reasons: dict[str, int] = {}
        self.failures: list[Any] = []
        self.megapixels = 0.0
        self.interrupted: str | None = None  # "interrupted", "terminated (SIGTERM)"...
        self.retried = 0  # files run again because their (Dask) worker died
        self.aborted: str | None = None
        self.last: Any = None
        self.start = time.perf_counter()
        self.progress: Progress | None = None
        self.task: Any = None
        self._first_file = True
        self._json_closed = False
        self.stdout_closed = False  # the reader of --json went away (EPIPE)
        self.existing: list[Any] = []  # failed because the output exists
        self._existing_said = 0

    def __enter__(self) -> BatchReport:
        if self.as_json:
            head = _dumps({"options": self.settings})[:-1]
            self._write(head + ', "files": [')
        if not self.quiet and self.total > 1 and common.stderr().is_terminal:
            self.progress = _progress_bar()
            self.progress.start()
            self.task = self.progress.add_task("filtering", total=self.total, current="")
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()
        if exc_type is not None and self.as_json:  # a bug: still one whole JSON document
            self.aborted = self.aborted or f"internal error: {exc_type.__name__}"
            self._close_json()

    def abort(self, error: Exception) -> None:
        self.aborted = str(error)
        common.say("error", str(error))

    def started(self, job: Any) -> None:
        if self.progress is not None:
            self.progress.update(self.task, current=str(job.source))

    def add(self, result: Any) -> None:
        self.counts[result.status] += 1
        self.last = result
        if not self.quiet:
            for warning in result.warnings:
                common.say("warning", f"{result.source}: {warning}")
        if result.status == "failed" and isinstance(result.error, OutputExists):
            self.existing.append(result)  # said once, as a group: see _say_existing
        elif result.status == "failed":
            self._say_existing()
            self.failures.append(result)
            if common.debug and result.error is not None:
                traceback.print_exception(result.error, file=sys.stderr)
            common.say("error", result.message)
        elif result.status == "skipped":
            self.skip_reasons[result.reason] = self.skip_reasons.get(result.reason, 0) + 1
        elif result.input_size is not None:  # (not known for a job cut short by Ctrl-C)
            w, h = result.input_size
            self.megapixels += w * h / 1e6
        if self.progress is not None:
            self.progress.advance(self.task)
        if self.as_json:
            self._write(("\n  " if self._first_file else ",\n  ") + _dumps(json_entry(result)))
            self._first_file = False

    def _say_existing(self) -> None:
        """One line for every output found in the way so far, not one line each.

        The plan settles them before any job runs, so they come first and
        make one group.
        """
        group = self.existing[self._existing_said :]
        self._existing_said = len(self.existing)
        if len(group) == 1 and self.total == 1:
            common.say("error", group[0].message)
        elif group:
            common.say("error", existing_line(group))

    def _write(self, text: str) -> None:
        """Straight to stdout (never through the progress bar), every byte or StdoutClosed."""
        if self.stdout_closed:
            raise StdoutClosed
        try:
            write_stdout(text)
        except StdoutClosed:
            self.stdout_closed = True
            raise

    def _close_json(self) -> None:
        if self._json_closed or self.stdout_closed:
            return
        self._json_closed = True
        seconds = time.perf_counter() - self.start
        summary = {
            **self.counts,
            "total": self.total,
            "not_run": self.total - sum(self.counts.values()),
            "interrupted": bool(self.interrupted),
            "retried": self.retried,
            "error": self.aborted,
            "megapixels": round(self.megapixels, 3),
            "seconds": round(seconds, 3),
            "images_per_second": round(self.counts["ok"] / seconds if seconds > 0 else 0.0, 2),
        }
        self._write("\n], " + _dumps({"summary": summary})[1:] + "\n")

    def finish(self, options: Any) -> None:
        seconds = time.perf_counter() - self.start
        done = sum(self.counts.values())
        rate = self.counts["ok"] / seconds if seconds > 0 else 0.0
        self._say_existing()
        if self.as_json:
            with contextlib.suppress(StdoutClosed):  # self.stdout_closed says so below
                self._close_json()
        if self.stdout_closed:
            common.say("stopped", "stdout was closed by the program reading it")
        if self.quiet:
            return
        stopped = self.interrupted or self.stdout_closed
        if self.total == 1 and self.last is not None and self.last.ok and not stopped:
            print_done(self.last, options)
            return
        if self.total == 0 or (self.total == 1 and self.counts["failed"] and not self.aborted):
            return  # the error line says it all
        common.stderr().print(self._summary(seconds, done, rate), soft_wrap=True)

    def _summary(self, seconds: float, done: int, rate: float) -> Any:
        c = self.counts
        stop = self.interrupted or ("interrupted" if self.stdout_closed else None)
        head = f"[bold yellow]{stop}:[/] " if stop else ""
        head = "[bold red]stopped:[/] " if self.aborted else head
        line = f"{head}{c['ok']} written, {c['skipped']} skipped, {c['failed']} failed"
        if self.existing:  # named once, in the line printed when they were found
            line += f" ({len(self.existing)} already there)"
        if done < self.total:
            line += f", {self.total - done} not run"
        line += (
            f" in {seconds:.2f} s  [dim]({rate:.1f} images/s, {self.megapixels:.1f} megapixels)[/]"
        )
        if self.retried:
            files = "file" if self.retried == 1 else "files"
            line += f"\n[dim]retried: {self.retried} {files} whose worker died ran again[/]"
        if self.skip_reasons:
            reasons = ", ".join(f"{n} {why}" for why, n in sorted(self.skip_reasons.items()))
            line += f"\n[dim]skipped: {reasons}[/]"
        if self.failures:
            line += "\n[bold red]failed:[/]"
            for result in self.failures:
                line += f"\n  {_escape(one_line(result.message))}"
        return line


def existing_line(results: list[Any], names: int = 3) -> str:
    """``N outputs already exist: a.png, b.png and 4 more (...)``, with both ways on."""
    shown = [one_line(str(r.path or r.target)) for r in results[:names]]
    more = len(results) - len(shown)
    listed = ", ".join(shown) + (f" and {more} more" if more and shown else "")
    head = (
        "1 output already exists" if len(results) == 1 else f"{len(results)} outputs already exist"
    )
    return (
        f"{head}{': ' + listed if shown else ''} "
        "(--skip-existing to resume, skipping them; --overwrite to replace them)"
    )


def _progress_bar() -> Progress:
    """done/total, images/s, elapsed, remaining, current file; gone when finished.

    Rich's progress module is imported here, only for a batch on a terminal.
    """
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class RateColumn(ProgressColumn):
        """Images per second, from Rich's own speed estimate."""

        def render(self, task: Any) -> Text:
            speed = task.finished_speed or task.speed
            return Text(f"{speed:.1f} img/s" if speed else "- img/s", style="progress.data.speed")

    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[current]}", style="dim"),
        console=_rich_stderr(),
        transient=True,
        # Rich's default would also capture stdout and draw it above the bar:
        # --json would then go to the terminal, not to the file or pipe.
        redirect_stdout=False,
    )


def json_entry(result: Any) -> dict[str, Any]:
    def size_of(path: Any) -> int | None:
        try:
            return path.stat().st_size if path is not None else None
        except OSError:
            return None

    return {
        "index": result.index,
        "input": str(result.source),
        "output": None if result.target is None else str(result.target),
        "status": result.status,
        "reason": result.reason or None,
        "input_size": list(result.input_size) if result.input_size else None,
        "output_size": list(result.output_size) if result.output_size else None,
        "input_bytes": size_of(result.source),
        "output_bytes": size_of(result.target) if result.ok else None,
        "seconds": round(result.seconds, 4),
        # The float result before clipping, and the share of pixels clipping changed.
        "raw_min": result.raw_range[0] if result.raw_range else None,
        "raw_max": result.raw_range[1] if result.raw_range else None,
        "clipped": result.clipped,
        # The geometry for learners: what the first convolution padded, its steps, the maps.
        **(result.geometry or dict.fromkeys(("pads", "stride", "dilation", "maps"))),
        **({"outputs": [str(p) for p in result.targets]} if result.targets else {}),
    }


def print_done(result: Any, options: Any) -> None:
    (w, h), (ow, oh) = result.input_size, result.output_size
    common.stderr().print(
        f"[green]✓[/] {_escape(one_line(str(result.source)))} [dim]({w}x{h})[/] → "
        f"[bold]{_escape(one_line(str(result.target)))}[/]{_more(result)} [dim]({ow}x{oh})[/]  "
        f"{_escape(_describe(options))}, {options.padding}{_pads(result)}, "
        f"{result.seconds * 1000:.0f} ms"
        f"{_values(result)}",
        soft_wrap=True,
    )


def _pads(result: Any) -> str:
    """`` (pads 0,1,0,1)``: top, bottom, left, right, when the padding added any."""
    pads = (getattr(result, "geometry", None) or {}).get("pads")
    if not pads or not any(pads.values()):
        return ""
    return " (pads {top},{bottom},{left},{right})".format(**pads)


def _more(result: Any) -> str:
    """`` and 7 more`` after the first map's file, when each map has its own."""
    extra = len(getattr(result, "targets", ()) or ()) - 1
    return f" [dim]and {extra} more[/]" if extra > 0 else ""


def _describe(options: Any) -> str:
    """The filtering in a few words: ``sobel-x then sobel-y``, ``conv1.npy (64 maps)``..."""
    from ..steps import Convolve, Filters

    parts = []
    for step in options.steps:
        if isinstance(step, Convolve):
            parts.append(step.name)
        elif isinstance(step, Filters):
            named = (
                step.bank.name
                if step.bank is not None
                else " and ".join(k.name for k in step.kernels)
            )
            parts.append(f"{named} ({step.maps} map{'' if step.maps == 1 else 's'})")
        else:
            doc = step.describe()
            parts.append(str(doc.get("mode") or doc.get("kind") or doc["step"]))
    text = " then ".join(parts)
    geometry = options.filters[0]
    if geometry.stride != (1, 1):
        text += f", stride {','.join(map(str, geometry.stride))}"
    if geometry.dilation != (1, 1):
        text += f", dilation {','.join(map(str, geometry.dilation))}"
    return text


def _values(result: Any) -> str:
    """The raw result's range and how much clipping changed, when known."""
    if getattr(result, "raw_range", None) is None:
        return ""
    low, high = result.raw_range
    clipped = f", {result.clipped:.1%} clipped" if result.clipped else ""
    return f"  [dim]values {low:.4g}..{high:.4g}{clipped}[/]"


def _dumps(value: Any) -> str:
    """``json.dumps``, imported only when --json asks for it."""
    import json

    return json.dumps(value)


def _escape(text: str) -> str:
    """A path or message shown inside Rich markup, never read as markup."""
    return escape(text)


def _rich_stderr() -> Console:
    """The stderr console a progress bar draws on (only ever made for a terminal)."""
    from rich.console import Console

    console = common.stderr()
    assert isinstance(console, Console)
    return console
