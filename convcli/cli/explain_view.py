"""The text ``convcli explain`` prints: shape arithmetic, the window, the steps.

Readable at 80 columns. Colour (padding and skipped cells dim) only on a
terminal: Rich drops it when stdout is a pipe or a file. Where stdout cannot
encode the multiplication sign, the middle dot or the minus sign, ASCII is drawn.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
from rich.text import Text

from ..explain import Explanation, StepValue, number
from ..kernels import Kernel
from ..options import Options
from .explain_shape import shape_lines

WIDTH = 80
_GRID_MAX = 12  # widest window drawn cell by cell


class Glyphs:
    """The few non-ASCII symbols, or their ASCII stand-ins."""

    def __init__(self, unicode: bool) -> None:
        self.unicode = unicode
        self.times = "×" if unicode else "x"
        self.gap = "·" if unicode else "."
        self.minus = "−" if unicode else "-"
        self.dots = "…" if unicode else "..."


_ASCII = {"×": "x", "·": ".", "−": "-", "…": "...", "°": " degrees", "ᵀ": "^T", "σ": "sigma"}


def glyphs_for(stream: object) -> Glyphs:
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        "×·−…°".encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return Glyphs(unicode=False)
    return Glyphs(unicode=True)


def reading(kernel: Kernel) -> str:
    """What ``convcli kernels`` says of the weights, on one line."""
    from .kernel_view import properties

    kind, split = (line.plain for line in properties(kernel.weights))
    if len(split) > 60 and split.startswith("separable"):  # long factors do not read
        split = f"separable (a column of {kernel.shape[0]} taps times a row of {kernel.shape[1]})"
    return f"{kind}; {split}"


def render_text(
    result: Explanation,
    kernel: Kernel,
    image: Path,
    options: Options,
    *,
    flip: bool = False,
    normalize: bool = False,
) -> None:
    from . import common

    g = glyphs_for(sys.stdout)
    out = common.stdout()  # a closed pipe (| head) ends the run as for every command
    out.width = min(WIDTH, out.width)
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    for line in lines(result, kernel, image, options, g, flip=flip, normalize=normalize):
        line.rstrip()
        if not g.unicode:  # the few symbols of other modules (a separable kernel's ᵀ), file names
            plain = "".join(_ASCII.get(char, char) for char in line.plain)
            line = Text(plain.encode(encoding, "backslashreplace").decode(encoding))
        out.print(line, soft_wrap=True)


def lines(
    e: Explanation,
    kernel: Kernel,
    image: Path,
    options: Options,
    g: Glyphs,
    *,
    flip: bool = False,
    normalize: bool = False,
) -> list[Text]:
    """Every line of the explanation, as Rich text (styles only where they help)."""
    geo = e.geometry
    kh, kw = geo.kernel_shape
    h, w = e.image_shape
    mode = "gray" if e.channel is None else f"colour, channel {e.channel}"
    out: list[Text] = [
        Text.assemble(
            (f"{kernel.name}", "bold"),
            f" ({kh}{g.times}{kw}) on {image.name}: {w}{g.times}{h} pixels, {mode}",
        ),
        Text(
            f"padding {geo.padding}, border {e.border}, stride {_pair(geo.stride, g)}, "
            f"dilation {_pair(geo.dilation, g)}"
        ),
        Text(""),
        Text("1. The output size", style="bold"),
        *(Text(f"   {line}") for line in shape_lines(geo, e.image_shape, e.pads, g.times)),
        Text(""),
    ]
    r, c = e.at
    cy, cx = e.centre
    out.append(Text(f"2. Output pixel row {r}, column {c}", style="bold"))
    where = "padding" if not (0 <= cy < h and 0 <= cx < w) else "input"
    sentence = (
        f"It is centred on {where} pixel row {cy}, column {cx}; the kernel sees "
        f"rows {_span(e.rows)}, columns {_span(e.cols)}."
    )
    (top, _), (left, _) = e.pads
    if geo.stride != (1, 1) or top or left:
        sentence += (
            f" The window starts at output index {g.times} stride {g.minus} padding before: "
            f"row {start_formula(r, geo.stride[0], top)} = {e.rows[0]}, "
            f"column {start_formula(c, geo.stride[1], left)} = {e.cols[0]}."
        )
    if e.padded.any():
        sentence += f" [ ] marks padding: {_border_words(e.border)}."
    out.extend(Text(line) for line in wrap(sentence))
    out.append(Text(""))
    out.extend(_window_lines(e, g, flip=flip, normalize=normalize))
    out.append(Text(""))
    out.extend(_sum_lines(e, g))
    out.append(Text(""))
    out.append(Text("3. The kernel", style="bold"))
    out.extend(Text(line) for line in wrap(reading(kernel)))
    return out


def start_formula(index: int, stride: int, before: int) -> str:
    """Where output ``index``'s window starts in the input, as arithmetic: ``5*2 - 1``."""
    return f"{index}*{stride} - {before}"


def _pair(pair: tuple[int, int], g: Glyphs) -> str:
    return str(pair[0]) if pair[0] == pair[1] else f"{pair[0]}{g.times}{pair[1]} (rows, columns)"


def _span(positions: tuple[int, ...]) -> str:
    first, last = positions[0], positions[-1]
    step = positions[1] - positions[0] if len(positions) > 1 else 1
    text = f"{first}..{last}"
    return text if step == 1 else f"{text} every {step}"


def _border_words(border: str) -> str:
    return {
        "zero": "the zero border gives 0 (the tutorial's black frame)",
        "edge": "the edge border repeats the nearest edge pixel",
        "reflect": "the reflect border mirrors the image, edge pixel not repeated",
        "symmetric": "the symmetric border mirrors the image, edge pixel repeated",
        "wrap": "the wrap border takes pixels from the opposite edge",
    }.get(border, f"the {border} border")


def wrap(
    text: str, indent: str = "   ", hang: str | None = None, width: int = WIDTH - 2
) -> list[str]:
    """``text`` in lines of at most ``width``; later lines indented by ``hang`` (or ``indent``)."""
    import textwrap

    later = indent if hang is None else hang
    return textwrap.wrap(text, width, initial_indent=indent, subsequent_indent=later,
                         break_on_hyphens=False, break_long_words=False)  # fmt: skip


def _window_lines(e: Explanation, g: Glyphs, *, flip: bool, normalize: bool) -> list[Text]:
    kh, kw = e.weights.shape
    how = [w for w, on in (("flipped", flip), ("normalized", normalize)) if on]
    kernel_title = "kernel" + (f" ({', '.join(how)})" if how else "")
    if kw > _GRID_MAX or kh > _GRID_MAX:
        return _too_wide(e, g)
    lines: list[Text] = []
    dh, dw = e.geometry.dilation
    if (dh, dw) != (1, 1):
        lines.append(Text(f"   the dilated footprint ({g.gap}: skipped, not read):"))
        lines.extend(_footprint(e, g))
        lines.append(Text(""))
    grids = [
        _fitting(e.window, e.padded, g, [number, lambda v: number(v, 3)]),
        _fitting(e.weights, None, g, [weight_text, lambda v: number(v, 3), lambda v: f"{v:.2g}"]),
        _fitting(e.products, None, g, [lambda v: number(v, 6), number, lambda v: number(v, 3)]),
    ]
    if any(grid is None for grid in grids):
        return _too_wide(e, g)
    titles = ["window" if (dh, dw) == (1, 1) else "taps", kernel_title, "products"]
    blocks = [(title, grid) for title, grid in zip(titles, grids, strict=True) if grid is not None]
    widths = [max(len(title), *(len(t) for t in cells)) for title, cells in blocks]
    if 3 + sum(widths) + 2 * 5 <= WIDTH:  # side by side: window x kernel = products
        ops = (f" {g.times} ", " = ")
        head = Text("   ")
        for i, (title, _) in enumerate(blocks):
            head.append(title.ljust(widths[i]))
            if i < 2:
                head.append("   ")
        lines.append(head)
        for row in range(kh):
            line = Text("   ")
            for i, (_, cells) in enumerate(blocks):
                line.append_text(cells[row])
                line.append(" " * (widths[i] - len(cells[row])))
                if i < 2:
                    line.append(ops[i] if row == kh // 2 else "   ")
            lines.append(line)
        return lines
    for title, cells in blocks:
        lines.append(Text(f"   {title}:"))
        lines.extend(Text("   ") + cell for cell in cells)
    return lines


def weight_text(value: float) -> str:
    """A weight as a small fraction where that is exact and shorter (``1/16``, ``1/9``),
    else as a number (``0.5``, ``8.9``)."""
    from fractions import Fraction

    decimal = number(value)
    exact = Fraction(value).limit_denominator(1024)
    if exact.denominator == 1 or float(exact) != value:
        return decimal
    fraction = str(exact)
    lossy = float(decimal) != value
    return fraction if lossy or len(fraction) < len(decimal) else decimal


def _too_wide(e: Explanation, g: Glyphs) -> list[Text]:
    kh, kw = e.weights.shape
    return [
        Text(line)
        for line in wrap(
            f"{kh}{g.times}{kw} window: values {number(float(e.window.min()))} to "
            f"{number(float(e.window.max()))}; weights {number(float(e.weights.min()))} to "
            f"{number(float(e.weights.max()))} (too large to draw here; --json has them all)"
        )
    ]


def _cells(
    values: np.ndarray, padded: np.ndarray | None, g: Glyphs, text: Callable[[float], str] = number
) -> list[Text]:
    """A matrix as right-aligned cells; padding cells in brackets and dim."""
    texts = [
        [
            f"[{t}]" if padded is not None and padded[r, c] else f"{t} "
            for c, t in enumerate(_signed(text(float(v)), g) for v in row)
        ]
        for r, row in enumerate(values)
    ]
    width = max(len(t) for row in texts for t in row) + 1
    rows: list[Text] = []
    for r, row in enumerate(texts):
        line = Text()
        for c, cell in enumerate(row):
            dim = padded is not None and bool(padded[r, c])
            line.append(cell.rjust(width), style="dim" if dim else "")
        rows.append(line)
    return rows


def _fitting(
    values: np.ndarray, padded: np.ndarray | None, g: Glyphs, texts: list[Callable[[float], str]]
) -> list[Text] | None:
    """The first rendering of ``values`` whose rows fit the width, or None."""
    for text in texts:
        cells = _cells(values, padded, g, text)
        if max(len(c) for c in cells) <= WIDTH - 3:
            return cells
    return None


def _footprint(e: Explanation, g: Glyphs) -> list[Text]:
    """The whole span of a dilated kernel, read cells with values, skipped cells dotted."""
    dh, dw = e.geometry.dilation
    kh, kw = e.weights.shape
    sh, sw = e.geometry.span
    cells = [[Text(g.gap, style="dim") for _ in range(sw)] for _ in range(sh)]
    for i in range(kh):
        for j in range(kw):
            text = _signed(number(float(e.window[i, j])), g)
            cells[i * dh][j * dw] = Text(
                f"[{text}]" if e.padded[i, j] else text, style="dim" if e.padded[i, j] else ""
            )
    width = max(len(t) for row in cells for t in row) + 1
    lines = []
    for row in cells:
        line = Text("   ")
        for cell in row:
            line.append(" " * (width - len(cell)))
            line.append_text(cell)
        lines.append(line)
    return lines


def _signed(text: str, g: Glyphs) -> str:
    return g.minus + text[1:] if text.startswith("-") else text


_X = re.compile(r"\bx\b")  # the value before a step, in its formula


def step_lines(step: StepValue, before: float, g: Glyphs) -> list[str]:
    """``name:  formula with the value before = value after``, wrapped under itself."""
    value = number(step.value, 6)
    if step.name == "range clip":
        text = f"{value} kept (the writer rounds and clips)"
    elif step.formula:
        # x only ever opens a formula or follows "(" or "|": a negative needs no parentheses
        text = f"{_X.sub(number(before, 6), step.formula)} = {value}"
    else:
        text = value
    if g.unicode:
        text = text.replace("-", g.minus).replace("*", g.times)
    head = f"     {step.name + ':':<16} "
    body = wrap(text, indent=" " * len(head))
    return [head + body[0].lstrip(), *body[1:]]


def _sum_lines(e: Explanation, g: Glyphs) -> list[Text]:
    terms = [float(p) for p in e.products.flat if p != 0]
    total = _signed(number(e.total, 6), g)
    if 0 < len(terms) <= 9:
        text = _signed(number(terms[0]), g)
        for t in terms[1:]:
            text += f" {g.minus} {number(-t)}" if t < 0 else f" + {number(t)}"
        head = f"   sum of the products: {text} = {total}"
        if len(head) > WIDTH:
            head = f"   sum of the {len(terms)} non-zero products = {total}"
    else:
        head = f"   sum of the {e.products.size} products = {total}"
    lines = [Text(head)]
    lines.append(Text("   then, in the order apply runs them:"))
    before = e.total
    for step in e.steps:
        lines.extend(Text(line) for line in step_lines(step, before, g))
        before = step.value
    value = number(e.value)
    expected = float(np.clip(np.rint(e.raw), 0, 255))
    raw = _signed(number(e.raw, 6), g)
    note = f"{raw} is whole" if e.raw == np.rint(e.raw) else f"{raw} rounded half to even"
    if not 0 <= np.rint(e.raw) <= 255:
        note += ", then clipped to 0..255"
    lines.append(Text.assemble("   written: ", (value, "bold"), f"  ({note})"))
    if expected != e.value:
        lines.append(
            Text(
                "   (apply computes this image in float32, its fused 8-bit path, and there "
                "the sum lies on the other side of a half)"
            )
        )
    return lines
