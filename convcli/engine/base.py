"""What every strategy is to the band runner, and the per-thread scratch buffers."""

from __future__ import annotations

import numpy as np

__all__ = ["Strategy", "buffer"]


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
