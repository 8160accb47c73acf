"""``explain --animate``: the kernel's footprint sliding over the user's own pixels.

Drawn in the style of Dumoulin and Visin's convolution-arithmetic figures: a
small crop of input cells around the explained pixel (at most about 12x12,
padding cells included and outlined in amber), each a square of its gray
value with its number; the taps of the kernel outlined in blue, moving by
the stride, dilated taps drawn apart; and beside it the output grid filling
in, one frame per output cell (at most 150: a larger block is cropped to the
cells nearest the explained one).

Where the footprint falls comes from :class:`convcli.engine.Geometry`, the
padding values from the engine's index map (:func:`convcli.explain.padded_cells`),
the output numbers from what ``apply`` writes (:attr:`Explanation.output`):
the picture draws them, it computes nothing. The file is written through
:func:`convcli.imageio.atomic.write_atomically`, like every other output.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .engine import Geometry
from .explain import Explanation, UnsupportedError, number, padded_cells, tap_positions

__all__ = [
    "MAX_CELLS",
    "MAX_FRAMES",
    "Block",
    "Layout",
    "block_for",
    "cell_image",
    "check_animatable",
    "draw_frames",
    "encode",
    "gray_index",
    "layout_for",
    "palette_colours",
    "write_animation",
]

MAX_CELLS = 12  # input cells per side of the crop (more if one footprint needs more)
MAX_SPAN = 24  # the widest footprint drawn; beyond it the cells would be unreadably small
MAX_FRAMES = 150
CELL = 30  # pixels per cell side
GAP = 36  # between the input crop and the output grid
MARGIN = 12
FRAME_MS = 350
LAST_MS = 2500

BACKGROUND = (30, 34, 42)  # the slate of convcli's other pictures
INK = (222, 228, 238)
PAD = (214, 150, 52)  # amber outline: a padding cell
TAP = (64, 156, 255)  # blue: the kernel's taps and the output cell they make
GRID = (78, 86, 100)  # an output cell not yet computed
_COLOURS = (BACKGROUND, INK, PAD, TAP, GRID)  # palette entries 0..4
_LEVELS = 250  # grays, palette entries 5..254 (255 stays free: see _palette)
_BG, _INK, _PAD, _TAP, _GRID = range(len(_COLOURS))


def gray_index(value: float) -> int:
    """The palette entry of the gray nearest ``value`` (clipped to 0..255)."""
    level = min(255.0, max(0.0, float(np.rint(value))))
    return len(_COLOURS) + round(level * (_LEVELS - 1) / 255)


def palette_colours() -> list[tuple[int, int, int]]:
    grays = [round(k * 255 / (_LEVELS - 1)) for k in range(_LEVELS)]
    return [*_COLOURS, *((v, v, v) for v in grays)]


@dataclass(frozen=True)
class Block:
    """Which output cells are animated and which padded input cells they read."""

    out_rows: range
    out_cols: range
    in_rows: range  # padded positions
    in_cols: range

    @property
    def frames(self) -> int:
        return len(self.out_rows) * len(self.out_cols)


def _axis(e: Explanation, axis: int) -> tuple[range, range]:
    """Output indices (nearest ``e.at``) and the padded input positions they read."""
    g = e.geometry
    span, stride = g.span[axis], g.stride[axis]
    size, at = e.output_shape[axis], e.at[axis]
    # ~12 cells, or for a wide footprint enough for three positions of it
    count = min(size, max(1, (max(MAX_CELLS, span + 2 * stride) - span) // stride + 1))
    start = min(max(at - count // 2, 0), size - count)
    first = int(tap_positions(g, axis, start)[0])
    last = int(tap_positions(g, axis, start + count - 1)[-1])
    return range(start, start + count), range(first, last + 1)


def check_animatable(geometry: Geometry) -> None:
    """:class:`UnsupportedError` for a footprint too wide to draw readably."""
    if max(geometry.span) > MAX_SPAN:
        raise UnsupportedError(
            f"--animate draws footprints up to {MAX_SPAN} pixels across; this one spans "
            f"{geometry.span[0]}x{geometry.span[1]} (a smaller kernel or dilation)"
        )


def block_for(e: Explanation, max_frames: int = MAX_FRAMES) -> Block:
    """The output block around ``e.at``: at most ``max_frames`` cells, the crop ~12x12."""
    check_animatable(e.geometry)
    (rows, in_rows), (cols, in_cols) = _axis(e, 0), _axis(e, 1)
    while len(rows) * len(cols) > max_frames:  # trim the longer side, keeping e.at inside
        if len(rows) >= len(cols):
            rows = _trim(rows, e.at[0])
        else:
            cols = _trim(cols, e.at[1])
    g = e.geometry
    in_rows = range(
        int(tap_positions(g, 0, rows[0])[0]), int(tap_positions(g, 0, rows[-1])[-1]) + 1
    )
    in_cols = range(
        int(tap_positions(g, 1, cols[0])[0]), int(tap_positions(g, 1, cols[-1])[-1]) + 1
    )
    return Block(rows, cols, in_rows, in_cols)


def _trim(indices: range, keep: int) -> range:
    if keep - indices.start > indices.stop - 1 - keep:
        return range(indices.start + 1, indices.stop)
    return range(indices.start, indices.stop - 1)


@dataclass(frozen=True)
class Layout:
    """Where things are in every frame, in pixels (tests read frames through it)."""

    width: int
    height: int
    input_origin: tuple[int, int]  # (x, y) of the crop's top-left cell
    output_origin: tuple[int, int]

    def input_cell(self, row: int, col: int) -> tuple[int, int, int, int]:
        """Box of crop cell ``(row, col)`` (0-based within the crop)."""
        x, y = self.input_origin
        return x + col * CELL, y + row * CELL, x + (col + 1) * CELL - 1, y + (row + 1) * CELL - 1

    def output_cell(self, row: int, col: int) -> tuple[int, int, int, int]:
        x, y = self.output_origin
        return x + col * CELL, y + row * CELL, x + (col + 1) * CELL - 1, y + (row + 1) * CELL - 1


def layout_for(block: Block) -> Layout:
    title = MARGIN + 2 * 18
    crop_w, crop_h = len(block.in_cols) * CELL, len(block.in_rows) * CELL
    grid_w, grid_h = len(block.out_cols) * CELL, len(block.out_rows) * CELL
    width = MARGIN * 2 + crop_w + GAP + grid_w
    height = title + max(crop_h, grid_h) + 8 + 2 * 18 + MARGIN
    return Layout(
        width=max(width, 360),
        height=height,
        input_origin=(MARGIN, title),
        output_origin=(MARGIN + crop_w + GAP, title),
    )


def draw_frames(e: Explanation, plane: np.ndarray, block: Block | None = None) -> list[Image.Image]:
    """One frame per output cell of the block, row by row, on :func:`palette_colours`.

    Drawn straight in palette entries (no quantising afterwards), so every
    cell is exactly the gray :func:`gray_index` gives and both GIF and APNG
    hold the same pixels."""
    block = block or block_for(e)
    layout = layout_for(block)
    g = e.geometry
    rows, cols = np.array(block.in_rows), np.array(block.in_cols)
    values, padding = padded_cells(plane, e.pads, e.border, rows, cols)
    base = Image.new("P", (layout.width, layout.height), _BG)
    base.putpalette([channel for colour in palette_colours() for channel in colour])
    draw = _draw(base)
    small, label = _font(11), _font(13)
    draw.text((MARGIN, MARGIN), _title(e), fill=_INK, font=label)
    draw.text((MARGIN, MARGIN + 18), _subtitle(e), fill=_INK, font=small)
    for i in range(len(rows)):
        for j in range(len(cols)):
            box = layout.input_cell(i, j)
            _cell(draw, box, float(values[i, j]), small)
            if padding[i, j]:
                draw.rectangle(box, outline=_PAD, width=2)
    for i in range(len(block.out_rows)):
        for j in range(len(block.out_cols)):
            draw.rectangle(layout.output_cell(i, j), outline=_GRID, width=1)
    frames = []
    current = base.copy()
    caption_y = layout.height - MARGIN - 2 * 18 + 4
    for oi, r in enumerate(block.out_rows):
        for oj, c in enumerate(block.out_cols):
            value = float(e.output[r, c])
            _cell(_draw(current), layout.output_cell(oi, oj), value, small)
            frame = current.copy()
            draw = _draw(frame)
            for pr in tap_positions(g, 0, r):
                for pc in tap_positions(g, 1, c):
                    box = layout.input_cell(
                        int(pr) - block.in_rows.start, int(pc) - block.in_cols.start
                    )
                    draw.rectangle(box, outline=_TAP, width=3)
            draw.rectangle(layout.output_cell(oi, oj), outline=_TAP, width=3)
            draw.text((MARGIN, caption_y), _caption(e, r, c, value), fill=_INK, font=label)
            frames.append(frame)
    return frames


def cell_image(value: float) -> Image.Image:
    """One cell as every frame draws it: a square of ``value``'s gray with its number."""
    image = Image.new("P", (CELL, CELL), _BG)
    image.putpalette([channel for colour in palette_colours() for channel in colour])
    _cell(_draw(image), (0, 0, CELL - 1, CELL - 1), value, _font(11))
    return image


def _draw(image: Image.Image) -> ImageDraw.ImageDraw:
    draw = ImageDraw.Draw(image)
    draw.fontmode = "1"  # crisp text in palette entries, no blending
    return draw


def _cell(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], value: float, font) -> None:
    """A square of the value's gray (clipped to 0..255) with the value written on it."""
    index = gray_index(value)
    draw.rectangle(box, fill=index)
    x0, y0, x1, y1 = box
    ink = gray_index(0) if palette_colours()[index][0] >= 128 else gray_index(255)
    draw.text(((x0 + x1 + 1) / 2, (y0 + y1 + 1) / 2), number(value, 3), fill=ink, font=font,
              anchor="mm")  # fmt: skip


def _title(e: Explanation) -> str:
    kh, kw = e.geometry.kernel_shape
    return f"{e.kernel} ({kh}x{kw}), padding {e.geometry.padding}, border {e.border}"


def _subtitle(e: Explanation) -> str:
    g = e.geometry
    stride = g.stride[0] if g.stride[0] == g.stride[1] else f"{g.stride[0]},{g.stride[1]}"
    dilation = g.dilation[0] if g.dilation[0] == g.dilation[1] else "{},{}".format(*g.dilation)
    h, w = e.output_shape
    return (
        f"stride {stride}, dilation {dilation}; input {e.image_shape[1]}x{e.image_shape[0]} "
        f"-> output {w}x{h}; blue: the taps; amber: padding"
    )


def _caption(e: Explanation, r: int, c: int, value: float) -> str:
    return (
        f"output row {r}, column {c}: sum of the products {number(float(e.sums[r, c]), 5)}"
        f" -> written {number(value)}"
    )


@lru_cache(maxsize=4)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's built-in font, scalable since Pillow 10.1 (nothing is downloaded)."""
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: the fixed bitmap font
        return ImageFont.load_default()


def encode(frames: list[Image.Image], fmt: str, handle: BinaryIO) -> None:
    """Write ``frames`` as an endlessly looping GIF or APNG to ``handle``.

    Each frame is stored cropped to what changed; the GIF also leaves
    unchanged pixels transparent (the palette's one free entry), which keeps
    a 150-frame file well under 1 MB.
    """
    durations = [FRAME_MS] * (len(frames) - 1) + [LAST_MS]
    if fmt == "GIF":
        frames[0].save(handle, format="GIF", save_all=True, append_images=frames[1:],
                       duration=durations, loop=0, optimize=True, disposal=1)  # fmt: skip
    else:
        frames[0].save(handle, format="PNG", save_all=True, append_images=frames[1:],
                       duration=durations, loop=0, default_image=False)  # fmt: skip


def write_animation(
    e: Explanation, plane: np.ndarray, target: Path, *, overwrite: bool = False
) -> int:
    """Draw and write the animation atomically; returns the number of frames."""
    from .imageio.atomic import write_atomically

    fmt = "GIF" if target.suffix.lower() == ".gif" else "PNG"
    frames = draw_frames(e, plane)
    write_atomically(target, lambda handle: encode(frames, fmt, handle), overwrite=overwrite)
    return len(frames)
