"""The direct strategy in one compiled pass per band, when the C extension is built.

NumPy spends one pass over a band per array operation, so shift-and-accumulate
(:mod:`.direct`) costs ``taps + weights`` passes; ``_fused.c`` adds every tap
of a block of outputs in registers and stores each output once (as OpenCV's
``filter2D`` does). The extension is optional: ``pip install`` builds it
where a C compiler is present (setuptools, ``optional = true``), and without
it :func:`direct` returns the NumPy :class:`.Direct`, which gives the same
numbers within the summation-order tolerance (``make test`` checks one
against the other). ``CostModel.compiled = False`` forces the NumPy path.
"""

from __future__ import annotations

import numpy as np

from . import cost
from .base import Pair, Strategy
from .direct import Direct
from .native import extension as _fused

__all__ = ["Compiled", "available", "direct"]


def available() -> bool:
    """Whether the compiled band loop is built and enabled (``CostModel.compiled``)."""
    return cost.compiled()


def direct(
    kernel: np.ndarray,
    dtype: np.dtype,
    name: str = "tmp",
    *,
    stride: Pair = (1, 1),
    dilation: Pair = (1, 1),
) -> Strategy:
    """The direct strategy for ``kernel``: compiled when available, else NumPy's."""
    numpy = Direct(kernel, dtype, name, stride=stride, dilation=dilation)
    # Strided columns run the loop without vectors, about as fast as NumPy's column
    # planes (4096², 3x3, stride 2: 19.8 against 17.8 ms), but with the same sums as
    # stride 1: a stride-2 result is then exactly every other stride-1 output.
    if available() and dtype in (np.float32, np.float64):
        return Compiled(numpy, kernel, dtype, stride=stride, dilation=dilation)
    return numpy


class Compiled(Strategy):
    """Every non-zero tap of a band in one C loop (zero taps skipped, as in :class:`.Direct`).

    Falls back to the NumPy strategy for a band whose columns are not
    contiguous (a strided view of a caller's array).
    """

    def __init__(
        self, numpy: Direct, kernel: np.ndarray, dtype: np.dtype, *, stride: Pair, dilation: Pair
    ) -> None:
        self.numpy, self.dtype, self.stride = numpy, dtype, stride
        self.kh = kernel.shape[0]
        self.span = dilation[0] * (kernel.shape[0] - 1) + 1
        taps = [(u, v) for (u, v), w in np.ndenumerate(kernel) if w != 0]
        self.rows = np.array([u * dilation[0] for u, _ in taps], dtype=np.int64)
        self.cols = np.array([v * dilation[1] for _, v in taps], dtype=np.int64)
        self.weights = np.array([kernel[u, v] for u, v in taps], dtype=dtype)

    def band_rows(self, src_width: int, out_width: int) -> int:
        """A band's source rows in L2 (``CostModel.band_bytes``), halo at most a third."""
        sr = self.stride[0]
        row_bytes = self.dtype.itemsize * (src_width * sr + out_width)
        halo = max(self.span - sr, 0)
        return max(1, cost.current().band_bytes * 4 // row_bytes - halo // sr, 2 * halo // sr)

    def band(self, src: np.ndarray, dst: np.ndarray, scratch: dict[str, np.ndarray]) -> None:
        item = self.dtype.itemsize
        if src.strides[1] != item or dst.strides[1] != item or src.dtype != self.dtype:
            self.numpy.band(src, dst, scratch)
            return
        assert _fused is not None
        _fused.correlate(src, dst, self.rows, self.cols, self.weights, *self.stride)
