"""Where finished bands go: the runner's output side.

A sink takes ``write(r0, band)`` for output rows ``r0 : r0 + len(band)``. One
that can offer the destination itself (``view``) saves a copy: the float
result is computed straight into the output array. The fused 8-bit writer
scales, rounds and clips each band as it arrives, so no full-size float copy
of the result ever exists (in one compiled pass when the extension is built
and ``CostModel.compiled``; NumPy's passes otherwise, tested against it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from . import cost
from .native import extension as _native

__all__ = ["ArraySink", "ClipStats", "Sink", "Uint8Sink"]


class Sink(Protocol):
    """Receives each finished band of output rows (from any thread)."""

    def view(self, r0: int, r1: int) -> np.ndarray | None:
        """An array to compute rows ``r0:r1`` into directly, or None for a scratch band."""
        ...

    def write(self, r0: int, band: np.ndarray) -> None:
        """Take the finished rows ``r0 : r0 + len(band)`` (a no-op for a ``view``)."""
        ...


class ArraySink:
    """Bands computed in place in ``out`` (an array or a writable memmap)."""

    def __init__(self, out: np.ndarray) -> None:
        self.out = out

    def view(self, r0: int, r1: int) -> np.ndarray | None:
        return self.out[r0:r1]

    def write(self, r0: int, band: np.ndarray) -> None:
        target = self.out[r0 : r0 + band.shape[0]]
        if not np.may_share_memory(target, band):  # not the view itself
            target[...] = band


@dataclass
class ClipStats:
    """What :func:`convolve_uint8` saw before rounding and clipping (pass one to fill it)."""

    minimum: float = math.inf
    maximum: float = -math.inf
    clipped: int = 0  # pixels whose rounded value lay outside 0..255
    pixels: int = 0
    _parts: list[tuple[float, float, int, int]] = field(default_factory=list, repr=False)

    def _add(self, low: float, high: float, clipped: int, pixels: int) -> None:
        self._parts.append((low, high, clipped, pixels))  # list.append is atomic: thread-safe

    def _close(self, mask: np.ndarray | None = None) -> None:
        """Sum the bands' parts; with ``mask`` (several channels), its marked pixels
        are the clipped ones and its size the pixel count."""
        for low, high, clipped, pixels in self._parts:
            self.minimum, self.maximum = min(self.minimum, low), max(self.maximum, high)
            self.clipped += clipped
            self.pixels += pixels
        self._parts.clear()
        if mask is not None:
            self.clipped += int(np.count_nonzero(mask))
            self.pixels += mask.size


class Uint8Sink:
    """The fused writer: scale, offset, round half to even, clip, cast, one band at a time."""

    def __init__(
        self,
        out: np.ndarray,
        scale: np.floating,
        offset: np.floating,
        stats: ClipStats | None,
        mask: np.ndarray | None = None,
    ) -> None:
        """``mask``: a boolean array of the output's shape, shared by the sinks of
        several channels; clipped pixels are marked in it instead of counted."""
        self.out, self.scale, self.offset, self.stats = out, scale, offset, stats
        self.mask = mask

    def view(self, r0: int, r1: int) -> np.ndarray | None:
        return None  # the band is float; the output is uint8

    def write(self, r0: int, band: np.ndarray) -> None:
        rows = slice(r0, r0 + band.shape[0])
        if _native is not None and cost.compiled() and band.dtype == np.float32:
            # The same steps in one compiled pass (engine/_fused.c to_uint8), each
            # rounded as NumPy's float32 operation is: the same bytes and stats.
            mask = None if self.mask is None else self.mask[rows]
            low, high, clipped = _native.to_uint8(
                band, self.out[rows], float(self.scale), float(self.offset), mask
            )
            if self.stats is not None:
                pixels = band.size if mask is None else 0
                self.stats._add(low, high, clipped if mask is None else 0, pixels)
            return
        if self.scale != 1:
            band *= self.scale
        if self.offset != 0:
            band += self.offset
        low = high = 0.0
        if self.stats is not None:
            low, high = float(band.min()), float(band.max())
        np.rint(band, out=band)
        if self.stats is not None:
            clipped = 0
            if round(low) < 0 or round(high) > 255:  # only then is counting worth it
                outside = (band < 0) | (band > 255)
                if self.mask is None:
                    clipped = int(np.count_nonzero(outside))
                else:  # rows are one band's: no other thread writes them now
                    self.mask[r0 : r0 + band.shape[0]] |= outside
            self.stats._add(low, high, clipped, band.size if self.mask is None else 0)
        np.clip(band, 0, 255, out=band)
        self.out[r0 : r0 + band.shape[0]] = band
