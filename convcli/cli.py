"""The command line: parse, call the core, render, map errors to exit codes.

The only module that imports click and rich. Exit codes: 0 all done, 1 some
input failed at run time, 2 the command line is wrong, 130 interrupted.
"""

from __future__ import annotations

import re
import sys
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import click
import numpy as np
from rich.console import Console
from rich.table import Table

from .engine import PADDINGS
from .errors import KernelError
from .kernels import KERNELS, Kernel, parse_kernel

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

_stderr = Console(stderr=True, highlight=False)


class KernelSpec(click.ParamType):
    """A built-in kernel name (the seam for files, inline matrices, parameters)."""

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


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("convcli")
    except PackageNotFoundError:  # running from a source tree
        return "unknown"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(_version(), "-V", "--version", prog_name="convcli")
def cli() -> None:
    """Run a convolution kernel over images, from the shell.

    The kernel slides over each image without flipping (cross-correlation,
    as TensorFlow's Conv2D); images are converted to 8-bit grayscale first and
    written as PNG, values rounded and clipped to 0..255.

    \b
    Examples:
      convcli apply --kernel sharpen --padding same in.jpg out.png
      convcli apply -k blur photos/*.jpg out/
      convcli kernels

    Exit status: 0 all done, 1 an input failed, 2 bad command line,
    130 interrupted.
    """


@cli.command()
@click.option(
    "-k",
    "--kernel",
    type=KernelSpec(),
    required=True,
    help="Built-in kernel name, e.g. sharpen; see 'convcli kernels'.",
)
@click.option(
    "-p",
    "--padding",
    type=click.Choice(PADDINGS[:2], case_sensitive=False),
    default="valid",
    show_default=True,
    help="valid: no padding, output shrinks by k-1. same: zero-pad, output keeps the size.",
)
@click.option(
    "-s",
    "--size",
    type=Size(),
    default=None,
    metavar="WxH",
    help="Resize (after grayscale) to WxH, or N for NxN, e.g. 224. Default: keep the size.",
)
@click.option("-f", "--overwrite", is_flag=True, help="Replace outputs that already exist.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
@click.option(
    "--compare",
    is_flag=True,
    help="Also write <output stem>.compare.png: the input as loaded beside the result.",
)
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.argument("output", type=click.Path())  # a str: a trailing '/' means a folder
def apply(
    kernel: Kernel,
    padding: str,
    size: tuple[int, int] | None,
    overwrite: bool,
    quiet: bool,
    compare: bool,
    inputs: tuple[Path, ...],
    output: str,
) -> None:
    """Filter INPUTS with a kernel and write grayscale PNGs to OUTPUT.

    With one input, OUTPUT is the PNG file to write (or a folder, if it
    exists or ends in '/'). With several inputs, OUTPUT is a folder, created if
    missing, and each result is named after its input: photo.jpg -> photo.png.

    Existing files are never replaced without --overwrite, an input is never
    written over, and a failed run leaves no partial file.

    \b
    Examples:
      convcli apply -k sharpen --padding same in.jpg out.png
      convcli apply -k outline --size 224 cat.jpg edges.png
      convcli apply -k blur a.jpg b.png results/
      convcli apply -k sharpen --compare in.jpg out.png   # + out.compare.png
    """
    from .batch import PlanError, plan, run
    from .pipeline import Options

    try:
        jobs = plan(inputs, output)
    except PlanError as exc:
        raise click.UsageError(str(exc)) from None
    options = Options(
        kernel=kernel, padding=padding.lower(), size=size, overwrite=overwrite, compare=compare
    )
    start = time.perf_counter()
    failed = 0
    for result in run(jobs, options):
        if result.ok:
            if not quiet:
                _report_ok(result, options)
        else:
            failed += 1
            click.echo(f"convcli: error: {result.reason}", err=True)
    if not quiet and len(jobs.jobs) > 1:
        done = len(jobs.jobs) - failed
        _stderr.print(f"{done} written, {failed} failed, in {time.perf_counter() - start:.2f} s")
    if failed:
        sys.exit(EXIT_FAILED)


def _report_ok(result: Any, options: Any) -> None:
    (w, h), (ow, oh) = result.input_size, result.output_size
    _stderr.print(
        f"[green]✓[/] {result.job.source} [dim]({w}x{h})[/] → "
        f"[bold]{result.job.target}[/] [dim]({ow}x{oh})[/]  "
        f"{options.kernel.name}, {options.padding}, {result.seconds * 1000:.0f} ms",
        soft_wrap=True,
    )


@cli.command()
@click.argument("name", required=False)
def kernels(name: str | None) -> None:
    """List the built-in kernels, or show one in full with NAME.

    Weights are shown as exact fractions where they have a small denominator.
    """
    if name is None:
        table = Table(title="Built-in kernels (applied without flipping)", show_lines=True)
        for column in ("name", "size", "what it does", "weights"):
            table.add_column(column, overflow="fold")
        for kernel in KERNELS.values():
            table.add_row(kernel.name, _size(kernel), kernel.description, _matrix(kernel.weights))
        Console().print(table)
        return
    try:
        kernel = parse_kernel(name)
    except KernelError as exc:
        raise click.BadParameter(str(exc), param_hint="NAME") from None
    out = Console(highlight=False)
    out.print(f"[bold]{kernel.name}[/] ({_size(kernel)}): {kernel.description}")
    if kernel.source:
        out.print(f"source: {kernel.source}")
    out.print(_matrix(kernel.weights))


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
    type=click.Choice(PADDINGS[:2], case_sensitive=False),
    default="same",
    show_default=True,
    help="As for apply; 'same' keeps every tile the size of the original.",
)
@click.option(
    "-s", "--size", type=Size(), default=None, metavar="WxH", help="Resize first, as for apply."
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
    size: tuple[int, int] | None,
    columns: int,
    overwrite: bool,
) -> None:
    """Write OUTPUT, a PNG contact sheet of IMAGE filtered by each kernel.

    The original comes first, then one labelled tile per kernel, row by row.
    Each tile is, pixel for pixel, what 'convcli apply' writes with the same
    kernel, padding and size.

    \b
    Examples:
      convcli gallery photo.jpg gallery.png
      convcli gallery -k blur -k gaussian5 -k box --columns 2 photo.jpg blurs.png
    """
    from .errors import ConvcliError
    from .imageio import load_image, save_sheet, to_uint8
    from .pipeline import Options, check_target, filter_image
    from .visuals import Panel, contact_sheet, result_offset

    chosen = specs or tuple(KERNELS.values())
    padding = padding.lower()
    try:
        check_target(image, output, overwrite=overwrite)
        loaded = load_image(image, size)
        panels = [Panel(loaded, f"{image.name}  {loaded.shape[1]}x{loaded.shape[0]}")]
        for kernel in chosen:
            options = Options(kernel=kernel, padding=padding, size=size)
            result = to_uint8(filter_image(loaded, options, image))  # what apply writes
            offset = result_offset(kernel.shape, padding)
            panels.append(Panel(result, f"{kernel.name}, {padding}", origin=offset))
        sheet = contact_sheet(panels, columns=columns)
        save_sheet(sheet.image, output, overwrite=overwrite)
    except ConvcliError as exc:
        click.echo(f"convcli: error: {exc}", err=True)
        sys.exit(EXIT_FAILED)
    _stderr.print(
        f"[green]✓[/] {output} [dim]({sheet.image.shape[1]}x{sheet.image.shape[0]})[/]: "
        f"{image} and {len(chosen)} kernels, {padding} padding",
        soft_wrap=True,
    )


def _size(kernel: Kernel) -> str:
    return f"{kernel.shape[0]}x{kernel.shape[1]}"


def _matrix(weights: np.ndarray) -> str:
    """Rows of aligned values, with a common fraction factored out when exact."""
    scale = _common_denominator(weights)
    values = np.rint(weights * scale).astype(int) if scale else weights
    cells = [[f"{v:g}" for v in row] for row in values]
    width = max(len(c) for row in cells for c in row)
    lines = [" ".join(c.rjust(width) for c in row) for row in cells]
    if scale and scale != 1:
        lines.append(f"× 1/{scale}")
    return "\n".join(lines)


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
        cli.main(prog_name="convcli")
    except KeyboardInterrupt:
        click.echo("convcli: interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)


__all__ = ["EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "cli", "main"]
