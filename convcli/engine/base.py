"""What every strategy is to the band runner, and the per-thread scratch buffers."""

from __future__ import annotations

import numpy as np

__all__ = ["Pair", "Strategy", "buffer", "column_phases"]

Pair = tuple[int, int]


class Strategy:
    """One way of filling a band of output rows from the padded rows under it."""

    def band_rows(self, src_width: int, out_width: int) -> int:
        """Output rows per band: sized so a band's buffers stay in cache."""
        raise NotImplementedError

    def band(self, src: np.ndarray, dst: np.ndarray, scratch: dict[str, np.ndarray]) -> None:
        """Fill ``dst`` (band rows x output width) from ``src`` (band + kernel halo)."""
        raise NotImplementedError


def buffer(
    scratch: dict[str, np.ndarray], name: str, shape: tuple[int, ...], dtype: np.dtype
) -> np.ndarray:
    """A per-thread reusable buffer, trimmed to ``shape`` (bands at the end are shorter)."""
    have = scratch.get(name)
    if have is None or have.shape[0] < shape[0] or have.shape[1:] != shape[1:]:
        have = scratch[name] = np.empty(shape, dtype=dtype)
    return have[: shape[0]]


def column_phases(
    src: np.ndarray, step: int, used: tuple[int, ...], scratch: dict[str, np.ndarray], name: str
) -> dict[int, np.ndarray]:
    """``src``'s columns dealt into contiguous planes: ``plane[p][:, q] = src[:, q*step + p]``.

    A column stride ``s`` makes every tap read every ``s``-th column; NumPy
    loops over such views without SIMD, so one copy per band into contiguous
    planes (only the phases ``used``) is cheaper than strided reads for every
    tap: on a 4096² float32 image, 3x3 at stride 2, 15 ms against 22 ms.
    """
    planes = {}
    for phase in used:
        width = (src.shape[1] - phase + step - 1) // step
        plane = buffer(scratch, f"{name}-phase{phase}", (src.shape[0], width), src.dtype)
        np.copyto(plane, src[:, phase::step])
        planes[phase] = plane
    return planes
