"""The command line: parse, call the core, render, map errors to exit codes.

The only module that imports click and rich. Exit codes: 0 all done, 1 some
input failed at run time, 2 the command line is wrong, 130 interrupted.
"""

from __future__ import annotations

import json
import math
import re
import sys
import time
import traceback
from fractions import Fraction
from pathlib import Path
from typing import Any

import click
import numpy as np
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.style import Style
from rich.table import Table
from rich.text import Text

from .engine import BORDERS, PADDINGS
from .errors import ConvcliError, KernelError, one_line
from .kernels import (
    FAMILIES,
    KERNELS,
    MAX_VALUE,
    Kernel,
    parse_kernel,
    parse_number,
    prepare,
    separate,
)
from .limits import MAX_PIXELS, MAX_PIXELS_CEILING

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

_stderr = Console(stderr=True, highlight=False)


class KernelSpec(click.ParamType):
    """A kernel spec: name, name:key=value, file or inline matrix (``parse_kernel``)."""

    name = "kernel"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> Kernel:
        if isinstance(value, Kernel):
            return value
        try:
            return parse_kernel(value)
        except KernelError as exc:
            self.fail(str(exc), param, ctx)


class Number(click.ParamType):
    """A finite number written as kernel values are: ``16``, ``-0.5``, ``1/16``, ``1e-3``."""

    name = "number"

    def __init__(self, *, nonzero: bool = False) -> None:
        self.nonzero = nonzero

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        if isinstance(value, float):
            return value
        number = parse_number(str(value).strip())
        if number is None or not math.isfinite(number) or abs(number) > MAX_VALUE:
            self.fail(f"{value!r} is not a finite number such as 16, -0.5 or 1/16", param, ctx)
        if self.nonzero and number == 0:
            self.fail("must not be 0", param, ctx)
        return number


class Size(click.ParamType):
    """``WxH`` or ``N`` (square), positive integers, as ``(width, height)``."""

    name = "WxH"
    _pattern = re.compile(r"^\s*(\d+)\s*(?:[xX×]\s*(\d+))?\s*$")

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[int, int]:
        if isinstance(value, tuple):
            return value
        match = self._pattern.match(str(value))
        if not match:
            self.fail(f"{value!r} is not a size; use WxH (e.g. 224x224) or N for NxN", param, ctx)
        width = int(match.group(1))
        height = int(match.group(2) or width)
        if not (1 <= width <= 65535 and 1 <= height <= 65535):
            self.fail(f"{value!r}: width and height must be between 1 and 65535", param, ctx)
        return width, height


class Background(click.ParamType):
    """``--background``: a gray level 0-255 or a colour name Pillow knows."""

    name = "colour"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[int, int, int]:
        if isinstance(value, tuple):
            return value
        from .imageio import parse_background  # Pillow's colour names, only when asked

        try:
            return parse_background(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


_debug = {"on": False}  # set by --debug; read by main() for unexpected failures


class _Group(click.Group):
    """Ctrl-C while a command parses its options or runs: one line, exit 130.

    Click would print "Aborted!" and exit 1. (``apply`` handles Ctrl-C during
    a batch itself, to print its summary first.)"""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo("convcli: interrupted", err=True)
            ctx.exit(EXIT_INTERRUPTED)


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
    130 interrupted.
    """
    _debug["on"] = debug
    if debug:  # also show what Pillow logs while decoding
        import logging

        logging.basicConfig(format="convcli: debug: %(name)s: %(message)s", stream=sys.stderr)


@cli.command()
@click.option(
    "-k",
    "--kernel",
    "kernel_specs",
    type=KernelSpec(),
    required=True,
    multiple=True,
    help="A built-in name (sharpen), name:key=value (gaussian:sigma=2), a kernel file "
    "(.txt .csv .mat .json .npy) or an inline matrix ('0,-1,0; -1,5,-1; 0,-1,0'). "
    "Repeat to apply several in order; see 'convcli kernels'.",
)
@click.option(
    "-p",
    "--padding",
    type=click.Choice(PADDINGS, case_sensitive=False),
    default="valid",
    show_default=True,
    help="valid: no padding, output shrinks by k-1. same: pad, output keeps the size. "
    "full: pad k-1, output grows by k-1.",
)
@click.option(
    "-b",
    "--border",
    type=click.Choice(BORDERS, case_sensitive=False),
    default="zero",
    show_default=True,
    help="What lies outside the image for same/full padding (numpy.pad's names).",
)
@click.option("--normalize", is_flag=True, help="Divide each kernel by the sum of its weights.")
@click.option("--flip", is_flag=True, help="Rotate each kernel 180° (a true convolution).")
@click.option("--scale", type=Number(nonzero=True), default=1.0, help="Divide the result by X.")
@click.option("--offset", type=Number(), default=0.0, help="Add Y to the result, e.g. 128.")
@click.option(
    "--range",
    "value_range",
    type=click.Choice(("clip", "abs", "rescale"), case_sensitive=False),
    default="clip",
    show_default=True,
    help="How results become 0..255: clip, abs (magnitude, then clip), rescale (min..max).",
)
@click.option(
    "--color", "--colour", "color", is_flag=True, help="Filter R, G, B separately; keep alpha."
)
@click.option(
    "--depth",
    type=click.Choice(("8", "16")),
    default="8",
    show_default=True,
    help="Bits per sample of PNG/TIFF output (16: grayscale).",
)
@click.option(
    "-s",
    "--size",
    type=Size(),
    default=None,
    metavar="WxH",
    help="Resize (after grayscale) to WxH, or N for NxN, e.g. 224. Default: keep the size.",
)
@click.option(
    "--max-pixels",
    type=click.IntRange(1, MAX_PIXELS_CEILING),
    default=MAX_PIXELS,
    show_default=True,
    help="Refuse, unread, inputs whose header declares more pixels (decompression bombs).",
)
@click.option(
    "--background",
    type=Background(),
    default="white",
    show_default=True,
    help="What transparency is flattened over: a gray level 0-255 or a colour name.",
)
@click.option("-f", "--overwrite", is_flag=True, help="Replace outputs that already exist.")
@click.option(
    "--skip-existing",
    is_flag=True,
    help="Skip inputs whose output already exists (resume an interrupted batch).",
)
@click.option("-r", "--recursive", is_flag=True, help="Descend into sub-folders of folder inputs.")
@click.option(
    "--name",
    "name",
    metavar="TEMPLATE",
    default=None,
    help="Output file name, from {stem} {ext} {kernel} {padding} {index}; "
    "default '{stem}.png'. OUTPUT is then a folder.",
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes; 1 runs in-process. Default: the usable CPUs, at most one per 4 inputs.",
)
@click.option("--fail-fast", is_flag=True, help="Stop at the first failed input.")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print one JSON document on stdout: options, every file, a summary.",
)
@click.option(
    "--png-compression",
    type=click.IntRange(0, 9),
    default=None,
    metavar="0-9",
    help="zlib level for the PNGs: 0 fastest and largest, 9 smallest and slowest. "
    "Default: zlib's run-length strategy, about as small as level 6 and faster.",
)
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
@click.option(
    "--compare",
    is_flag=True,
    help="Also write <output stem>.compare.png: the input as loaded beside the result.",
)
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.argument("output", type=click.Path())  # a str: a trailing '/' means a folder
def apply(
    kernel_specs: tuple[Kernel, ...],
    padding: str,
    border: str,
    normalize: bool,
    flip: bool,
    scale: float,
    offset: float,
    value_range: str,
    color: bool,
    depth: str,
    size: tuple[int, int] | None,
    max_pixels: int,
    background: tuple[int, int, int],
    overwrite: bool,
    skip_existing: bool,
    recursive: bool,
    name: str | None,
    jobs: int | None,
    fail_fast: bool,
    as_json: bool,
    png_compression: int | None,
    quiet: bool,
    compare: bool,
    inputs: tuple[Path, ...],
    output: str,
) -> None:
    """Filter INPUTS with kernels and write images to OUTPUT.

    OUTPUT's extension picks the format: .png (default), .tif, .webp
    (lossless) or .npy (the raw floating-point result, before any clipping).

    INPUTS are image files, folders (the images in them; -r descends and
    mirrors sub-folders) or quoted glob patterns ('photos/**/*.jpg'), which
    convcli expands itself. With one input file, OUTPUT is the PNG file to
    write (or a folder, if it exists or ends in '/'). Otherwise OUTPUT is a
    folder, created if missing, and each result is named after its input:
    photo.jpg -> photo.png (see --name).

    Existing files are never replaced without --overwrite, an input is never
    written over, and a failed or interrupted run leaves no partial file.

    \b
    Examples:
      convcli apply -k sharpen --padding same in.jpg out.png
      convcli apply -k outline --size 224 cat.jpg edges.png
      convcli apply -k blur a.jpg b.png results/
      convcli apply -k sharpen --compare in.jpg out.png   # + out.compare.png
      convcli apply -k gaussian:sigma=2 -p same -b reflect in.jpg soft.png
      convcli apply -k my.mat --range abs --offset 128 in.png edges.png
      convcli apply -k blur -k sharpen --color in.png out.png
      convcli apply -k blur -r photos/ results/
      convcli apply -k blur 'photos/**/*.jpg' --name '{stem}-{kernel}.png' out/
    """
    from .batch import PlanError, default_workers, plan, run
    from .errors import OutputError
    from .pipeline import Options, output_format

    if overwrite and skip_existing:
        raise click.UsageError("--overwrite and --skip-existing cannot be used together")
    try:
        chain = tuple(prepare(k, normalize=normalize, flip=flip) for k in kernel_specs)
    except KernelError as exc:
        raise click.BadParameter(str(exc), param_hint="'--normalize'") from None
    if size is not None and size[0] * size[1] > max_pixels:
        raise click.BadParameter(
            f"{size[0]}x{size[1]} is more than --max-pixels ({max_pixels:,})",
            param_hint="'-s' / '--size'",
        )
    options = Options(
        kernel=chain[0],
        padding=padding.lower(),
        size=size,
        overwrite=overwrite,
        max_pixels=max_pixels,
        background=background,
        compare=compare,
        then=chain[1:],
        border=border.lower(),
        scale=scale,
        offset=offset,
        output_range=value_range.lower(),
        color=color,
        depth=int(depth),
        png_compression=png_compression,
    )
    try:
        batch = plan(
            inputs,
            output,
            options,
            recursive=recursive,
            name=name,
            skip_existing=skip_existing,
        )
    except PlanError as exc:
        raise click.UsageError(str(exc)) from None
    for job in batch.jobs:
        try:
            output_format(job.target, options)
        except OutputError as exc:
            raise click.UsageError(str(exc)) from None
    for kernel in chain:
        for warning in () if quiet else kernel.warnings:
            click.echo(f"convcli: warning: {one_line(str(warning))}", err=True)
    pending = len(batch.jobs)
    workers = default_workers(pending) if jobs is None else max(1, min(jobs, pending))
    settings = {
        "kernels": [k.name for k in chain],
        "padding": options.padding,
        "border": options.border,
        "size": list(size) if size else None,
        "overwrite": overwrite,
        "skip_existing": skip_existing,
        "recursive": recursive,
        "name": name,
        "jobs": workers,
        "fail_fast": fail_fast,
        "inputs": [str(i) for i in inputs],
        "output": output,
    }
    report = _Report(batch.total, quiet=quiet, as_json=as_json, settings=settings)
    with report:
        try:
            for result in run(
                batch, options, jobs=workers, fail_fast=fail_fast, on_start=report.started
            ):
                report.add(result)
        except KeyboardInterrupt:
            report.interrupted = True
        except ConvcliError as exc:  # the run itself broke (workers that keep dying)
            report.abort(exc)
    report.finish(options)
    if report.interrupted:
        sys.exit(EXIT_INTERRUPTED)
    if report.counts["failed"] or report.aborted:
        sys.exit(EXIT_FAILED)


class _Report:
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
        self.interrupted = False
        self.aborted: str | None = None
        self.last: Any = None
        self.start = time.perf_counter()
        self.progress: Progress | None = None
        self.task: Any = None
        self._first_file = True
        self._json_closed = False

    def __enter__(self) -> _Report:
        if self.as_json:
            head = json.dumps({"options": self.settings})[:-1]
            sys.stdout.write(head + ', "files": [')
            sys.stdout.flush()
        if not self.quiet and self.total > 1 and _stderr.is_terminal:
            self.progress = Progress(
                TextColumn("[progress.description]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                _RateColumn(),
                TimeElapsedColumn(),
                TextColumn("eta"),
                TimeRemainingColumn(),
                TextColumn("{task.fields[current]}", style="dim"),
                console=_stderr,
                transient=True,
            )
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
        _stderr.print(
            f"convcli: error: {one_line(str(error))}", markup=False, highlight=False, soft_wrap=True
        )

    def started(self, job: Any) -> None:
        if self.progress is not None:
            self.progress.update(self.task, current=str(job.source))

    def add(self, result: Any) -> None:
        self.counts[result.status] += 1
        self.last = result
        if not self.quiet:
            for warning in result.warnings:
                _stderr.print(
                    f"convcli: warning: {one_line(f'{result.source}: {warning}')}",
                    markup=False,
                    highlight=False,
                    soft_wrap=True,
                )
        if result.status == "failed":
            self.failures.append(result)
            if _debug["on"] and result.error is not None:
                traceback.print_exception(result.error, file=sys.stderr)
            _stderr.print(
                f"convcli: error: {one_line(result.message)}",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
        elif result.status == "skipped":
            self.skip_reasons[result.reason] = self.skip_reasons.get(result.reason, 0) + 1
        elif result.input_size is not None:  # (not known for a job cut short by Ctrl-C)
            w, h = result.input_size
            self.megapixels += w * h / 1e6
        if self.progress is not None:
            self.progress.advance(self.task)
        if self.as_json:
            sys.stdout.write(("\n  " if self._first_file else ",\n  ") + json.dumps(_entry(result)))
            self._first_file = False

    def _close_json(self) -> None:
        if self._json_closed:
            return
        self._json_closed = True
        seconds = time.perf_counter() - self.start
        summary = {
            **self.counts,
            "total": self.total,
            "not_run": self.total - sum(self.counts.values()),
            "interrupted": self.interrupted,
            "error": self.aborted,
            "megapixels": round(self.megapixels, 3),
            "seconds": round(seconds, 3),
            "images_per_second": round(self.counts["ok"] / seconds if seconds > 0 else 0.0, 2),
        }
        sys.stdout.write("\n], " + json.dumps({"summary": summary})[1:] + "\n")
        sys.stdout.flush()

    def finish(self, options: Any) -> None:
        seconds = time.perf_counter() - self.start
        done = sum(self.counts.values())
        rate = self.counts["ok"] / seconds if seconds > 0 else 0.0
        if self.as_json:
            self._close_json()
        if self.quiet:
            return
        if self.total == 1 and self.last is not None and self.last.ok and not self.interrupted:
            _report_ok(self.last, options)
            return
        if self.total == 0 or (self.total == 1 and self.counts["failed"] and not self.aborted):
            return  # the error line says it all
        _stderr.print(self._summary(seconds, done, rate), soft_wrap=True)

    def _summary(self, seconds: float, done: int, rate: float) -> Any:
        c = self.counts
        head = "[bold yellow]interrupted:[/] " if self.interrupted else ""
        head = "[bold red]stopped:[/] " if self.aborted else head
        line = f"{head}{c['ok']} written, {c['skipped']} skipped, {c['failed']} failed"
        if done < self.total:
            line += f", {self.total - done} not run"
        line += (
            f" in {seconds:.2f} s  [dim]({rate:.1f} images/s, {self.megapixels:.1f} megapixels)[/]"
        )
        if self.skip_reasons:
            reasons = ", ".join(f"{n} {why}" for why, n in sorted(self.skip_reasons.items()))
            line += f"\n[dim]skipped: {reasons}[/]"
        if self.failures:
            line += "\n[bold red]failed:[/]"
            for result in self.failures:
                line += f"\n  {escape(one_line(result.message))}"
        return line


class _RateColumn(ProgressColumn):
    """Images per second, from Rich's own speed estimate."""

    def render(self, task: Any) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:.1f} img/s" if speed else "- img/s", style="progress.data.speed")


def _entry(result: Any) -> dict[str, Any]:
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
    }


def _report_ok(result: Any, options: Any) -> None:
    (w, h), (ow, oh) = result.input_size, result.output_size
    _stderr.print(
        f"[green]✓[/] {escape(one_line(str(result.source)))} [dim]({w}x{h})[/] → "
        f"[bold]{escape(one_line(str(result.target)))}[/] [dim]({ow}x{oh})[/]  "
        f"{' then '.join(k.name for k in options.kernels)}, {options.padding}, "
        f"{result.seconds * 1000:.0f} ms"
        f"{_values(result)}",
        soft_wrap=True,
    )


def _values(result: Any) -> str:
    """The raw result's range and how much clipping changed, when known."""
    if getattr(result, "raw_range", None) is None:
        return ""
    low, high = result.raw_range
    clipped = f", {result.clipped:.1%} clipped" if result.clipped else ""
    return f"  [dim]values {low:.4g}..{high:.4g}{clipped}[/]"


@cli.command()
@click.argument("name", required=False)
def kernels(name: str | None) -> None:
    """List the built-in kernels, or show one in full with NAME.

    Each matrix is drawn as a grid: positive weights blue, negative red, the
    deeper the colour the larger the weight. Weights are exact fractions
    where they have a small denominator (the denominator is factored out
    below the grid). Below each: whether
    the weights sum to 1 (brightness kept), to 0 (an edge detector) or
    neither, and whether the kernel is separable into two 1-D passes.
    """
    out = Console(highlight=False)
    if name is None:
        table = Table(
            title="Built-in kernels (applied without flipping)",
            caption=_legend(),
            show_lines=True,
        )
        table.add_column("kernel", no_wrap=True)
        table.add_column("weights", no_wrap=True)
        table.add_column("what it does", overflow="fold")
        for kernel in KERNELS.values():
            table.add_row(
                Text.assemble((kernel.name, "bold"), "\n", (_size(kernel), "dim")),
                _grid(kernel.weights),
                Text("\n").join([Text(kernel.description), *_properties(kernel.weights)]),
            )
        out.print(table)
        _print_families(out)
        return
    try:
        kernel = parse_kernel(name)
    except KernelError as exc:
        raise click.BadParameter(str(exc), param_hint="NAME") from None
    out.print(Text.assemble((kernel.name, "bold"), f" ({_size(kernel)}): {kernel.description}"))
    if kernel.source:
        out.print(f"source: {kernel.source}")
    if (kernel.scale, kernel.offset) != (1, 0):
        out.print(f"scale {kernel.scale:g}, offset {kernel.offset:g}")
    out.print(_grid(kernel.weights, max_width=out.width))
    for line in _properties(kernel.weights):
        out.print(line)
    family = FAMILIES.get(name.strip().lower().partition(":")[0])
    if family is not None and name.strip().lower() not in KERNELS:
        out.print(f"parameters ({family.name}:key=value,...; e.g. {family.example}):")
        for parameter in family.params:
            out.print(f"  {parameter.describe()}", markup=False)
    out.print(_legend())


_TILE = 512  # gallery tiles fit in this square unless --size says otherwise


def _fit(shape: tuple[int, ...], side: int) -> tuple[int, int]:
    """``(width, height)`` of an ``(H, W)`` image shrunk to fit ``side`` x ``side``."""
    height, width = shape[:2]
    scale = side / max(height, width)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _print_families(out: Console) -> None:
    """The kernels that take parameters, from the registry's data, as a second table."""
    table = Table(
        title="Kernels with parameters: NAME:key=value,... (defaults where not given)",
        show_lines=True,
    )
    table.add_column("kernel", no_wrap=True)
    table.add_column("parameters", overflow="fold")
    table.add_column("with the defaults", overflow="fold")
    for family in FAMILIES.values():
        default = family.make({})
        table.add_row(
            Text.assemble((family.name, "bold"), "\n", (family.example, "dim")),
            Text("\n").join(
                [Text(family.description), *(Text(p.describe()) for p in family.params)]
            ),
            Text("\n").join(
                [
                    Text.assemble((default.name, "bold"), f" ({_size(default)})"),
                    *_properties(default.weights),
                ]
            ),
        )
    out.print(table)
    out.print(
        "Also: a kernel file (.txt, .csv, .mat, .json, .npy) or an inline matrix such as "
        "'0,-1,0; -1,5,-1; 0,-1,0'. 'convcli kernels SPEC' draws any of them.",
        markup=False,
    )


@cli.command()
@click.argument("image", type=click.Path(path_type=Path))
@click.argument("output", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "-k",
    "--kernel",
    "specs",
    type=KernelSpec(),
    multiple=True,
    help="A kernel to show (repeatable). Default: every built-in kernel.",
)
@click.option(
    "-p",
    "--padding",
    type=click.Choice(PADDINGS, case_sensitive=False),
    default="same",
    show_default=True,
    help="As for apply; 'same' keeps every tile the size of the original.",
)
@click.option(
    "-b",
    "--border",
    type=click.Choice(BORDERS, case_sensitive=False),
    default="zero",
    show_default=True,
    help="As for apply: what lies outside the image for same/full padding.",
)
@click.option(
    "--range",
    "value_range",
    type=click.Choice(("clip", "abs", "rescale"), case_sensitive=False),
    default="clip",
    show_default=True,
    help="As for apply, e.g. abs to see both signs of an edge kernel.",
)
@click.option(
    "--color",
    "--colour",
    "color",
    is_flag=True,
    help="As for apply: filter R, G, B separately (tiles leave alpha out).",
)
@click.option(
    "-s",
    "--size",
    type=Size(),
    default=None,
    metavar="WxH",
    help=f"Resize first, as for apply. Default: fit within {_TILE}x{_TILE}, keeping the shape.",
)
@click.option(
    "-c",
    "--columns",
    type=click.IntRange(1, 64),
    default=4,
    show_default=True,
    help="Tiles per row.",
)
@click.option("-f", "--overwrite", is_flag=True, help="Replace OUTPUT if it exists.")
def gallery(
    image: Path,
    output: Path,
    specs: tuple[Kernel, ...],
    padding: str,
    border: str,
    value_range: str,
    color: bool,
    size: tuple[int, int] | None,
    columns: int,
    overwrite: bool,
) -> None:
    """Write a contact sheet of IMAGE under every kernel.

    OUTPUT is an RGB PNG: the original first, then one labelled tile per
    kernel (every built-in one unless -k says), row by row. Each tile is,
    pixel for pixel, what 'convcli apply' writes with the same kernel,
    padding, border, range, colour and size. Images larger than 512 pixels on
    a side are shrunk to fit, as with '--size', unless --size is given.

    \b
    Examples:
      convcli gallery photo.jpg gallery.png
      convcli gallery -k blur -k gaussian5 -k box --columns 2 photo.jpg blurs.png
      convcli gallery -k sobel-x -k sobel-y --range abs --border edge photo.jpg edges.png
    """
    from .errors import ConvcliError
    from .imageio import load_image, save_sheet, to_uint8
    from .pipeline import Options, check_target, filter_image, map_range
    from .visuals import Panel, contact_sheet, result_offset

    if output.suffix.lower() != ".png":
        raise click.BadParameter(
            f"{str(output)!r}: a gallery is a PNG; name it .png", param_hint="OUTPUT"
        )
    chosen = specs or tuple(KERNELS.values())
    padding, border, value_range = padding.lower(), border.lower(), value_range.lower()
    settings = ", ".join(
        [padding, *([f"{border} border"] if border != "zero" else []),
         *([value_range] if value_range != "clip" else [])]
    )  # fmt: skip
    notes: list[str] = []
    try:
        check_target(image, output, overwrite=overwrite)
        loaded = load_image(image, size, color=color, warnings=notes)
        if size is None and max(loaded.shape[:2]) > _TILE:  # thumbnails, as apply --size does
            size = _fit(loaded.shape, _TILE)
            loaded = load_image(image, size, color=color)
        loaded = loaded[..., :3] if loaded.ndim == 3 else loaded  # alpha is not filtered
        panels = [Panel(loaded, f"{image.name}  {loaded.shape[1]}x{loaded.shape[0]}")]
        for kernel in chosen:
            options = Options(kernel=kernel, padding=padding, border=border, size=size, color=color)
            raw = filter_image(loaded, options, image)
            result = to_uint8(map_range(raw, value_range)[0])  # what apply writes
            offset = result_offset(kernel.shape, padding)
            panels.append(Panel(result, f"{kernel.name}, {settings}", origin=offset))
        sheet = contact_sheet(panels, columns=columns)
        save_sheet(sheet.image, output, overwrite=overwrite)
    except ConvcliError as exc:
        if _debug["on"]:
            traceback.print_exception(exc, file=sys.stderr)
        click.echo(f"convcli: error: {one_line(str(exc))}", err=True)
        sys.exit(EXIT_FAILED)
    finally:
        for note in notes:
            click.echo(f"convcli: warning: {one_line(f'{image}: {note}')}", err=True)
    _stderr.print(
        f"[green]✓[/] {escape(one_line(str(output)))} "
        f"[dim]({sheet.image.shape[1]}x{sheet.image.shape[0]})[/]: "
        f"{escape(one_line(str(image)))} and "
        f"{len(chosen)} kernel{'' if len(chosen) == 1 else 's'} ({settings})",
        soft_wrap=True,
    )


def _size(kernel: Kernel) -> str:
    return f"{kernel.shape[0]}x{kernel.shape[1]}"


_POSITIVE = (17, 18, 19, 20, 21)  # xterm-256 blues, dark to bright
_NEGATIVE = (52, 88, 124, 160, 196)  # xterm-256 reds, dark to bright


def _legend() -> Text:
    """The colour scale, strongest negative to strongest positive, in words too."""
    return Text.assemble(
        ("weights: negative ", "dim"),
        *((" ", f"on color({code})") for code in reversed(_NEGATIVE)),
        ("  0  ", "dim"),
        *((" ", f"on color({code})") for code in _POSITIVE),
        (" positive; deeper colour, larger weight", "dim"),
    )


_GRID_MAX = 15  # widest matrix drawn cell by cell; larger ones are summarised


def _grid(weights: np.ndarray, max_width: int | None = None) -> Text:
    """The matrix as coloured cells, values right-aligned, a common fraction factored out.

    A matrix wider than ``_GRID_MAX`` columns or ``max_width`` characters is
    summarised instead (a wrapped grid cannot be read).
    """
    too_large = Text(
        f"{weights.shape[0]}x{weights.shape[1]}: too large to draw; weights from "
        f"{weights.min():.3g} to {weights.max():.3g}",
        style="italic",
    )
    if max(weights.shape) > _GRID_MAX:
        return too_large
    scale = _common_denominator(weights)
    values = np.rint(weights * scale) if scale else weights
    cells = [[_number(v, exact=scale is not None) for v in row] for row in values]
    width = max(len(c) for row in cells for c in row)
    if max_width is not None and weights.shape[1] * (width + 2) > max_width:
        return too_large
    peak = float(np.abs(weights).max()) or 1.0
    grid = Text()
    for r, row in enumerate(cells):
        if r:
            grid.append("\n")
        for c, cell in enumerate(row):
            grid.append(f" {cell:>{width}} ", style=_weight_style(weights[r, c] / peak))
    if scale and scale != 1:
        grid.append(f"\n× 1/{scale}")
    return grid


def _number(value: float, *, exact: bool) -> str:
    return f"{int(value)}" if exact else f"{value:.3g}"


def _weight_style(strength: float) -> Style:
    """Blue for positive, red for negative, five shades deep by ``|strength|`` (0..1).

    Shades come from the 256-colour cube's pure blue and red ramps, so a
    16-colour terminal still shows the sign (as plain blue and red).
    """
    if strength == 0:
        return Style(dim=True)
    ramp = _POSITIVE if strength > 0 else _NEGATIVE
    level = min(len(ramp) - 1, math.ceil(abs(strength) * len(ramp)) - 1)
    return Style(color="bright_white", bgcolor=f"color({ramp[level]})", bold=level >= 2)


def _properties(weights: np.ndarray) -> list[Text]:
    """Sum (normalised / zero-sum / neither) and separability, one line each."""
    total = float(weights.sum())
    tolerance = 1e-9 * max(1.0, float(np.abs(weights).sum()))
    if abs(total - 1) <= tolerance:
        kind = Text.assemble(("normalised", "bold"), " (sums to 1: brightness kept)")
    elif abs(total) <= tolerance:
        kind = Text.assemble(("zero-sum", "bold"), " (an edge detector: flat areas go black)")
    else:
        kind = Text.assemble(
            ("neither", "bold"), f" normalised nor zero-sum (sums to {_fraction(total)})"
        )
    parts = separate(weights)
    if parts is None:
        split = Text.assemble(("not separable", "bold"))
    else:
        split = Text.assemble(("separable", "bold"), f": {_factors(*parts)}")
    return [kind, split]


def _fraction(value: float) -> str:
    exact = Fraction(value).limit_denominator(4096)
    return str(exact) if abs(float(exact) - value) <= 1e-9 * max(1.0, abs(value)) else f"{value:g}"


def _factors(column: np.ndarray, row: np.ndarray) -> str:
    """``column``ᵀ ``row`` (their outer product), scaled to read well.

    The column as small integers where it can be (``[1 2 1]ᵀ [1 2 1]/16``),
    else summing to 1 (a sampled Gaussian's own 1-D weights), else peaking at 1.
    """
    nonzero = np.abs(column) > 1e-12 * np.abs(column).max()
    unit = float(np.abs(column[nonzero]).min())
    if not np.allclose(column / unit, np.rint(column / unit), rtol=0, atol=1e-9):
        total = float(column.sum())
        unit = total if abs(total) > 1e-9 * np.abs(column).sum() else float(np.abs(column).max())
    column, row = column / unit, row * unit
    if round(column.sum(), 9) < 0 or (round(column.sum(), 9) == 0 and row.sum() < 0):
        column, row = -column, -row  # read the positive way round where there is one
    return f"{_vector(column)}ᵀ {_vector(row)}"


def _vector(values: np.ndarray) -> str:
    scale = _common_denominator(values)
    if scale is None:
        return "[" + " ".join(f"{v:.3g}" for v in values) + "]"
    body = "[" + " ".join(str(int(v)) for v in np.rint(values * scale)) + "]"
    return body if scale == 1 else f"{body}/{scale}"


def _common_denominator(weights: np.ndarray, limit: int = 4096) -> int | None:
    denominator = 1
    for value in weights.flat:
        denominator = np.lcm(
            denominator, Fraction(float(value)).limit_denominator(limit).denominator
        )
        if denominator > limit:
            return None
    scaled = weights * denominator
    return int(denominator) if np.allclose(scaled, np.rint(scaled), atol=1e-9) else None


def main() -> None:
    """Console-script entry point: Click's parsing plus our exit codes."""
    try:
        # Not standalone: Click would turn a Ctrl-C it sees into "Aborted!" and exit 1.
        code = cli.main(prog_name="convcli", standalone_mode=False)
    except (KeyboardInterrupt, click.exceptions.Abort):
        click.echo("convcli: interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except click.ClickException as exc:  # what standalone mode does: usage errors exit 2
        exc.show()
        sys.exit(exc.exit_code)
    except Exception as exc:  # a bug, not the user's fault: one line, unless --debug
        if _debug["on"]:
            traceback.print_exc()
        detail = str(exc).splitlines()[0] if str(exc) else ""
        click.echo(
            f"convcli: error: internal error: {type(exc).__name__}: {detail} "
            "(run with --debug for the traceback)",
            err=True,
        )
        sys.exit(EXIT_FAILED)
    sys.exit(code if isinstance(code, int) else EXIT_OK)


__all__ = ["EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "cli", "main"]
