"""Overlap-save FFT: wins for large dense kernels.

Each ``N x N`` tile of the padded band (``N`` of small prime factors, at most
``CostModel.fft_tile`` unless the kernel needs more) becomes
``irfft2(rfft2(tile) · K)``, of which ``T = N - k + 1`` rows and columns are
useful. Cost: about ``fft_cost · log2(N²)`` passes times ``N² / T²``.

A dilated kernel is the kernel with ``d - 1`` zeros between its taps (its
spectrum is computed once); a stride keeps every ``s``-th output of the
tile. The FFT computes every output of the tile either way, so the cost
model counts ``sr · sc`` times the work per strided output.
"""

from __future__ import annotations

import numpy as np

from .base import Pair, Strategy
from .cost import fft_tile

__all__ = ["FFT"]


class FFT(Strategy):
    """Overlap-save: each ``N x N`` tile of the padded band times the kernel's spectrum."""

    def __init__(
        self,
        kernel: np.ndarray,
        dtype: np.dtype,
        out_shape: tuple[int, int],
        *,
        stride: Pair = (1, 1),
        dilation: Pair = (1, 1),
    ) -> None:
        (dr, dc), self.stride = dilation, stride
        spread = np.zeros((dr * (kernel.shape[0] - 1) + 1, dc * (kernel.shape[1] - 1) + 1))
        spread[::dr, ::dc] = kernel
        self.kh, self.kw = spread.shape
        # Tiles in stride-1 outputs: the strided ones are every s-th of those.
        dense = [(n - 1) * s + 1 for n, s in zip(out_shape, stride, strict=True)]
        (self.nh, self.th), (self.nw, self.tw) = (
            fft_tile(k, n) for k, n in zip(spread.shape, dense, strict=True)
        )
        # float64 even for float32 work: NumPy's pocketfft is faster in double.
        flipped = np.ascontiguousarray(spread[::-1, ::-1], dtype=np.float64)
        self.spectrum = np.fft.rfft2(flipped, s=(self.nh, self.nw))

    def band_rows(self, src_width: int, out_width: int) -> int:
        return (self.th - 1) // self.stride[0] + 1

    def band(self, src: np.ndarray, dst: np.ndarray, scratch: dict[str, np.ndarray]) -> None:
        rows, cols = dst.shape
        sr, sc = self.stride
        dense_rows = (rows - 1) * sr + 1
        per_tile = (self.tw - 1) // sc + 1  # strided outputs whose stride-1 column fits a tile
        for j0 in range(0, cols, per_tile):
            j1 = min(j0 + per_tile, cols)
            c0, width = j0 * sc, (j1 - j0 - 1) * sc + 1
            tile = src[:, c0 : c0 + width + self.kw - 1].astype(np.float64, copy=False)
            spectrum = np.fft.rfft2(tile, s=(self.nh, self.nw))
            spectrum *= self.spectrum
            full = np.fft.irfft2(spectrum, s=(self.nh, self.nw))
            dst[:, j0:j1] = full[
                self.kh - 1 : self.kh - 1 + dense_rows : sr, self.kw - 1 : self.kw - 1 + width : sc
            ]
