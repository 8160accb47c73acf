"""Pictures of results: a before/after comparison and a contact sheet of kernels.

Pillow and NumPy only; arrays in, arrays out, nothing printed or written.
Every picture is pasted pixel for pixel (never scaled or resampled), so what a
sheet shows is exactly what ``convcli apply`` writes. Labels use Pillow's
built-in font (``ImageFont.load_default``), so nothing is downloaded.

Each picture sits on an amber rectangle the size of the whole picture area,
so the margin a ``valid`` result loses shows as an amber frame around it. The
background, the frame and the label colour are tinted (never gray), so in a
sheet of grayscale pictures a pixel is gray exactly when it belongs to a
picture.

>>> import numpy as np
>>> sheet = compare(np.zeros((8, 8), np.uint8), np.ones((6, 6), np.uint8),
...                 labels=("in", "out"), offset=(1, 1))
>>> sheet.pictures[1].width - sheet.pictures[0].width
-2
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .engine import Geometry

__all__ = [
    "AREA",
    "BACKGROUND",
    "INK",
    "Box",
    "Panel",
    "Sheet",
    "compare",
    "contact_sheet",
    "result_offset",
]

BACKGROUND = (30, 34, 42)  # slate; not gray, so pictures stand out pixel-exactly
INK = (222, 228, 238)  # label text; blended with BACKGROUND it is never gray either
AREA = (176, 120, 40)  # amber: the part of a picture area its picture does not cover
MARGIN = 12  # around the sheet
GAP = 8  # between cells: thin, but the pictures never touch
LABEL_GAP = 4  # between a picture area and its label
LABEL_PAD = 2  # above and below the text inside a label box


@dataclass(frozen=True)
class Box:
    """A rectangle of a sheet, in pixels: ``left``, ``top``, ``width``, ``height``."""

    left: int
    top: int
    width: int
    height: int

    @property
    def right(self) -> int:
        return self.left + self.width

    @property
    def bottom(self) -> int:
        return self.top + self.height

    def crop(self, array: np.ndarray) -> np.ndarray:
        """The part of ``array`` (rows, columns, ...) under this box."""
        return array[self.top : self.bottom, self.left : self.right]

    def overlaps(self, other: Box) -> bool:
        return (
            self.left < other.right
            and other.left < self.right
            and self.top < other.bottom
            and other.top < self.bottom
        )


@dataclass(frozen=True)
class Panel:
    """One picture and its label.

    ``origin`` is ``(top, left)`` of the picture relative to the other
    panels' pictures, for results whose pixels do not sit where the input's
    do: a ``valid`` result is placed ``(k-1)//2`` in, over the pixels it was
    computed for (see :func:`result_offset`).
    """

    picture: np.ndarray  # (H, W) or (H, W, 3) uint8
    label: str
    origin: tuple[int, int] = (0, 0)


@dataclass(frozen=True)
class Sheet:
    """A composed RGB image and where each picture and label went (row-major)."""

    image: np.ndarray  # (H, W, 3) uint8
    pictures: tuple[Box, ...]
    labels: tuple[Box, ...]
    columns: int
    areas: tuple[Box, ...] = ()  # each cell's picture area, amber where uncovered


def result_offset(kernel_shape: tuple[int, int], padding: str) -> tuple[int, int]:
    """Where a result's top-left pixel sits over its input, as ``(top, left)``.

    Output pixel ``(i, j)`` is the weighted sum around input pixel
    ``(i + dy, j + dx)``: ``(k-1)//2`` for ``valid`` (the lost border), 0 for
    ``same``, negative for ``full`` (the result reaches past the input).

    >>> result_offset((3, 3), "valid"), result_offset((5, 5), "same")
    ((1, 1), (0, 0))
    """
    # Stride 1: the pads, hence the offset, do not depend on the image's size.
    return Geometry(kernel_shape, padding).offset((1, 1))


def compare(
    before: np.ndarray,
    after: np.ndarray,
    *,
    labels: tuple[str, str],
    offset: tuple[int, int] = (0, 0),
) -> Sheet:
    """The tutorial's ``plot_two_images``: ``before`` and ``after`` side by side.

    ``offset`` places ``after`` over ``before`` (:func:`result_offset`), so a
    ``valid`` result appears centred at its true size with its lost border
    visible around it.
    """
    return contact_sheet(
        [Panel(before, labels[0]), Panel(after, labels[1], origin=offset)], columns=2
    )


def contact_sheet(panels: Sequence[Panel], *, columns: int) -> Sheet:
    """Lay ``panels`` out in a grid, ``columns`` wide, row by row, labels below.

    Every cell has the same size: as wide as the widest picture (labels
    wrap at spaces to fit; a single longer word widens every cell) and tall
    enough for every picture at its origin. Pictures are pasted unscaled on
    an amber picture area, which shows wherever a picture is smaller than the
    others (a ``valid`` result's lost border, the margin ``full`` adds).
    """
    if not panels:
        raise ValueError("panels must not be empty")
    if columns < 1:
        raise ValueError(f"columns must be at least 1, got {columns}")
    pictures = [_rgb(panel.picture) for panel in panels]
    top0 = min(panel.origin[0] for panel in panels)
    left0 = min(panel.origin[1] for panel in panels)
    area_h = max(p.origin[0] + a.shape[0] for p, a in zip(panels, pictures, strict=True)) - top0
    area_w = max(p.origin[1] + a.shape[1] for p, a in zip(panels, pictures, strict=True)) - left0

    font = _font(_font_size(area_w))
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    texts = [_wrap(panel.label, area_w, measure, font) for panel in panels]
    boxes = [_text_box(measure, text, font) for text in texts]
    text_top = min(b[1] for b in boxes)
    text_h = max(b[3] for b in boxes) - text_top
    label_h = text_h + 2 * LABEL_PAD
    cell_w = max(area_w, *(b[2] - b[0] for b in boxes))
    cell_h = area_h + LABEL_GAP + label_h

    columns = min(columns, len(panels))
    rows = -(-len(panels) // columns)
    width = 2 * MARGIN + columns * cell_w + (columns - 1) * GAP
    height = 2 * MARGIN + rows * cell_h + (rows - 1) * GAP
    sheet = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(sheet)

    picture_boxes, label_boxes, area_boxes = [], [], []
    layout = zip(panels, pictures, texts, boxes, strict=True)
    for index, (panel, array, text, text_box) in enumerate(layout):
        row, column = divmod(index, columns)
        cell_left = MARGIN + column * (cell_w + GAP)
        cell_top = MARGIN + row * (cell_h + GAP)
        box = Box(
            cell_left + (cell_w - area_w) // 2 + panel.origin[1] - left0,
            cell_top + panel.origin[0] - top0,
            array.shape[1],
            array.shape[0],
        )
        area = Box(cell_left + (cell_w - area_w) // 2, cell_top, area_w, area_h)
        draw.rectangle((area.left, area.top, area.right - 1, area.bottom - 1), fill=AREA)
        sheet.paste(Image.fromarray(array), (box.left, box.top))
        label = Box(cell_left, cell_top + area_h + LABEL_GAP, cell_w, label_h)
        text_w = text_box[2] - text_box[0]
        draw.multiline_text(
            (label.left + (cell_w - text_w) // 2 - text_box[0], label.top + LABEL_PAD - text_top),
            text,
            font=font,
            fill=INK,
            align="center",
        )
        picture_boxes.append(box)
        label_boxes.append(label)
        area_boxes.append(area)
    return Sheet(
        np.asarray(sheet),
        tuple(picture_boxes),
        tuple(label_boxes),
        columns,
        tuple(area_boxes),
    )


def _rgb(picture: np.ndarray) -> np.ndarray:
    array = np.asarray(picture)
    if array.dtype != np.uint8:
        raise ValueError(f"picture must be uint8, got {array.dtype}")
    if array.ndim == 2:
        return np.repeat(array[:, :, None], 3, axis=2)
    if array.ndim == 3 and array.shape[2] == 3:
        return array
    raise ValueError(f"picture must be (H, W) or (H, W, 3), got shape {array.shape}")


def _wrap(
    label: str,
    width: int,
    measure: ImageDraw.ImageDraw,
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
) -> str:
    """Break ``label`` at spaces into lines no wider than ``width`` where it can be."""
    lines: list[str] = []
    for word in label.split():
        if lines and measure.textlength(f"{lines[-1]} {word}", font=font) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return "\n".join(lines)


def _text_box(
    measure: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont
) -> tuple[int, int, int, int]:
    """Whole-pixel ``(left, top, right, bottom)`` of ``text`` drawn at the origin."""
    left, top, right, bottom = measure.multiline_textbbox((0, 0), text, font=font, align="center")
    return math.floor(left), math.floor(top), math.ceil(right), math.ceil(bottom)


def _font_size(area_width: int) -> int:
    """Labels readable beside the pictures: about 1/22 of a picture's width, 12 to 24 px."""
    return max(12, min(24, round(area_width / 22)))


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's built-in font: scalable since Pillow 10.1 (with FreeType), else the bitmap one."""
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has only the fixed-size bitmap font
        return ImageFont.load_default()
