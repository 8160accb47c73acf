"""``convcli gallery``: one image under many kernels, as a labelled contact sheet."""

from __future__ import annotations

import sys
import traceback
from pathlib import Path

import click
from rich.markup import escape

from ..errors import one_line
from ..kernels import KERNELS, Kernel
from . import common
from .common import EXIT_FAILED
from .params import (
    KernelSpec,
    border_option,
    color_option,
    padding_option,
    range_option,
    size_option,
)

_TILE = 512  # gallery tiles fit in this square unless --size says otherwise


def _fit(shape: tuple[int, ...], side: int) -> tuple[int, int]:
    """``(width, height)`` of an ``(H, W)`` image shrunk to fit ``side`` x ``side``."""
    height, width = shape[:2]
    scale = side / max(height, width)
    return max(1, round(width * scale)), max(1, round(height * scale))


@click.command()
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
@padding_option("same", "As for apply; 'same' keeps every tile the size of the original.")
@border_option("As for apply: what lies outside the image for same/full padding.")
@range_option("As for apply, e.g. abs to see both signs of an edge kernel.")
@color_option("As for apply: filter R, G, B separately (tiles leave alpha out).")
@size_option(f"Resize first, as for apply. Default: fit within {_TILE}x{_TILE}, keeping the shape.")
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
    from ..errors import ConvcliError
    from ..imageio import load_image, save_sheet, to_uint8
    from ..pipeline import Options, check_target, filter_image, map_range
    from ..visuals import Panel, contact_sheet, result_offset

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
            options = Options.build(kernel, padding=padding, border=border, size=size, color=color)
            raw = filter_image(loaded, options, image)
            result = to_uint8(map_range(raw, value_range)[0])  # what apply writes
            offset = result_offset(kernel.shape, padding)
            panels.append(Panel(result, f"{kernel.name}, {settings}", origin=offset))
        sheet = contact_sheet(panels, columns=columns)
        save_sheet(sheet.image, output, overwrite=overwrite)
    except ConvcliError as exc:
        if common.debug:
            traceback.print_exception(exc, file=sys.stderr)
        common.say("error", str(exc))
        sys.exit(EXIT_FAILED)
    finally:
        for note in notes:
            common.say("warning", f"{image}: {note}")
    common.stderr().print(
        f"[green]✓[/] {escape(one_line(str(output)))} "
        f"[dim]({sheet.image.shape[1]}x{sheet.image.shape[0]})[/]: "
        f"{escape(one_line(str(image)))} and "
        f"{len(chosen)} kernel{'' if len(chosen) == 1 else 's'} ({settings})",
        soft_wrap=True,
    )
