"""``convcli gallery``: one image under many kernels, as a labelled contact sheet."""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape

from ..errors import one_line
from ..kernels import KERNELS, Kernel
from ..kernels.banks import Bank
from ..steps import Pool
from . import common
from .layer import layer_options, layer_settings
from .params import (
    FilePath,
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


def _tiles(specs: tuple[Kernel | Bank, ...], *, combined: bool) -> list[tuple[Kernel | Bank, ...]]:
    """The filters of each tile: one each, except that ``--combine`` applies the
    2-D kernels side by side, as ``apply`` does, in one tile (where the first was)."""
    flat = [s for s in specs if not isinstance(s, Bank)]
    if not combined or len(flat) < 2:
        return [(s,) for s in specs]
    tiles: list[tuple[Kernel | Bank, ...]] = []
    for spec in specs:
        if isinstance(spec, Bank):
            tiles.append((spec,))
        elif spec is flat[0]:
            tiles.append(tuple(flat))
    return tiles


@click.command()
@click.argument("image", type=FilePath(path_type=Path))
@click.argument("output", type=FilePath(dir_okay=False, path_type=Path))
@click.option(
    "-k",
    "--kernel",
    "specs",
    type=KernelSpec(),
    multiple=True,
    help="A kernel to show (repeatable), or a filter bank (one tile per map). "
    "Default: every built-in kernel.",
)
@padding_option("same", "As for apply; 'same' keeps every tile the size of the original.")
@border_option("As for apply: what lies outside the image for same/full padding.")
@range_option("As for apply, e.g. abs to see both signs of an edge kernel.")
@color_option("As for apply: filter R, G, B separately (tiles leave alpha out).")
@size_option(f"Resize first, as for apply. Default: fit within {_TILE}x{_TILE}, keeping the shape.")
@layer_options(gallery=True)
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
    specs: tuple[Kernel | Bank, ...],
    padding: str,
    border: str,
    value_range: str,
    color: bool,
    size: tuple[int, int] | None,
    stride: tuple[int, int],
    dilation: tuple[int, int],
    layout: str,
    bias: tuple[float, ...] | None,
    combine: str | None,
    activation: str | None,
    pool: Pool | None,
    columns: int,
    overwrite: bool,
) -> None:
    """Write a contact sheet of IMAGE under every kernel.

    OUTPUT is an RGB PNG: the original first, then one labelled tile per
    kernel (every built-in one unless -k says), row by row; a filter bank
    gives one tile per map, and --combine applies the 2-D kernels side by
    side, as apply does, in one tile (maps: one tile each). Each tile is, pixel for
    pixel, what 'convcli apply' writes with the same kernel, padding, border,
    stride, dilation, bias, activation, pooling, range, colour and size, at
    the result's own size. Images larger than 512 pixels on a side are
    shrunk to fit, as with '--size', unless --size is given.

    \b
    Examples:
      convcli gallery photo.jpg gallery.png
      convcli gallery -k blur -k gaussian5 -k box --columns 2 photo.jpg blurs.png
      convcli gallery -k sobel-x -k sobel-y --range abs --border edge photo.jpg edges.png
      convcli gallery -k conv1.npy --bias b.npy --activation relu photo.jpg maps.png
      convcli gallery -k sobel-x -k sobel-y --combine magnitude photo.jpg gradient.png
    """
    from ..compare import result_origin
    from ..errors import ConvcliError
    from ..imageio import load_image, save_sheet, to_uint8
    from ..imageio.modes import WHITE, composite
    from ..imageio.targets import check_target
    from ..pipeline import Options, filter_image, map_range
    from ..visuals import Panel, contact_sheet

    if output.suffix.lower() != ".png":
        raise click.BadParameter(
            f"{str(output)!r}: a gallery is a PNG; name it .png", param_hint="OUTPUT"
        )
    chosen = specs or tuple(KERNELS.values())
    padding, border, value_range = padding.lower(), border.lower(), value_range.lower()
    layer = layer_settings(locals())
    settings = ", ".join(
        [padding, *([f"{border} border"] if border != "zero" else []),
         *([value_range] if value_range != "clip" else []),
         *([f"stride {stride[0]},{stride[1]}"] if stride != (1, 1) else []),
         *([f"dilation {dilation[0]},{dilation[1]}"] if dilation != (1, 1) else []),
         *([layer["combine"]] if layer["combine"] else []),
         *([layer["activation"]] if layer["activation"] else []),
         *([f"{layer['pool'].kind} pool"] if layer["pool"] else [])]
    )  # fmt: skip
    runs = []
    for group in _tiles(chosen, combined=layer["combine"] is not None):
        try:
            runs.append(
                Options.build(
                    group[0], then=group[1:], padding=padding, border=border, size=size,
                    color=color, **layer,
                )
            )  # fmt: skip
        except (ValueError, ConvcliError) as exc:
            raise click.UsageError(f"{'+'.join(s.name for s in group)}: {exc}") from None
        spec = group[0]
        if runs[-1].channels == 1 and color:
            raise click.UsageError(f"{spec.name}: the bank reads gray images; drop --color")
    notes: list[str] = []
    with common.one_image(image, notes):
        check_target(image, output, overwrite=overwrite)
        shown_color = color or any(run.channels == 3 for run in runs)
        loaded = load_image(image, size, color=shown_color, notes=notes)
        if size is None and max(loaded.shape[:2]) > _TILE:  # thumbnails, as apply --size does
            size = _fit(loaded.shape, _TILE)
            loaded = load_image(image, size, color=shown_color)
        full = loaded  # with alpha, if any: a bank reads it flattened, as apply does
        loaded = loaded[..., :3] if loaded.ndim == 3 else loaded  # alpha is not filtered
        panels = [Panel(loaded, f"{image.name}  {loaded.shape[1]}x{loaded.shape[0]}")]
        for run in runs:
            wanted = run.read.color if run.channels is None else run.channels == 3
            pixels = full if (full.ndim == 3) == wanted else load_image(image, size, color=wanted)
            if run.channels is not None and pixels.ndim == 3 and pixels.shape[2] == 4:
                pixels = composite(pixels[..., :3], pixels[..., 3], WHITE)
            pixels = pixels[..., :3] if pixels.ndim == 3 else pixels
            raw = filter_image(pixels, run, image)
            offset = result_origin(run, pixels.shape)
            maps = [raw] if run.maps == 1 else [raw[:, :, m] for m in range(run.maps)]
            for index, result in enumerate(maps):
                picture = to_uint8(map_range(result, value_range)[0])  # what apply writes
                label = run.label if run.maps == 1 else f"{run.label} #{index}"
                panels.append(Panel(picture, f"{label}, {settings}", origin=offset))
        sheet = contact_sheet(panels, columns=columns)
        save_sheet(sheet.image, output, overwrite=overwrite)
    common.stderr().print(
        f"[green]✓[/] {escape(one_line(str(output)))} "
        f"[dim]({sheet.image.shape[1]}x{sheet.image.shape[0]})[/]: "
        f"{escape(one_line(str(image)))} and "
        f"{len(panels) - 1} tile{'' if len(panels) == 2 else 's'} ({settings})",
        soft_wrap=True,
    )
