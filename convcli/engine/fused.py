"""The direct strategy in one compiled pass per band, when the C extension is built.

NumPy spends one pass over a band per array operation, so shift-and-accumulate
(:mod:`.direct`) costs ``taps + weights`` passes; ``_fused.c`` adds every tap
of a block of outputs in registers and stores each output once (as OpenCV's
``filter2D`` does). It reads the image itself through the reader's index
maps (a zero row, or a border pixel, where the padding says so), so no padded
copy of a band is made, and uint8 pixels are converted as they are read.
The extension is optional: ``pip install`` builds it
where a C compiler is present (setuptools, ``optional = true``), and without
it :func:`direct` returns the NumPy :class:`.Direct`, which gives the same
numbers within the summation-order tolerance (``make test`` checks one
against the other). ``CostModel.compiled = False`` forces the NumPy path.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import cost
from .base import Pair, Strategy
from .direct import Direct
from .native import extension as _fused
from .reader import PaddedReader

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
    """The direct strategy for ``kernel``: compiled when available, else NumPy's.

    Every stride runs compiled: column stride 2 with vectors (2-5x NumPy's
    phase planes at 4096²), wider ones with the scalar loop, which measured
    about as fast as NumPy (0.7-1.1x) and keeps a strided result exactly
    every ``stride``-th stride-1 output, which NumPy's sums (grouped by
    weight) would not. The cost model prices each (:func:`.cost.compiled_cost`).
    """
    numpy = Direct(kernel, dtype, name, stride=stride, dilation=dilation)
    if available() and dtype in (np.float32, np.float64):
        return Compiled(numpy, kernel, dtype, stride=stride, dilation=dilation)
    return numpy


class Compiled(Strategy):
    """Every non-zero tap of a band in one C loop (zero taps skipped, as in :class:`.Direct`).

    :meth:`image_band` reads the image itself through the reader's index maps
    (no padded copy of the band, uint8 converted as it is read); :meth:`band`
    takes a padded band (the separable strategy's passes, or a reader it
    cannot see through), and falls back to the NumPy strategy for a band whose
    columns are not contiguous (a strided view of a caller's array).
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
        self._seen: tuple[object, _Source | None] | None = None  # (reader, what to read)

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

    def image_band(self, reader: object, p0: int, p1: int, dst: np.ndarray) -> bool:
        """Fill ``dst`` from padded rows ``p0:p1`` of ``reader`` without copying them,
        if the reader is a plain 2-D :class:`.PaddedReader` whose image the loop can
        read (the working dtype or uint8, contiguous columns); else return False."""
        if self._seen is None or self._seen[0] is not reader:
            self._seen = (reader, _source(reader, self.dtype))
        source = self._seen[1]
        if source is None or dst.strides[1] != self.dtype.itemsize:
            return False
        assert _fused is not None
        _fused.correlate_image(
            source.image,
            dst,
            source.rows[p0:p1],
            source.cols,
            source.lo,
            source.hi,
            self.rows,
            self.cols,
            self.weights,
            *self.stride,
        )
        return True


@dataclass(frozen=True)
class _Source:
    """What the C loop reads for a reader: the image, its index maps, and the run
    ``lo:hi`` of padded columns that are consecutive image columns (read with vectors)."""

    image: np.ndarray
    rows: np.ndarray
    cols: np.ndarray
    lo: int
    hi: int


def _source(reader: object, dtype: np.dtype) -> _Source | None:
    if not isinstance(reader, PaddedReader):
        return None
    image = reader.image
    if (
        not isinstance(image, np.ndarray)
        or image.ndim != 2
        or image.dtype not in (dtype, np.uint8)
        or image.strides[1] != image.itemsize
        or image.strides[0] < 0
    ):
        return None
    rows, cols = (np.ascontiguousarray(m, dtype=np.int64) for m in reader.maps)
    runs = [(c0, c1) for c0, c1, kind, _ in reader.col_segments if kind == "slice"]
    lo, hi = max(runs, key=lambda run: run[1] - run[0], default=(0, 0))
    return _Source(image, rows, cols, lo, hi)
