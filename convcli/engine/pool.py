"""Max and average pooling, exactly as TensorFlow's ``MaxPool2D`` and ``AveragePooling2D``.

The window of ``size`` visits the image at steps of ``stride`` (default:
``size``); the output size and pads are :class:`Geometry`'s (TensorFlow's
formula). With ``same`` a window may hang over the edge, and only the
image's own cells count: padded cells never win a max and are not counted
in an average (so a corner average divides by fewer cells).

Both reductions are separable: a window's max is the max over its rows of
each row's max, and so is its sum. Each band of output rows takes ``kh``
row-strided views (contiguous rows, fast) and then ``kw`` column-strided
views of the much smaller result, so only the strided outputs are computed.
Max works in the image's own dtype (it commutes with the conversion, and a
uint8 band is a quarter of a float32 one) and converts at the end.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from . import cost
from .bands import thread_count
from .geometry import PADDINGS, Geometry, check_choice, pair

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = ["POOLS", "pool"]

POOLS = ("max", "avg")


def pool(
    image: ArrayLike,
    kind: str,
    *,
    size: int | tuple[int, int] = 2,
    stride: int | tuple[int, int] | None = None,
    padding: str = "valid",
    threads: int | None = None,
) -> np.ndarray:
    """Pool each channel of ``image``: the max or the mean of each window.

    Parameters
    ----------
    image : (H, W) or (H, W, C) array_like
        Any real dtype; channels are pooled separately.
    kind : {"max", "avg"}
    size : int or (rows, cols)
        The window, default 2x2.
    stride : int or (rows, cols), optional
        Steps between windows; default ``size`` (windows side by side).
    padding : {"valid", "same"}
        ``valid``: only whole windows, ``floor((n - size)/s) + 1`` outputs;
        ``same``: ``ceil(n/s)`` outputs, windows over the edge count only
        the image's cells.
    threads : int, optional
        Band threads, as :func:`convcli.engine.convolve`.

    Returns
    -------
    ndarray
        ``float32`` for a ``float32`` image, else ``float64``. A max is exact;
        an average is the window's sum divided by its count of cells.

    >>> pool(np.array([[1, 5, 2], [3, -1, 4], [0, 7, 9]]), "max", padding="same")
    array([[5., 4.],
           [7., 9.]])
    >>> pool(np.array([[1, 5, 2], [3, -1, 4], [0, 7, 9]]), "avg", padding="same")
    array([[2. , 3. ],
           [3.5, 9. ]])
    """
    check_choice("kind", kind, POOLS)
    check_choice("padding", padding, PADDINGS[:2])
    if threads is not None and (not isinstance(threads, int) or threads < 1):
        raise ValueError(f"threads must be a positive integer or None; got {threads!r}")
    pixels = np.asarray(image)
    if pixels.ndim not in (2, 3):
        raise ValueError(f"image must be (H, W) or (H, W, C), got shape {pixels.shape}")
    if pixels.size == 0:
        raise ValueError(f"image must not be empty, got shape {pixels.shape}")
    if pixels.dtype.kind not in "biuf":
        raise ValueError(f"image must hold real numbers, got dtype {pixels.dtype}")
    if pixels.dtype.kind == "b":
        pixels = pixels.astype(np.uint8)
    window = pair("size", size)
    geometry = Geometry(window, padding, window if stride is None else stride)
    oh, ow = geometry.checked_output_shape(pixels.shape, "pool")
    dtype = np.dtype(np.float32 if pixels.dtype == np.float32 else np.float64)
    out = np.empty((oh, ow, *pixels.shape[2:]), dtype=dtype)
    work = pixels.dtype if kind == "max" else dtype
    plan = _Plan(pixels, geometry, kind, work)
    rows = plan.band_rows()
    bands = [(r0, min(r0 + rows, oh)) for r0 in range(0, oh, rows)]
    workers = thread_count(threads, oh * ow, len(bands))
    if workers == 1:
        for r0, r1 in bands:
            out[r0:r1] = plan.band(r0, r1)
    else:
        from concurrent.futures import ThreadPoolExecutor

        def fill(chunk: list[tuple[int, int]]) -> None:
            for r0, r1 in chunk:
                out[r0:r1] = plan.band(r0, r1)

        with ThreadPoolExecutor(workers) as executor:
            for future in [executor.submit(fill, bands[i::workers]) for i in range(workers)]:
                future.result()
    if kind == "avg":
        out /= _counts(pixels.shape, geometry)
    return out


class _Plan:
    """One image's pooling, a band of output rows at a time."""

    def __init__(self, pixels: np.ndarray, geometry: Geometry, kind: str, work: np.dtype) -> None:
        self.pixels, self.geometry, self.work = pixels, geometry, work
        self.reduce = np.maximum if kind == "max" else np.add
        if kind == "max":
            self.fill = -np.inf if work.kind == "f" else np.iinfo(work).min
        else:
            self.fill = 0
        (self.top, _), (self.left, _) = geometry.pads(pixels.shape)
        self.padded = any(any(p) for p in geometry.pads(pixels.shape))

    def band_rows(self) -> int:
        sr = self.geometry.stride[0]
        row_bytes = self.work.itemsize * self.pixels[0].size * sr * 2
        return max(1, cost.current().band_bytes * 4 // row_bytes)

    def band(self, r0: int, r1: int) -> np.ndarray:
        (kh, kw), (sr, sc) = self.geometry.kernel_shape, self.geometry.stride
        p0, p1 = self.geometry.input_rows(r0, r1)
        src = self._rows(p0, p1)
        rows, cols = r1 - r0, self.geometry.output_shape(self.pixels.shape)[1]
        last_r, last_c = (rows - 1) * sr + 1, (cols - 1) * sc + 1
        down = (
            self.reduce(src[0:last_r:sr], src[1 : 1 + last_r : sr]) if kh > 1 else src[0:last_r:sr]
        )
        for u in range(2, kh):
            self.reduce(down, src[u : u + last_r : sr], out=down)
        if kw == 1:
            return down[:, :last_c:sc]
        across = self.reduce(down[:, 0:last_c:sc], down[:, 1 : 1 + last_c : sc])
        for v in range(2, kw):
            self.reduce(across, down[:, v : v + last_c : sc], out=across)
        return across

    def _rows(self, p0: int, p1: int) -> np.ndarray:
        """Padded rows ``p0:p1`` in the working dtype (the image itself when it can be)."""
        h, w = self.pixels.shape[:2]
        i0, i1 = p0 - self.top, p1 - self.top
        if not self.padded and self.pixels.dtype == self.work:
            return self.pixels[i0:i1]
        left, right = self.geometry.pads(self.pixels.shape)[1]
        src = np.full((p1 - p0, left + w + right, *self.pixels.shape[2:]), self.fill, self.work)
        lo, hi = max(i0, 0), min(i1, h)
        src[lo - i0 : hi - i0, self.left : self.left + w] = self.pixels[lo:hi]
        return src


def _counts(shape: tuple[int, ...], geometry: Geometry) -> np.ndarray:
    """How many of the image's own cells each output window covers, broadcastable."""
    counts = []
    for axis in (0, 1):
        n, k, s = shape[axis], geometry.kernel_shape[axis], geometry.stride[axis]
        before = geometry.pads(shape)[axis][0]
        starts = np.arange(geometry.output_shape(shape)[axis]) * s - before
        counts.append(np.minimum(starts + k, n) - np.maximum(starts, 0))
    grid = np.outer(counts[0], counts[1]).astype(np.float64)
    return grid if len(shape) == 2 else grid[:, :, None]
