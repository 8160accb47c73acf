"""The padded image, read a band of rows at a time: the runner's input side.

No full-size padded copy is ever made: padded row ``p`` and column ``q`` map
to image indices through ``np.pad(np.arange(n), widths, mode)`` (``-1`` for
the zero border), so every border mode is exactly numpy.pad's, and a band is
built into a buffer that stays in the CPU cache. The image may be any array
with NumPy indexing, a ``np.memmap`` included: only the rows a band needs are
touched.
"""

from __future__ import annotations

import itertools
from typing import Protocol

import numpy as np

from .base import buffer

__all__ = ["BORDERS", "PaddedReader", "Reader", "index_map", "segments"]

BORDERS = ("zero", "edge", "reflect", "symmetric", "wrap")

# Our border names are numpy.pad's, except the tutorial's black border.
_NP_PAD_MODE = {"zero": "constant", "edge": "edge", "reflect": "reflect",
                "symmetric": "symmetric", "wrap": "wrap"}  # fmt: skip

Segment = tuple[int, int, str, np.ndarray]


class Reader(Protocol):
    """What the band runner reads from: padded rows on demand."""

    shape: tuple[int, int]  # of the padded image

    def rows(self, p0: int, p1: int, scratch: dict[str, np.ndarray]) -> np.ndarray:
        """Padded rows ``p0:p1``, every padded column (a view or a ``scratch`` buffer)."""
        ...


class PaddedReader:
    """An image (array or memmap) seen through its padding, in the working dtype.

    The image is ``(H, W)``, or ``(H, W, C)`` whose channels are carried along
    (a filter bank reads all input channels of a band at once).
    """

    def __init__(
        self,
        image: np.ndarray,
        widths: tuple[tuple[int, int], tuple[int, int]],
        border: str,
        dtype: np.dtype,
    ) -> None:
        self.image, self.dtype = image, dtype
        self.maps = [index_map(n, w, border) for n, w in zip(image.shape[:2], widths, strict=True)]
        self.shape = (self.maps[0].size, self.maps[1].size)
        # Without padding or conversion the image itself is the padded source.
        self.direct = not any(any(w) for w in widths) and image.dtype == dtype
        self.col_segments = segments(self.maps[1])

    def rows(self, p0: int, p1: int, scratch: dict[str, np.ndarray]) -> np.ndarray:
        """Padded rows ``p0:p1``, every padded column: a view or a filled buffer."""
        if self.direct:
            return self.image[p0:p1]
        out = buffer(scratch, "src", (p1 - p0, self.shape[1], *self.image.shape[2:]), self.dtype)
        index = self.maps[0][p0:p1]
        row_runs: list[Segment]
        if index[0] >= 0 and index[-1] - index[0] == index.size - 1:
            # Inside the image (np.pad's maps step by at most 1, so first and last
            # say it all): one run of rows, no per-band splitting.
            row_runs = [(0, index.size, "slice", index)]
        else:
            row_runs = segments(index)
        for r0, r1, rkind, rsrc in row_runs:
            for c0, c1, ckind, csrc in self.col_segments:
                block = out[r0:r1, c0:c1]
                if rkind == "zero" or ckind == "zero":
                    block.fill(0)
                elif rkind == "slice" and ckind == "slice":
                    block[...] = self.image[
                        rsrc[0] : rsrc[0] + r1 - r0, csrc[0] : csrc[0] + c1 - c0
                    ]
                else:
                    block[...] = self.image[np.ix_(rsrc, csrc)]
        return out


def index_map(n: int, widths: tuple[int, int], border: str) -> np.ndarray:
    """Image index of each padded position along one axis (``-1``: a zero)."""
    before, after = widths
    if border == "zero" or not (before or after):  # the common cases, without np.pad's cost
        index = np.full(before + n + after, -1)
        index[before : before + n] = np.arange(n)
        return index
    return np.pad(np.arange(n), widths, mode=_NP_PAD_MODE[border])  # type: ignore[call-overload]


def segments(index: np.ndarray) -> list[Segment]:
    """Split an index map into runs: ``zero`` (-1s), ``slice`` (ascending by 1), ``gather``.

    Border regions (reflected, wrapped, repeated indices) become short
    ``gather`` runs; the image's interior is one ``slice``.
    """
    contiguous = index[0] >= 0 and index[-1] - index[0] == index.size - 1
    if contiguous and (index.size < 3 or (np.diff(index) == 1).all()):  # no border: one slice
        return [(0, index.size, "slice" if index.size > 1 else "gather", index)]
    valid = index >= 0
    joined = np.zeros(index.size, dtype=bool)
    joined[1:] = (index[1:] == index[:-1] + 1) & valid[1:] & valid[:-1]
    joined[1:] |= ~valid[1:] & ~valid[:-1]
    starts = [*np.flatnonzero(~joined).tolist(), index.size]
    runs: list[Segment] = []
    for start, stop in itertools.pairwise(starts):
        kind = "zero" if index[start] < 0 else "slice" if stop - start > 1 else "gather"
        if kind == "gather" and runs and runs[-1][2] == "gather":
            start = runs.pop()[0]
        runs.append((start, stop, kind, index[start:stop]))
    return runs
