"""Overlap-save FFT: wins for large dense kernels.

Each ``N x N`` tile of the padded band (``N`` of small prime factors, at most
``CostModel.fft_tile`` unless the kernel needs more) becomes
``irfft2(rfft2(tile) · K)``, of which ``T = N - k + 1`` rows and columns are
useful. Cost: about ``fft_cost · log2(N²)`` passes times ``N² / T²``.
"""

from __future__ import annotations

import numpy as np

from .base import Strategy
from .cost import fft_tile

__all__ = ["FFT"]


class FFT(Strategy):
    """Overlap-save: each ``N x N`` tile of the padded band times the kernel's spectrum."""

    def __init__(self, kernel: np.ndarray, dtype: np.dtype, out_shape: tuple[int, int]) -> None:
        (self.nh, self.th), (self.nw, self.tw) = (
            fft_tile(k, n) for k, n in zip(kernel.shape, out_shape, strict=True)
        )
        self.kh, self.kw = kernel.shape
        # float64 even for float32 work: NumPy's pocketfft is faster in double.
        flipped = np.ascontiguousarray(kernel[::-1, ::-1], dtype=np.float64)
        self.spectrum = np.fft.rfft2(flipped, s=(self.nh, self.nw))

    def band_rows(self, src_width: int, out_width: int) -> int:
        return self.th

    def band(self, src: np.ndarray, dst: np.ndarray, scratch: dict[str, np.ndarray]) -> None:
        rows, cols = dst.shape
        for c0 in range(0, cols, self.tw):
            c1 = min(c0 + self.tw, cols)
            tile = src[:, c0 : c1 + self.kw - 1].astype(np.float64, copy=False)
            spectrum = np.fft.rfft2(tile, s=(self.nh, self.nw))
            spectrum *= self.spectrum
            full = np.fft.irfft2(spectrum, s=(self.nh, self.nw))
            dst[:, c0:c1] = full[
                self.kh - 1 : self.kh - 1 + rows, self.kw - 1 : self.kw - 1 + c1 - c0
            ]
