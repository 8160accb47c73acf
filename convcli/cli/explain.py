"""``convcli explain``: one output pixel's arithmetic, with the user's own numbers.

The numbers come from :func:`convcli.explain.explain` (the engine's geometry,
the run's own steps, the value ``apply`` writes); this module only parses
the command line the way ``apply`` does and draws the result for an
80-column terminal: colour only on a terminal, ASCII where stdout cannot
encode the few symbols used.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ..errors import KernelError
from ..kernels import Kernel, prepare
from ..kernels.banks import Bank
from ..steps import Pool
from . import common
from .layer import layer_options, layer_settings
from .params import (
    FilePath,
    KernelSpec,
    border_option,
    color_option,
    kernel_arithmetic_options,
    padding_option,
    range_option,
    reading_limit_options,
    size_option,
)
from .streams import write_stdout


class Position(click.ParamType):
    """``ROW,COL``: integers, negative counting from the end as in Python."""

    name = "ROW,COL"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[int, int]:
        if isinstance(value, tuple):
            return value
        parts = str(value).replace(" ", "").split(",")
        try:
            row, col = (int(p) for p in parts)
        except ValueError:
            self.fail(f"{value!r} is not a position; use ROW,COL such as 0,0 or -1,-1", param, ctx)
        return row, col


@click.command()
@click.option(
    "-k",
    "--kernel",
    "kernel_specs",
    type=KernelSpec(),
    required=True,
    multiple=True,
    help="One kernel, as for 'apply': a name (sharpen), name:key=value, a file or a matrix.",
)
@padding_option(
    "valid",
    "valid: no padding. same: keep the size. full: pad d*(k-1) on every side (d: --dilation).",
)
@border_option("What the padding cells hold (numpy.pad's names).")
@kernel_arithmetic_options("the kernel")
@range_option("How results become 0..255: clip, abs (magnitude, then clip), rescale (min..max).")
@color_option("Read the image in colour; --channel picks the one explained.")
@click.option(
    "--channel",
    type=click.Choice(("R", "G", "B"), case_sensitive=False),
    default=None,
    help="With --color: the channel to explain (default R).",
)
@size_option("Resize (after grayscale) to WxH, N, 224x, x224 or 50%, as 'apply' does.")
@reading_limit_options()
@click.option(
    "--at",
    "at",
    type=Position(),
    default="0,0",
    show_default=True,
    help="The output pixel to explain, ROW,COL; negative counts from the end (-1,-1).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the same as one JSON document.")
@click.option(
    "--animate",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    metavar="FILE",
    help="Also draw the window sliding over the image: FILE.gif, or FILE.png (animated PNG).",
)
@click.option("-f", "--overwrite", is_flag=True, help="Replace the --animate file if it exists.")
@layer_options(explain=True)
@click.argument("image", type=FilePath(path_type=Path, dir_okay=False))
def explain(
    kernel_specs: tuple[Kernel | Bank, ...],
    padding: str,
    border: str,
    normalize: bool,
    flip: bool,
    scale: float,
    offset: float,
    value_range: str,
    color: bool,
    channel: str | None,
    size: tuple[int, int] | None,
    max_pixels: int,
    background: tuple[int, int, int],
    at: tuple[int, int],
    as_json: bool,
    animate: Path | None,
    overwrite: bool,
    stride: tuple[int, int],
    dilation: tuple[int, int],
    layout: str,
    bias: tuple[float, ...] | None,
    combine: str | None,
    activation: str | None,
    pool: Pool | None,
    image: Path,
) -> None:
    """Show how one output pixel of IMAGE is computed, step by step.

    Prints the shape arithmetic (how the padding and output size follow from
    the image, the kernel and the options), then for output pixel --at the
    window of input values the kernel sees (padding cells in [brackets]),
    the kernel as applied, the element-wise products, their sum, every later
    step in the order 'apply' runs them, and the value 'apply' writes at
    that pixel with the same options. Options mean what they mean for
    'apply'; one kernel at a time (a chain of -k, a filter bank, --combine
    and --pool are refused: they are not one window's story).

    \b
    Examples:
      convcli explain -k sharpen --size 224 cat.jpg
      convcli explain -k sharpen -p same --at -1,-1 cat.jpg     # last pixel
      convcli explain -k sobel-x -p same --stride 2 --dilation 2 --at 5,7 cat.jpg
      convcli explain -k outline --bias -100 --activation relu cat.jpg
      convcli explain -k blur -p same -b reflect --at 0,5 cat.jpg
      convcli explain -k sobel-x --range abs --json cat.jpg
      convcli explain -k outline --color --channel G photo.png
      convcli explain -k sharpen -p same --animate sharpen.gif cat.jpg
    """
    from ..explain import PositionError, UnsupportedError, check_explainable
    from ..explain import explain as take_apart
    from ..imageio import load_image
    from ..options import Options

    if len(kernel_specs) > 1:
        raise click.UsageError(
            "explain takes one kernel; a chain of -k is not explained "
            "(explain each kernel on its own, or use 'apply')"
        )
    if pool is not None:
        raise click.UsageError(
            "--pool is not explained: pooling comes after the window (use 'apply')"
        )
    if combine is not None:
        raise click.UsageError(
            "--combine is not explained: it mixes several kernels' results (explain each kernel)"
        )
    if isinstance(kernel_specs[0], Bank):
        raise click.UsageError(
            "a filter bank is not explained: explain takes one 2-D kernel (a bank's maps "
            "are sums over channels; use 'apply')"
        )
    if channel is not None and not color:
        raise click.UsageError("--channel needs --color (without it the image is gray)")
    if animate is not None and animate.suffix.lower() not in (".gif", ".png"):
        raise click.BadParameter(
            f"{str(animate)!r}: an animation is a .gif or an animated .png", param_hint="--animate"
        )
    try:
        kernel = prepare(kernel_specs[0], normalize=normalize, flip=flip)
    except KernelError as exc:
        raise click.BadParameter(str(exc), param_hint="'--normalize'") from None
    try:
        options = Options.build(
            kernel,
            padding=padding.lower(),
            border=border.lower(),
            **layer_settings(locals()),
            scale=scale,
            offset=offset,
            size=size,
            max_pixels=max_pixels,
            background=background,
            color=color,
            output_range=value_range.lower(),
        )
        check_explainable(options)
        if animate is not None:
            from ..animation import check_animatable

            check_animatable(options.convolutions[0].geometry)
    except (ValueError, UnsupportedError) as exc:
        raise click.UsageError(str(exc)) from None
    notes: list[str] = []
    with common.one_image(image, notes):
        if animate is not None:
            from ..imageio.targets import check_target

            check_target(image, animate, overwrite=overwrite)
        pixels = load_image(
            image,
            size,
            max_pixels=max_pixels,
            background=background,
            notes=notes,
            color=color,
        )
        picked = None if not color else "RGB".index((channel or "R").upper())
        try:
            result = take_apart(pixels, options, at, channel=picked, source=image)
        except (PositionError, UnsupportedError) as exc:
            text = f"--at {exc}" if isinstance(exc, PositionError) else str(exc)
            raise click.UsageError(text) from None
        if animate is not None:
            from ..animation import write_animation

            plane = pixels if picked is None else pixels[..., picked]
            frames = write_animation(result, plane, animate, overwrite=overwrite)
    from .explain_view import reading, render_text

    if as_json:
        document = {"image": str(image), **result.document(), "kernel_reading": reading(kernel)}
        if animate is not None:
            document["animation"] = str(animate)
        write_stdout(json.dumps(document, indent=2) + "\n")
        return
    render_text(result, kernel, image, options, flip=flip, normalize=normalize)
    if animate is not None:
        common.say("wrote", f"{animate} ({frames} frames)")
