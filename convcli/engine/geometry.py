"""Where a kernel's window falls: the one place that knows the padding arithmetic.

TensorFlow's rules (``tensorflow/core/framework/kernel_shape_util.cc``), per axis,
for a kernel of ``k`` taps, dilation ``d`` and stride ``s`` over ``n`` pixels:

- the window spans ``span = d·(k-1) + 1`` input pixels;
- ``valid``: no padding, ``out = floor((n - span) / s) + 1``;
- ``same``: ``out = ceil(n / s)``, padded by ``max((out-1)·s + span - n, 0)``,
  ``pad // 2`` before and the rest after (an even kernel's extra row and
  column go bottom and right);
- ``full``: ``span - 1`` on each side, then strided as ``valid``.

Every other part (the band runner's halos, the size check, the alpha channel,
the comparison picture) asks a :class:`Geometry` instead of redoing this sum.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

__all__ = ["PADDINGS", "Geometry", "check_choice", "output_shape", "pad_widths", "pair"]

PADDINGS = ("valid", "same", "full")

Pair = tuple[int, int]


def check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    """``ValueError`` naming the parameter when ``value`` is not one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}")


def pair(name: str, value: int | tuple[int, int]) -> Pair:
    """``value`` as ``(rows, cols)``: an int (NumPy's too, not bool) or a pair of them, >= 1."""
    items: tuple[object, ...]
    if isinstance(value, numbers.Integral):
        items = (value, value)
    else:
        try:
            items = tuple(value)  # type: ignore[arg-type]
        except TypeError:
            items = (value,)
    if len(items) != 2 or not all(
        isinstance(v, numbers.Integral) and not isinstance(v, bool) and int(v) >= 1 for v in items
    ):
        raise ValueError(f"{name} must be a positive integer or a pair of them; got {value!r}")
    return int(items[0]), int(items[1])  # type: ignore[call-overload]


@dataclass(frozen=True)
class Geometry:
    """A kernel's footprint: pads, output size and band halos for one padding mode.

    ``stride`` and ``dilation`` take an int or ``(rows, cols)`` and are stored
    as pairs.

    >>> g = Geometry((3, 3), "same", stride=2)
    >>> g.output_shape((6, 6)), g.pads((6, 6))
    ((3, 3), ((0, 1), (0, 1)))
    >>> Geometry((3, 3)).offset((10, 10))
    (1, 1)
    """

    kernel_shape: Pair
    padding: str = "valid"
    stride: Pair = (1, 1)
    dilation: Pair = (1, 1)

    def __init__(
        self,
        kernel_shape: tuple[int, ...],
        padding: str = "valid",
        stride: int | tuple[int, int] = 1,
        dilation: int | tuple[int, int] = 1,
    ) -> None:
        check_choice("padding", padding, PADDINGS)
        shape = tuple(int(k) for k in kernel_shape)
        if len(shape) != 2 or min(shape) < 1:
            raise ValueError(f"kernel_shape must be two positive sizes; got {kernel_shape!r}")
        object.__setattr__(self, "kernel_shape", (shape[0], shape[1]))
        object.__setattr__(self, "padding", padding)
        object.__setattr__(self, "stride", pair("stride", stride))
        object.__setattr__(self, "dilation", pair("dilation", dilation))

    @property
    def span(self) -> Pair:
        """Input pixels one window covers per axis: ``d·(k-1) + 1``."""
        (kh, kw), (dh, dw) = self.kernel_shape, self.dilation
        return dh * (kh - 1) + 1, dw * (kw - 1) + 1

    @property
    def anchor(self) -> Pair:
        """The kernel tap an output pixel is centred on: ``(k-1)//2`` per axis."""
        kh, kw = self.kernel_shape
        return (kh - 1) // 2, (kw - 1) // 2

    @property
    def unit(self) -> bool:
        """Stride and dilation both 1 (all the engine's strategies support today)."""
        return self.stride == (1, 1) and self.dilation == (1, 1)

    def _axis(self, n: int, axis: int) -> tuple[int, int, int]:
        """``(before, after, out)`` for ``n`` input pixels along ``axis``."""
        span, s = self.span[axis], self.stride[axis]
        if self.padding == "valid":
            return 0, 0, (n - span) // s + 1
        if self.padding == "same":
            out = math.ceil(n / s)
            pad = max((out - 1) * s + span - n, 0)
            return pad // 2, pad - pad // 2, out
        return span - 1, span - 1, (n + span - 2) // s + 1

    def pads(self, image_shape: tuple[int, ...]) -> tuple[Pair, Pair]:
        """``((top, bottom), (left, right))`` rows and columns of padding."""
        top, bottom, _ = self._axis(image_shape[0], 0)
        left, right, _ = self._axis(image_shape[1], 1)
        return (top, bottom), (left, right)

    def output_shape(self, image_shape: tuple[int, ...]) -> Pair:
        """The result's ``(height, width)``; non-positive means empty."""
        return self._axis(image_shape[0], 0)[2], self._axis(image_shape[1], 1)[2]

    def fits(self, image_shape: tuple[int, ...]) -> bool:
        """Whether the result has at least one pixel."""
        return min(self.output_shape(image_shape)) > 0

    def checked_output_shape(self, image_shape: tuple[int, ...], what: str = "kernel") -> Pair:
        """:meth:`output_shape`, or the one ``ValueError`` for a window (``what``:
        kernel, pool) larger than the image under ``valid``, naming both sizes."""
        if not self.fits(image_shape):
            (kh, kw), (sh, sw) = self.kernel_shape, self.span
            spread = "" if self.dilation == (1, 1) else f" dilated to {sh}x{sw}"
            raise ValueError(
                f"image: {image_shape[0]}x{image_shape[1]} is smaller than the {kh}x{kw} "
                f"{what}{spread}, so padding='valid' leaves nothing; use padding='same'"
            )
        return self.output_shape(image_shape)

    def input_rows(self, r0: int, r1: int) -> Pair:
        """Padded rows ``p0:p1`` that output rows ``r0:r1`` read (the band plus its halo)."""
        s = self.stride[0]
        return r0 * s, (r1 - 1) * s + self.span[0]

    def offset(self, image_shape: tuple[int, ...]) -> Pair:
        """``(dy, dx)``: output pixel ``(0, 0)`` is centred on input pixel ``(dy, dx)``.

        Output ``(i, j)`` is then centred on ``(dy + i·sy, dx + j·sx)``:
        positive for ``valid`` (the lost border), 0 for ``same`` with an odd
        kernel, negative for ``full`` (the result reaches past the input).
        """
        (top, _), (left, _) = self.pads(image_shape)
        (ah, aw), (dh, dw) = self.anchor, self.dilation
        return ah * dh - top, aw * dw - left


def pad_widths(kernel_shape: tuple[int, ...], padding: str) -> tuple[Pair, Pair]:
    """Rows and columns added ``(before, after)`` on each axis, at stride 1.

    ``same`` splits ``k - 1`` as TensorFlow does: ``(k - 1) // 2`` before, the
    rest after, so an even kernel's extra row and column go bottom and right.
    (With stride 1 the pads do not depend on the image size.)
    """
    return Geometry(kernel_shape, padding).pads((1, 1))


def output_shape(
    image_shape: tuple[int, ...], kernel_shape: tuple[int, ...], padding: str = "valid"
) -> Pair:
    """The result's ``(height, width)``: ``n - k + 1`` per axis for ``valid``,
    ``n`` for ``same``, ``n + k - 1`` for ``full``. Non-positive means empty."""
    return Geometry(kernel_shape, padding).output_shape(image_shape)
