"""Shift-and-accumulate: the direct strategy, and the short 1-D passes of the separable one.

For each distinct non-zero weight, add up the shifted views of the band
under its taps, then multiply once: zero taps cost nothing, and sharpen's
nine taps are two weights. Cost: ``taps + weights`` passes.

With a stride ``(sr, sc)`` and a dilation ``(dr, dc)``, tap ``(u, v)`` of
output ``(i, j)`` reads padded pixel ``(i·sr + u·dr, j·sc + v·dc)``: each
view steps by the stride, so only the strided outputs are computed. Taps
that share a phase ``(u·dr mod sr, v·dc mod sc)`` read one contiguous
polyphase plane, copied once per band (:func:`.base.phase_planes`); a phase
only one tap reads is read through a strided view instead (the copy would
cost as much as the tap). Sharpen at stride 2 copies two quarter planes.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from . import cost
from .base import Pair, Strategy, buffer, phase_planes

__all__ = ["Direct", "taps_by_weight"]


class Direct(Strategy):
    """One shifted view per tap, one multiply per distinct weight."""

    def __init__(
        self,
        kernel: np.ndarray,
        dtype: np.dtype,
        name: str = "tmp",
        *,
        stride: Pair = (1, 1),
        dilation: Pair = (1, 1),
    ) -> None:
        self.kh, self.kw = kernel.shape
        self.groups = [(dtype.type(w), taps) for w, taps in taps_by_weight(kernel)]
        self.dtype, self.name = dtype, name
        self.stride, self.dilation = stride, dilation
        self.unit = stride == (1, 1) and dilation == (1, 1)
        (sr, sc), (dr, dc) = stride, dilation
        readers: dict[Pair, int] = {}
        for _, taps in self.groups:
            for u, v in taps:
                phase = (u * dr % sr, v * dc % sc)
                readers[phase] = readers.get(phase, 0) + 1
        # Only a phase read by two taps or more is worth its copy.
        self.phases = tuple(sorted(p for p, n in readers.items() if n > 1 and stride != (1, 1)))

    def band_rows(self, src_width: int, out_width: int) -> int:
        sr, span = self.stride[0], self.dilation[0] * (self.kh - 1) + 1
        copies = 2 if self.phases else 1  # the polyphase planes are a second copy
        row_bytes = self.dtype.itemsize * (copies * src_width * sr + 2 * out_width)
        # At least twice the halo, or the extra rows each band copies dominate.
        band_bytes = cost.current().direct_band_bytes
        halo = max(span - sr, 0)
        return max(1, (band_bytes * 3 // row_bytes) - halo // sr, 2 * halo // sr)

    def band(self, src: np.ndarray, dst: np.ndarray, scratch: dict[str, np.ndarray]) -> None:
        rows, cols = dst.shape
        if self.unit:

            def tap(u: int, v: int) -> np.ndarray:
                return src[u : u + rows, v : v + cols]

        else:
            (sr, sc), (dr, dc) = self.stride, self.dilation
            planes = phase_planes(src, self.stride, self.phases, scratch, self.name)
            last_r, last_c = (rows - 1) * sr + 1, (cols - 1) * sc + 1

            def tap(u: int, v: int) -> np.ndarray:
                r, c = u * dr, v * dc
                plane = planes.get((r % sr, c % sc))
                if plane is None:
                    return src[r : r + last_r : sr, c : c + last_c : sc]
                r, c = r // sr, c // sc
                return plane[r : r + rows, c : c + cols]

        tmp = None
        first = True
        for weight, taps in self.groups:
            views = [tap(u, v) for u, v in taps]
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
