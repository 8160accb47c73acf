"""Separable kernels: ``r`` pairs of 1-D passes, the long ones as banded matrix products.

A kernel of rank ``r`` (see :mod:`.decompose`) is ``r`` terms, each a row
pass into a buffer and a column pass out of it. A short pass is
shift-and-accumulate (:class:`.Direct`); a long one (11+ taps) is a banded
matrix product (BLAS, in blocks small enough that OpenBLAS stays on the
calling thread). Cost: the sum of the 1-D costs (a matrix-product pass
counts ``gemm_cost``), plus 1 per term.

A stride and a dilation split the same way: the row pass computes only the
strided columns (taps ``dc`` apart) of every padded row, the column pass only
the strided rows (taps ``dr`` apart) of that.
"""

from __future__ import annotations

import numpy as np

from . import cost, fused
from .base import Pair, Strategy, buffer
from .decompose import Terms

__all__ = ["Product", "Separable", "one_pass"]


class Separable(Strategy):
    """Each term a row pass into a buffer, then a column pass out of it."""

    def __init__(
        self,
        terms: Terms,
        dtype: np.dtype,
        *,
        products: bool = True,
        stride: Pair = (1, 1),
        dilation: Pair = (1, 1),
    ) -> None:
        self.kh = terms[0][0].size
        (sr, sc), (dr, dc) = stride, dilation
        self.passes = [
            (
                one_pass(row, dtype, across=True, products=products, stride=sc, dilation=dc),
                one_pass(col, dtype, across=False, products=products, stride=sr, dilation=dr),
            )
            for col, row in terms
        ]
        self.dtype, self.stride = dtype, sr
        self.halo = dr * (self.kh - 1) + 1 - sr

    def band_rows(self, src_width: int, out_width: int) -> int:
        sr = self.stride
        row_bytes = self.dtype.itemsize * (src_width * sr + 4 * out_width * sr)
        # The row pass also runs over the halo rows: keep them a quarter at most.
        band_bytes = cost.current().band_bytes
        halo = max(self.halo, 0)
        return max(1, band_bytes * 4 // row_bytes - halo // sr, 4 * halo // sr)

    def band(self, src: np.ndarray, dst: np.ndarray, scratch: dict[str, np.ndarray]) -> None:
        cols = dst.shape[1]
        across = buffer(scratch, "across", (src.shape[0], cols), self.dtype)
        for t, (row_pass, col_pass) in enumerate(self.passes):
            row_pass.band(src, across, scratch)
            if t == 0:
                col_pass.band(across, dst, scratch)
            else:
                term = buffer(scratch, "term", dst.shape, self.dtype)
                col_pass.band(across, term, scratch)
                dst += term


def one_pass(
    weights: np.ndarray,
    dtype: np.dtype,
    *,
    across: bool,
    products: bool,
    stride: int = 1,
    dilation: int = 1,
) -> Strategy:
    """One 1-D pass (``stride`` and ``dilation`` along it): shift-and-add, or for
    long kernels a banded matrix product."""
    kernel = weights[None, :] if across else weights[:, None]
    if products and cost.uses_product(weights):
        return Product(weights, dtype, across=across, stride=stride, dilation=dilation)
    steps = {"stride": (1, stride), "dilation": (1, dilation)}
    if not across:
        steps = {"stride": (stride, 1), "dilation": (dilation, 1)}
    return fused.direct(kernel, dtype, "row-tmp" if across else "col-tmp", **steps)


class Product(Strategy):
    """A 1-D pass as small matrix products: ``out = T @ rows`` (column pass) or
    ``out = cols @ T`` (row pass), ``T`` banded with the weights on its diagonals.

    With a stride ``s`` and a dilation ``d``, output ``j`` of a block takes
    input ``j·s + t·d`` for tap ``t``: ``T`` has ``(b-1)·s + span`` rows (or
    columns), so only the strided outputs are computed.

    ``T`` spans a block of ``b`` outputs and ``b + k - 1`` inputs, so it does
    about ``(b + k - 1) / k`` times the ideal work, but at BLAS speed: for a
    31-tap pass about 5x faster than 47 NumPy passes. Blocks are stacked into
    one strided 3-D ``matmul`` (no Python loop per block) and kept under
    ``blas_serial`` multiply-adds, below which OpenBLAS stays on the calling
    thread: BLAS threads inside our band threads measured 4x slower.
    """

    def __init__(
        self,
        weights: np.ndarray,
        dtype: np.dtype,
        *,
        across: bool,
        stride: int = 1,
        dilation: int = 1,
    ) -> None:
        model = cost.current()
        self.k, self.dtype, self.across = weights.size, dtype, across
        self.s, self.span = stride, dilation * (weights.size - 1) + 1
        self.step = rows = model.gemm_rows
        taps = np.arange(weights.size) * dilation
        if across:  # (rows, inputs(block)) @ (inputs(block), block)
            self.block = rows
            matrix = np.zeros((self.inputs(self.block), self.block), dtype)
            for j in range(self.block):
                matrix[j * stride + taps, j] = weights
        else:  # (rows, inputs(rows)) @ (inputs(rows), block)
            self.block = max(16, model.blas_serial // (rows * self.inputs(rows)) // 16 * 16)
            matrix = np.zeros((rows, self.inputs(rows)), dtype)
            for i in range(rows):
                matrix[i, i * stride + taps] = weights
        matrix.flags.writeable = False
        self.matrix = matrix

    def inputs(self, outputs: int) -> int:
        """Inputs that ``outputs`` consecutive outputs read."""
        return (outputs - 1) * self.s + self.span

    def band(self, src: np.ndarray, dst: np.ndarray, scratch: dict[str, np.ndarray]) -> None:
        rows, cols = dst.shape
        step, s = self.step, self.s
        for r0 in range(0, rows, step):
            r1 = min(r0 + step, rows)
            if self.across:
                self._across(src[r0:r1], dst[r0:r1], cols)
            else:
                self._down(src[r0 * s : r0 * s + self.inputs(r1 - r0)], dst[r0:r1], cols)

    def _across(self, src: np.ndarray, dst: np.ndarray, cols: int) -> None:
        b, s = self.block, self.s
        blocks = cols // b
        if blocks:
            stacked = np.lib.stride_tricks.as_strided(
                src, (blocks, src.shape[0], self.inputs(b)),
                (b * s * src.strides[1], *src.strides), writeable=False,
            )  # fmt: skip
            into = np.lib.stride_tricks.as_strided(
                dst, (blocks, dst.shape[0], b), (b * dst.strides[1], *dst.strides)
            )
            np.matmul(stacked, self.matrix, out=into)
        start = blocks * b
        if start < cols:
            rest = cols - start
            np.matmul(
                src[:, start * s : start * s + self.inputs(rest)],
                self.matrix[: self.inputs(rest), :rest],
                out=dst[:, start:],
            )

    def _down(self, src: np.ndarray, dst: np.ndarray, cols: int) -> None:
        b, rows = self.block, dst.shape[0]
        matrix = self.matrix[:rows, : self.inputs(rows)]
        blocks = cols // b
        if blocks:
            stacked = np.lib.stride_tricks.as_strided(
                src, (blocks, src.shape[0], b), (b * src.strides[1], *src.strides),
                writeable=False,
            )  # fmt: skip
            into = np.lib.stride_tricks.as_strided(
                dst, (blocks, rows, b), (b * dst.strides[1], *dst.strides)
            )
            np.matmul(matrix, stacked, out=into)
        start = blocks * b
        if start < cols:
            np.matmul(matrix, src[:, start:cols], out=dst[:, start:])
