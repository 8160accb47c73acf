"""Shift-and-accumulate: the direct strategy, and the short 1-D passes of the separable one.

For each distinct non-zero weight, add up the shifted views of the band
under its taps, then multiply once: zero taps cost nothing, and sharpen's
nine taps are two weights. Cost: ``taps + weights`` passes.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from . import cost
from .base import Strategy, buffer

__all__ = ["Direct", "taps_by_weight"]


class Direct(Strategy):
    """One shifted view per tap, one multiply per distinct weight."""

    def __init__(self, kernel: np.ndarray, dtype: np.dtype, name: str = "tmp") -> None:
        self.kh, self.kw = kernel.shape
        self.groups = [(dtype.type(w), taps) for w, taps in taps_by_weight(kernel)]
        self.dtype, self.name = dtype, name

    def band_rows(self, src_width: int, out_width: int) -> int:
        row_bytes = self.dtype.itemsize * (src_width + 2 * out_width)
        # At least twice the halo, or the kh - 1 extra rows each band copies dominate.
        band_bytes = cost.current().direct_band_bytes
        return max(1, band_bytes * 3 // row_bytes - self.kh + 1, 2 * (self.kh - 1))

    def band(self, src: np.ndarray, dst: np.ndarray, scratch: dict[str, np.ndarray]) -> None:
        rows, cols = dst.shape
        tmp = None
        first = True
        for weight, taps in self.groups:
            views = [src[u : u + rows, v : v + cols] for u, v in taps]
            if len(views) == 1:
                acc = views[0]
            else:
                if tmp is None:
                    tmp = buffer(scratch, self.name, dst.shape, self.dtype)
                acc = np.add(views[0], views[1], out=tmp)
                for view in views[2:]:
                    acc += view
            if first:
                if weight == 1:
                    np.copyto(dst, acc)
                elif weight == -1:
                    np.negative(acc, out=dst)
                else:
                    np.multiply(acc, weight, out=dst)
                first = False
            elif weight == 1:
                dst += acc
            elif weight == -1:
                dst -= acc
            else:
                if acc is not tmp:
                    if tmp is None:
                        tmp = buffer(scratch, self.name, dst.shape, self.dtype)
                    acc = np.multiply(acc, weight, out=tmp)
                else:
                    acc *= weight
                dst += acc
        if first:  # an all-zero kernel
            dst.fill(0)


def taps_by_weight(kernel: np.ndarray) -> list[tuple[float, list[tuple[int, int]]]]:
    """``[(weight, [(u, v), ...]), ...]``: the taps of each distinct non-zero weight."""
    groups: dict[float, list[tuple[int, int]]] = defaultdict(list)
    for (u, v), weight in np.ndenumerate(kernel):
        if weight != 0:
            groups[weight.item()].append((u, v))
    return list(groups.items())
