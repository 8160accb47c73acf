"""One output pixel taken apart: the window, the products, the sum and every later step.

``convcli explain`` teaches what the tutorial teaches (the first 3x3 window of
the cat times ``sharpen``, summed to 44; 224 - 3 + 1 = 222) with a user's own
image and options. It is only worth anything if the value it shows is *the*
value ``convcli apply`` writes, so nothing here re-derives the arithmetic:

- the geometry (pads, output size, which padded rows and columns a pixel
  reads, stride and dilation) is :class:`convcli.engine.Geometry`'s;
- the values the border mode gives padding cells come from the engine's own
  index map (:func:`convcli.engine.reader.index_map`);
- the sum and every later step (a kernel file's scale and offset, bias,
  activation, ``--scale``/``--offset``) are the run's own step objects
  applied to the whole image, read at the pixel;
- the written value is :func:`convcli.pipeline.render`'s, the function
  ``apply`` writes through (fused 8-bit path and ``--range`` included).

The products are shown for teaching; their sum agrees with the engine's to
float64 rounding (the same numbers, added in another order).

No printing, no Click, no Rich: :mod:`convcli.cli.explain` draws the text and
:mod:`convcli.animation` the pictures.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .engine import Geometry
from .engine.reader import index_map
from .options import Options
from .steps import Affine, Convolve

__all__ = [
    "Explanation",
    "PositionError",
    "StepValue",
    "UnsupportedError",
    "check_explainable",
    "explain",
    "geometry_of",
    "number",
    "operand",
    "padded_cells",
    "tap_positions",
]

#: Steps that change the image's shape or mix several results: not one window's story.
_UNEXPLAINED = {
    "pool": "pooling (--pool) is not explained: it comes after the window",
    "combine": "--combine is not explained: it mixes several kernels' results",
    "filters": "filter banks and kernels side by side are not explained (one 2-D kernel)",
}


class UnsupportedError(ValueError):
    """The options are not one kernel's sliding window (pooling, banks, chains)."""


class PositionError(ValueError):
    """``at`` lies outside the output; ``output_shape`` says what would have fitted."""

    def __init__(self, at: tuple[int, int], output_shape: tuple[int, int]) -> None:
        h, w = output_shape
        super().__init__(
            f"{at[0]},{at[1]} is outside the {w}x{h} output "
            f"(rows 0..{h - 1} or -{h}..-1, columns 0..{w - 1} or -{w}..-1)"
        )
        self.at, self.output_shape = at, output_shape


@dataclass(frozen=True)
class StepValue:
    """One later step at the pixel: its name, what it does, the value after it."""

    name: str  # "bias", "activation relu", "scale", "range clip", ...
    formula: str  # in terms of x, the value before the step: "x / 16", "max(x, 0)"; "" if none
    value: float


@dataclass(frozen=True)
class Explanation:
    """Everything ``explain`` shows about one output pixel of one channel."""

    kernel: str
    image_shape: tuple[int, int]  # (height, width) as loaded
    geometry: Geometry
    border: str
    at: tuple[int, int]  # (row, col) in the output, non-negative
    output_shape: tuple[int, int]
    pads: tuple[tuple[int, int], tuple[int, int]]
    rows: tuple[int, ...]  # input row of each kernel row (outside 0..H-1: padding)
    cols: tuple[int, ...]
    window: np.ndarray  # (kh, kw): the values the taps see
    padded: np.ndarray  # (kh, kw) bool: the tap lies in the padding
    weights: np.ndarray  # (kh, kw): the kernel as applied (after --flip/--normalize)
    products: np.ndarray
    total: float  # the engine's sum at this pixel
    steps: tuple[StepValue, ...]  # each later step, in apply's order
    raw: float  # before rounding and clipping (after --range's mapping)
    value: float  # what the writer puts in the file
    fused: bool  # apply takes its fused 8-bit path (float32 arithmetic)
    channel: str | None = None  # "R", "G" or "B" with --color
    #: The whole channel as the writer puts it in the file (for the animation's grid).
    output: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros((0, 0)), repr=False)
    #: The engine's sum at every output pixel of the channel (before any later step).
    sums: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros((0, 0)), repr=False)

    @property
    def centre(self) -> tuple[int, int]:
        """The input pixel the output pixel is centred on (may be in the padding)."""
        (ah, aw), (dh, dw) = self.geometry.anchor, self.geometry.dilation
        return self.rows[0] + ah * dh, self.cols[0] + aw * dw

    def document(self) -> dict[str, Any]:
        """The ``--json`` document: plain lists and numbers, field names as the issue gives."""
        (top, bottom), (left, right) = self.pads
        g = self.geometry
        return {
            "kernel": self.kernel,
            "input_size": [self.image_shape[1], self.image_shape[0]],
            "padding": g.padding,
            "border": self.border,
            "stride": list(g.stride),
            "dilation": list(g.dilation),
            "channel": self.channel,
            "output_size": [self.output_shape[1], self.output_shape[0]],
            "pads": {"top": top, "bottom": bottom, "left": left, "right": right},
            "at": list(self.at),
            "centre": list(self.centre),
            "rows": list(self.rows),
            "columns": list(self.cols),
            "window": self.window.tolist(),
            "padded": self.padded.tolist(),
            "weights": self.weights.tolist(),
            "products": self.products.tolist(),
            "sum": self.total,
            "steps": [{"name": s.name, "formula": s.formula, "value": s.value} for s in self.steps],
            "raw": self.raw,
            "value": self.value,
            "fused_8bit": self.fused,
        }


def geometry_of(step: Convolve) -> Geometry:
    """The step's footprint, as the engine computes it (stride and dilation included)."""
    own = getattr(step, "geometry", None)
    if isinstance(own, Geometry):
        return own
    return Geometry(
        step.kernel.shape,
        step.padding,
        stride=getattr(step, "stride", 1),
        dilation=getattr(step, "dilation", 1),
    )


def check_explainable(options: Options) -> Convolve:
    """The one convolution ``explain`` can take apart, or :class:`UnsupportedError`."""
    for step in options.steps:
        name = str(step.describe().get("step", "")).lower()
        if name in _UNEXPLAINED:
            raise UnsupportedError(_UNEXPLAINED[name])
    first, *later = options.steps
    if not isinstance(first, Convolve) or len(options.convolutions) != 1:
        raise UnsupportedError("explain takes one kernel (a chain of -k is not explained)")
    if np.ndim(first.kernel.weights) != 2:
        raise UnsupportedError("explain takes one 2-D kernel (a filter bank is not explained)")
    for step in later:
        if step.output_shape((8, 8)) != (8, 8):
            raise UnsupportedError(f"explain does not take apart a {type(step).__name__} step")
    return first


def explain(
    image: np.ndarray,
    options: Options,
    at: tuple[int, int] = (0, 0),
    *,
    channel: int | None = None,
    fmt: str = "PNG",
    source: Path | None = None,
) -> Explanation:
    """Take output pixel ``at`` (negative counts from the end) of ``image`` apart.

    ``image`` is what :func:`convcli.imageio.load_image` returned for the
    options: ``(H, W)``, or ``(H, W, 3|4)`` with ``--color`` (alpha is set
    aside as ``apply`` does), in which case ``channel`` (0, 1 or 2) picks the
    channel explained. Raises :class:`UnsupportedError` for options that are
    not one kernel, :class:`PositionError` for a pixel outside the output and
    :class:`~convcli.errors.ImageShapeError` when nothing is left (``valid``).
    """
    from .pipeline import render  # the very function apply writes through

    conv = check_explainable(options)
    if image.ndim == 3:
        if image.shape[2] == 4:
            image = image[..., :3]  # apply carries alpha separately
        if channel is None or not 0 <= channel < image.shape[2]:
            raise ValueError(f"channel must be 0..{image.shape[2] - 1} for a colour image")
        plane = image[..., channel]
    else:
        channel, plane = None, image
    geometry = geometry_of(conv)
    out_shape = geometry.output_shape(plane.shape)
    if geometry.fits(plane.shape):
        r, c = _position(at, out_shape)
    rendered = render(image, options, fmt, source)  # ImageShapeError if nothing is left
    pads = geometry.pads(plane.shape)
    window, padded = padded_cells(
        plane, pads, conv.border, tap_positions(geometry, 0, r), tap_positions(geometry, 1, c)
    )
    weights = np.asarray(conv.kernel.weights, dtype=np.float64)
    sums, after = _step_values(plane, options, conv, (r, c))
    total = float(sums[r, c])
    pick = (r, c) if channel is None else (r, c, channel)
    written = rendered.out[pick]
    # fused: one linear kernel and --range clip, so the raw value is the sum itself
    raw = total if rendered.raw is None else float(written)
    after.append(_range_step(options.write.output_range, rendered.raw, raw))
    from .imageio import to_uint8  # the writer's own rounding and clipping

    whole = rendered.out if channel is None else rendered.out[..., channel]
    output = whole if fmt == "NPY" else to_uint8(whole)
    if fmt != "NPY":
        written = to_uint8(np.asarray(written))
    top, left = pads[0][0], pads[1][0]
    return Explanation(
        kernel=conv.kernel.name,
        image_shape=(plane.shape[0], plane.shape[1]),
        geometry=geometry,
        border=conv.border,
        at=(r, c),
        output_shape=out_shape,
        pads=pads,
        rows=tuple(int(p) - top for p in tap_positions(geometry, 0, r)),
        cols=tuple(int(p) - left for p in tap_positions(geometry, 1, c)),
        window=window,
        padded=padded,
        weights=weights,
        products=window * weights,
        total=total,
        steps=tuple(after),
        raw=raw,
        value=float(written),
        fused=rendered.raw is None,
        channel=None if channel is None else "RGB"[channel],
        output=output,
        sums=sums,
    )


def _position(at: tuple[int, int], out_shape: tuple[int, int]) -> tuple[int, int]:
    """``at`` with negatives counted from the end, or :class:`PositionError`."""
    h, w = out_shape
    r, c = at
    r2, c2 = r + h if r < 0 else r, c + w if c < 0 else c
    if not (0 <= r2 < h and 0 <= c2 < w):
        raise PositionError(at, out_shape)
    return r2, c2


def tap_positions(geometry: Geometry, axis: int, out_index: int) -> np.ndarray:
    """Padded positions of the taps of output ``out_index`` along ``axis`` (0: rows)."""
    if axis == 1:  # the same rule for columns: ask the transposed footprint for its rows
        (kh, kw), (sh, sw), (dh, dw) = geometry.kernel_shape, geometry.stride, geometry.dilation
        geometry = Geometry((kw, kh), geometry.padding, stride=(sw, sh), dilation=(dw, dh))
    p0, p1 = geometry.input_rows(out_index, out_index + 1)
    return np.arange(p0, p1, geometry.dilation[0])


def padded_cells(
    plane: np.ndarray,
    pads: tuple[tuple[int, int], tuple[int, int]],
    border: str,
    rows: np.ndarray,
    cols: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Values at padded positions ``rows`` x ``cols``, and which of them are padding.

    The value a padding cell holds is the engine's own (its index map:
    numpy.pad's modes, ``-1`` for the zero border)."""
    (h, w), (top, _), (left, _) = plane.shape, pads[0], pads[1]
    row_index = index_map(h, pads[0], border)[rows]
    col_index = index_map(w, pads[1], border)[cols]
    values = plane[np.ix_(np.maximum(row_index, 0), np.maximum(col_index, 0))].astype(np.float64)
    values[(row_index < 0)[:, None] | (col_index < 0)[None, :]] = 0  # the zero border
    outside_rows = (rows < top) | (rows >= top + h)
    outside_cols = (cols < left) | (cols >= left + w)
    return values, outside_rows[:, None] | outside_cols[None, :]


def _step_values(
    plane: np.ndarray, options: Options, conv: Convolve, at: tuple[int, int]
) -> tuple[np.ndarray, list[StepValue]]:
    """The engine's sums (the whole channel), then the value at ``at`` after each later step.

    Every step runs on the whole channel, as in :func:`convcli.pipeline.filter_image`
    (a kernel's scale/offset and ``--scale``/``--offset`` are split in two
    lines by running each half as the same kind of step).
    """
    threads = options.threads
    bare = dataclasses.replace(conv, kernel=dataclasses.replace(conv.kernel, scale=1.0, offset=0.0))
    result = bare.apply(plane, threads=threads)
    # later steps may work in place (bias, relu): keep the sums apart from them
    sums = result.copy() if len(options.steps) > 1 and conv.linear else result
    values: list[StepValue] = []
    if not conv.linear:
        scale, offset = conv.kernel.scale, conv.kernel.offset
        if scale != 1:
            halved = Affine(scale=scale).apply(result[at][None, None])
            values.append(StepValue("kernel scale", f"x / {operand(scale)}", float(halved[0, 0])))
        result = conv.apply(plane, threads=threads)
        if offset != 0:
            values.append(StepValue("kernel offset", f"x + {operand(offset)}", float(result[at])))
    for step in options.steps[1:]:
        if isinstance(step, Affine):
            if step.scale != 1:
                part = Affine(scale=step.scale).apply(result[at][None, None])
                values.append(StepValue("scale", f"x / {operand(step.scale)}", float(part[0, 0])))
            result = step.apply(result, threads=threads)
            if step.offset != 0:
                values.append(StepValue("offset", f"x + {operand(step.offset)}", float(result[at])))
            continue
        result = step.apply(result, threads=threads)
        values.append(_named(step, float(result[at])))
    return sums, values


def _named(step: Any, value: float) -> StepValue:
    """A later step (bias, activation, ...) as its ``--json`` description names it.

    The formula says what the step did (for the learner); the value is the
    step's own result at the pixel.
    """
    info = step.describe()
    name = str(info.get("step", type(step).__name__.lower()))
    formula = ""
    if name == "bias" and len(info.get("values", ())) == 1:
        formula = f"x + {operand(float(info['values'][0]))}"
    elif name == "activation":
        name = f"activation {info.get('kind', '')}".strip()
        formula = "max(x, 0)" if info.get("kind") == "relu" else ""
    return StepValue(name, formula, value)


def _range_step(mode: str, raw_image: np.ndarray | None, mapped: float) -> StepValue:
    """``--range`` at the pixel (``clip`` keeps the value: the writer rounds and clips)."""
    if mode == "clip" or raw_image is None:
        return StepValue("range clip", "x", mapped)
    if mode == "abs":
        return StepValue("range abs", "|x|", mapped)
    low, high = float(raw_image.min()), float(raw_image.max())
    return StepValue(
        "range rescale",
        f"(x - {operand(low)}) / ({operand(high)} - {operand(low)}) * 255" if high > low else "0",
        mapped,
    )


def operand(value: float, digits: int = 6) -> str:
    """A number inside a formula: negatives in parentheses.

    >>> operand(16.0), operand(-2.5)
    ('16', '(-2.5)')
    """
    text = number(value, digits)
    return f"({text})" if text.startswith("-") else text


def number(value: float, digits: int = 4) -> str:
    """A value as a learner reads it: ``44``, ``-41``, ``4.333``, ``0.0625``, ``1.5e+06``.

    >>> number(44.0), number(-41.0), number(13 / 3), number(0.0625), number(-0.0)
    ('44', '-41', '4.333', '0.0625', '0')
    """
    if not math.isfinite(value):
        return str(value)
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    text = f"{value:.{digits}g}"
    if "e" not in text and abs(value) >= 10**digits:
        text = f"{value:.1f}"
    return text
