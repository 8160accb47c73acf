"""The convolution engine: pure NumPy, arrays in, arrays out.

The maths is the tutorial's: the kernel slides over the image *without*
flipping (cross-correlation, as TensorFlow's ``Conv2D``), and each output pixel
is the sum of the element-wise product of the kernel and the window under it.
The tutorial's double loop is the definition (and the tests' oracle); this
module computes the same numbers with whole-array operations, choosing one of
three strategies per kernel and image (see :func:`convolve`'s cost model).

Everything is computed in row *bands*: a band of output rows needs only the
band plus ``kh - 1`` rows of the padded image, which is built on the fly
(no full-size padded copy) into a buffer that stays in the CPU cache, so
each pixel is read from memory once and written once. Large images split
their bands over threads (NumPy releases the GIL in its array loops).
"""

from __future__ import annotations

import functools
import itertools
import math
import os
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = [
    "BORDERS",
    "PADDINGS",
    "STRATEGIES",
    "ClipStats",
    "choose_strategy",
    "convolve",
    "convolve_uint8",
    "output_shape",
    "pad_widths",
]

PADDINGS = ("valid", "same", "full")
BORDERS = ("zero", "edge", "reflect", "symmetric", "wrap")
STRATEGIES = ("auto", "direct", "separable", "fft")

# Our border names are numpy.pad's, except the tutorial's black border.
_NP_PAD_MODE = {"zero": "constant", "edge": "edge", "reflect": "reflect",
                "symmetric": "symmetric", "wrap": "wrap"}  # fmt: skip

# Tuning constants of the cost model and the scheduler (measured on a 2-core
# AMD EPYC with 1 MiB of L2 per core; see README "Performance").
_BAND_BYTES = 1 << 18  # target size of one band buffer: a few fit in L2 together
# Shift-and-accumulate makes a few cheap NumPy calls per band: with bands this
# small, call overhead and two threads taking turns at the GIL cost more than
# cache misses do, so its bands are 4x larger (4096², 3x3: 2x faster on 2 threads).
_DIRECT_BAND_BYTES = 1 << 20
_THREAD_MIN_PIXELS = 1 << 18  # below ~512x512 output pixels threads cost more than they save
_FFT_COST = 3.5  # direct-pass equivalents per output pixel per log2(FFT size)
_FFT_FIXED = 7e6  # set-up (kernel spectrum, a first tile) in passes x pixels: small images
_GEMM_MIN_COST = 16  # 1-D passes costlier than this (~11+ taps) run as matrix products
_GEMM_MAX_TAPS = 129  # ... up to this length (longer ones go to FFT anyway)
_GEMM_ROWS = 32  # rows per matrix product
_GEMM_COST = 14  # direct-pass equivalents of one 1-D matrix-product pass
_BLAS_SERIAL = 1 << 18  # OpenBLAS threads a GEMM above ~4 x 65536 multiply-adds
_FFT_TILE = 256  # largest FFT tile side; larger tiles fall out of cache


def pad_widths(kernel_shape: tuple[int, int], padding: str) -> tuple[tuple[int, int], ...]:
    """Rows and columns added ``(before, after)`` on each axis for a padding mode.

    ``same`` splits ``k - 1`` as TensorFlow does: ``(k - 1) // 2`` before, the
    rest after, so an even kernel's extra row and column go bottom and right.
    """
    _check_choice("padding", padding, PADDINGS)
    widths = []
    for k in kernel_shape:
        if padding == "valid":
            widths.append((0, 0))
        elif padding == "same":
            widths.append(((k - 1) // 2, k - 1 - (k - 1) // 2))
        else:
            widths.append((k - 1, k - 1))
    return tuple(widths)


def output_shape(
    image_shape: tuple[int, int], kernel_shape: tuple[int, int], padding: str = "valid"
) -> tuple[int, int]:
    """The result's ``(height, width)``: ``n - k + 1`` per axis for ``valid``,
    ``n`` for ``same``, ``n + k - 1`` for ``full``. Non-positive means empty."""
    widths = pad_widths(kernel_shape, padding)
    return tuple(  # type: ignore[return-value]
        n + before + after - k + 1
        for n, k, (before, after) in zip(image_shape, kernel_shape, widths, strict=True)
    )


def convolve(
    image: ArrayLike,
    kernel: ArrayLike,
    *,
    padding: str = "valid",
    border: str = "zero",
    strategy: str = "auto",
    threads: int | None = None,
) -> np.ndarray:
    r"""Slide ``kernel`` over ``image`` and return the weighted sums.

    .. math:: out[i, j] = \sum_{u, v} kernel[u, v] \cdot padded[i + u, j + v]

    The kernel is not flipped (cross-correlation, like TensorFlow's
    ``Conv2D`` and the tutorial); flip it yourself, ``kernel[::-1, ::-1]``,
    for a textbook convolution.

    Parameters
    ----------
    image : (H, W) array_like
        Grayscale pixels, any real dtype.
    kernel : (kh, kw) array_like
        Finite weights; any size, even or odd, square or not.
    padding : {"valid", "same", "full"}
        ``valid``: no padding, result is ``(H-kh+1, W-kw+1)``. ``same``:
        pad so the result is ``(H, W)``; for an even side the extra row or
        column of padding goes after (bottom/right), as in TensorFlow.
        ``full``: pad ``k-1`` on every side, result ``(H+kh-1, W+kw-1)``.
    border : {"zero", "edge", "reflect", "symmetric", "wrap"}
        What lies outside the image when padding: ``zero`` is the tutorial's
        black border; the others are :func:`numpy.pad`'s modes of the same name.
    strategy : {"auto", "direct", "separable", "fft"}
        How to compute it; every strategy gives the same numbers within the
        tolerance below. ``auto`` picks the cheapest by the cost model.
    threads : int, optional
        Worker threads for the row bands; default: one for images under
        about 512x512 output pixels or inside a multiprocessing worker (whose
        siblings already use the cores), else one per available core.

    Returns
    -------
    ndarray
        ``float32`` if ``image`` is ``float32``, else ``float64``; never
        rounded or clipped (that is the writer's job).

    Raises
    ------
    ValueError
        Naming the parameter, before any work: not 2-D, empty, non-finite
        kernel, unknown mode, or a ``valid`` result that would be empty.

    Notes
    -----
    **Dtype policy.** The work is done in the result's dtype: float64 for
    integer, boolean and float64 images (so 8-bit input gives exact results
    for kernels with dyadic weights, and at worst a few float64 rounding
    errors), float32 for float32 images (the caller chose speed). Direct and
    separable results differ from the tutorial's loop by at most
    ``4 · n · ε · Σ|k| · max|x|`` (``n`` taps, ``ε`` of the working dtype):
    the same products, summed in another order. FFT spreads its rounding over
    the whole tile; its error is bounded by ``ε · log2(N) · Σ|k| · max|x|``
    times a small constant (tests allow 16x).

    **Strategies and cost model.** Costs are counted in *passes*: one
    vectorised operation over a cache-resident band, per output pixel.

    - ``direct`` (shift-and-accumulate): for each distinct non-zero weight,
      add up the shifted views of the band under its taps, then multiply once
      (zero taps cost nothing; sharpen's nine taps are two weights).
      Cost: ``taps + weights``.
    - ``separable``: a kernel of rank ``r`` (by SVD; rank 1 is the common
      Gaussian/box/Sobel case) is ``r`` pairs of 1-D passes, a row pass then
      a column pass. A short pass is shift-and-accumulate; a long one (11+
      taps) is a banded matrix product (BLAS, in blocks small enough that
      OpenBLAS stays on the calling thread). Cost: the sum of the 1-D costs
      (a matrix-product pass counts 14), plus 1 per term.
    - ``fft``: overlap-save over tiles of ``N x N`` (``N`` ≤ 512, of small
      prime factors): ``irfft2(rfft2(tile) · K)``. Cost: about
      ``1.2 · log2(N²)`` passes, times ``N² / T²`` for the tile's
      ``T = N - k + 1`` useful rows and columns. Wins for large dense kernels.

    ``auto`` takes the cheapest; ties go to the simpler strategy.

    Examples
    --------
    >>> image = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    >>> convolve(image, [[1, 0], [0, -1]])
    array([[-4., -4.],
           [-4., -4.]])
    >>> convolve(image, [[0, 0, 0], [0, 1, 0], [0, 0, 0]], padding="same").shape
    (3, 3)
    """
    image, kernel = _validate(image, kernel, padding, border, strategy, threads)
    dtype = np.dtype(np.float32 if image.dtype == np.float32 else np.float64)
    shape = _checked_shape(image, kernel, padding)
    out = np.empty(shape, dtype=dtype)
    _run(image, kernel, padding, border, strategy, threads, dtype, out, sink=None)
    return out


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

    def _close(self) -> None:
        for low, high, clipped, pixels in self._parts:
            self.minimum, self.maximum = min(self.minimum, low), max(self.maximum, high)
            self.clipped += clipped
            self.pixels += pixels
        self._parts.clear()


def convolve_uint8(
    image: ArrayLike,
    kernel: ArrayLike,
    *,
    padding: str = "valid",
    border: str = "zero",
    scale: float = 1.0,
    offset: float = 0.0,
    strategy: str = "auto",
    threads: int | None = None,
    stats: ClipStats | None = None,
) -> np.ndarray:
    """8-bit in, 8-bit out: ``to_uint8(convolve(image, kernel) * scale + offset)``, fused.

    Each band goes uint8 -> float32 -> taps -> scale/offset -> round (half to
    even) -> clip to 0..255 -> uint8, so no full-size float copy of the image
    ever exists: the extra memory is a few band buffers per thread (measured
    with tracemalloc for a 4096x4096 image and a 3x3 kernel: under 1 MiB
    beyond the 16 MiB uint8 result, against 64 MiB for one float32 copy).

    The work is in float32. For kernels whose weights and sums are exact in
    float32 (integers, or dyadic fractions such as ``blur``'s sixteenths,
    which covers every built-in except ``box``) the bytes are identical to
    rounding the float64 :func:`convolve`; otherwise a pixel whose exact
    value lies within the float32 tolerance of a half-integer may round the
    other way (a difference of 1).

    Parameters are those of :func:`convolve`, plus ``scale`` and ``offset``
    applied before rounding, and ``stats``, a :class:`ClipStats` to fill with
    the unrounded minimum and maximum and the count of clipped pixels (what a
    report needs, without keeping the float result). ``image`` must be ``uint8``.

    >>> convolve_uint8(np.array([[10, 20], [30, 250]], np.uint8), [[1, 1]])
    array([[ 30],
           [255]], dtype=uint8)
    """
    image, kernel = _validate(image, kernel, padding, border, strategy, threads)
    if image.dtype != np.uint8:
        raise ValueError(f"image must be uint8 for convolve_uint8, got dtype {image.dtype}")
    if not (math.isfinite(scale) and math.isfinite(offset)):
        raise ValueError("scale and offset must be finite")
    shape = _checked_shape(image, kernel, padding)
    out = np.empty(shape, dtype=np.uint8)
    dtype = np.dtype(np.float32)
    sink = _ToUint8(out, dtype.type(scale), dtype.type(offset), stats)
    _run(image, kernel, padding, border, strategy, threads, dtype, out, sink=sink)
    if stats is not None:
        stats._close()
    return out


def choose_strategy(image_shape: tuple[int, int], kernel: ArrayLike, padding: str = "valid") -> str:
    """The strategy ``auto`` would use: the cheapest by the cost model in :func:`convolve`.

    >>> choose_strategy((224, 224), [[0, -1, 0], [-1, 5, -1], [0, -1, 0]])
    'direct'
    >>> choose_strategy((1024, 1024), np.ones((15, 15)))
    'separable'
    >>> choose_strategy((1024, 1024), np.random.default_rng(0).normal(size=(31, 31)))
    'fft'
    """
    kernel = np.asarray(kernel, dtype=np.float64)
    shape = output_shape(image_shape, kernel.shape, padding)
    return min(_costs(kernel, shape).items(), key=lambda item: item[1])[0]


# --- the cost model -----------------------------------------------------------


def _costs(kernel: np.ndarray, out_shape: tuple[int, int]) -> dict[str, float]:
    """Passes per output pixel for each strategy, in order of simplicity."""
    costs = {"direct": _direct_cost(kernel)}
    terms = _separable_terms(kernel)
    if terms is not None:
        costs["separable"] = sum(_pass_cost(col) + _pass_cost(row) + 1 for col, row in terms)
    costs["fft"] = _fft_cost(kernel.shape, out_shape)
    return costs


def _pass_cost(weights: np.ndarray) -> float:
    """A 1-D pass: its direct cost, or a matrix product's (measured ~14 passes)."""
    return _GEMM_COST if _uses_product(weights) else _direct_cost(weights[None, :])


def _direct_cost(kernel: np.ndarray) -> int:
    nonzero = kernel[kernel != 0].tolist()
    return len(nonzero) + len(set(nonzero))  # np.unique would import numpy.ma: 15 ms


def _fft_cost(kernel_shape: tuple[int, int], out_shape: tuple[int, int]) -> float:
    (nh, th), (nw, tw) = (_fft_tile(k, n) for k, n in zip(kernel_shape, out_shape, strict=True))
    pixels = out_shape[0] * out_shape[1]
    return _FFT_COST * math.log2(nh * nw) * (nh * nw) / (th * tw) + _FFT_FIXED / pixels


def _fft_tile(k: int, n: int) -> tuple[int, int]:
    """``(N, T)`` for one axis: FFT length and useful output length per tile."""
    want = n + k - 1
    size = _next_fast(want) if want <= _FFT_TILE else max(_next_fast(4 * (k - 1)), _FFT_TILE)
    return size, min(size - k + 1, n)


@functools.lru_cache(maxsize=256)
def _next_fast(n: int) -> int:
    """The smallest ``2^a 3^b 5^c`` at least ``n`` (pocketfft's fast sizes)."""
    best = 1 << max(n - 1, 0).bit_length()
    power5 = 1
    while power5 < best:
        power35 = power5
        while power35 < best:
            size = power35
            while size < n:
                size *= 2
            best = min(best, size)
            power35 *= 3
        power5 *= 5
    return best


def _separable_terms(kernel: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]] | None:
    """:func:`_split` for this kernel, remembered: a batch filters every image with one
    kernel, and an SVD costs more than filtering a small image's band."""
    kernel = np.ascontiguousarray(kernel, dtype=np.float64)
    return _split_cached(kernel.tobytes(), kernel.shape)


@functools.lru_cache(maxsize=64)
def _split_cached(
    data: bytes, shape: tuple[int, int]
) -> list[tuple[np.ndarray, np.ndarray]] | None:
    terms = _split(np.frombuffer(data, dtype=np.float64).reshape(shape))
    for column, row in terms or ():
        column.flags.writeable = row.flags.writeable = False
    return terms


def _split(kernel: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]] | None:
    """``[(column, row), ...]`` with ``Σ outer(column, row) ≈ kernel``, if that is cheaper.

    Rank 1 uses the pivot row and column (exact for dyadic weights such as
    ``blur``'s); higher ranks the SVD. None when the rank is full (no gain).
    """
    kh, kw = kernel.shape
    if kh == 1 or kw == 1 or not kernel.any():
        return None
    u, s, vt = np.linalg.svd(kernel)
    # numpy.linalg.matrix_rank's cut-off: what is dropped is float64 rounding noise,
    # so the terms reproduce the kernel within the tolerance of the direct sum.
    rank = int((s > s[0] * max(kh, kw) * np.finfo(np.float64).eps).sum())
    if rank == 1:
        i, j = np.unravel_index(np.argmax(np.abs(kernel)), kernel.shape)
        return [(kernel[:, j] / kernel[i, j], kernel[i, :].copy())]
    if rank >= min(kh, kw):
        return None
    return [(u[:, t] * s[t], vt[t].copy()) for t in range(rank)]


# --- running a strategy over row bands ------------------------------------------


def _checked_shape(image: np.ndarray, kernel: np.ndarray, padding: str) -> tuple[int, int]:
    shape = output_shape(image.shape, kernel.shape, padding)
    if min(shape) <= 0:
        raise ValueError(
            f"image: {image.shape[0]}x{image.shape[1]} is smaller than the "
            f"{kernel.shape[0]}x{kernel.shape[1]} kernel, so padding='valid' leaves "
            "nothing; use padding='same'"
        )
    return shape


def _run(
    image: np.ndarray,
    kernel: np.ndarray,
    padding: str,
    border: str,
    strategy: str,
    threads: int | None,
    dtype: np.dtype,
    out: np.ndarray,
    sink: _ToUint8 | None,
) -> None:
    if strategy == "auto":
        strategy = choose_strategy(image.shape, kernel, padding)
    source = _Source(image, pad_widths(kernel.shape, padding), border, dtype)
    if strategy == "fft":
        plan: _Strategy = _FFT(kernel, dtype, out.shape)
    elif strategy == "separable":
        terms = _separable_terms(kernel)
        if terms is None:  # forced on a full-rank kernel: one term per SVD component
            u, s, vt = np.linalg.svd(kernel)
            terms = [(u[:, t] * s[t], vt[t]) for t in range(s.size)]
        # A matrix product multiplies zero weights too: 0 * inf would spread NaN.
        finite = image.dtype.kind != "f" or bool(np.isfinite(image).all())
        plan = _Separable(terms, dtype, products=finite)
    else:
        plan = _Direct(kernel, dtype)
    oh, ow = out.shape
    rows = plan.band_rows(source.shape[1], ow)
    bands = [(r0, min(r0 + rows, oh)) for r0 in range(0, oh, rows)]
    workers = _thread_count(threads, out.size, len(bands))

    def work(chunk: list[tuple[int, int]]) -> None:
        scratch: dict[str, np.ndarray] = {}
        for r0, r1 in chunk:
            src = source.rows(r0, r1 + kernel.shape[0] - 1, scratch)
            dst = out[r0:r1] if sink is None else _buffer(scratch, "dst", (r1 - r0, ow), dtype)
            plan.band(src, dst, scratch)
            if sink is not None:
                sink.write(r0, dst)

    if workers == 1:
        work(bands)
        return
    from concurrent.futures import ThreadPoolExecutor  # only large images pay the import

    chunks = [bands[i::workers] for i in range(workers)]
    with ThreadPoolExecutor(workers) as pool:
        for future in [pool.submit(work, chunk) for chunk in chunks]:
            future.result()


def _thread_count(threads: int | None, pixels: int, bands: int) -> int:
    if threads is None:
        if pixels < _THREAD_MIN_PIXELS or _in_worker_process():
            return 1
        try:
            threads = len(os.sched_getaffinity(0))
        except AttributeError:  # not on Linux
            threads = os.cpu_count() or 1
    return max(1, min(threads, bands))


def _in_worker_process() -> bool:
    """True in a multiprocessing worker (``apply -j N``): its siblings already use the cores."""
    multiprocessing = sys.modules.get("multiprocessing")  # never imported here just to ask
    return multiprocessing is not None and multiprocessing.parent_process() is not None


def _buffer(scratch: dict[str, np.ndarray], name: str, shape: tuple[int, ...], dtype) -> np.ndarray:
    """A per-thread reusable buffer, trimmed to ``shape`` (bands at the end are shorter)."""
    have = scratch.get(name)
    if have is None or have.shape[0] < shape[0] or have.shape[1:] != shape[1:]:
        have = scratch[name] = np.empty(shape, dtype=dtype)
    return have[: shape[0]]


class _ToUint8:
    """The fused writer: scale, offset, round half to even, clip, cast, one band at a time."""

    def __init__(
        self, out: np.ndarray, scale: np.floating, offset: np.floating, stats: ClipStats | None
    ) -> None:
        self.out, self.scale, self.offset, self.stats = out, scale, offset, stats

    def write(self, r0: int, band: np.ndarray) -> None:
        if self.scale != 1:
            band *= self.scale
        if self.offset != 0:
            band += self.offset
        if self.stats is not None:
            low, high = float(band.min()), float(band.max())
        np.rint(band, out=band)
        if self.stats is not None:
            clipped = 0
            if round(low) < 0 or round(high) > 255:  # only then is counting worth it
                clipped = int(np.count_nonzero((band < 0) | (band > 255)))
            self.stats._add(low, high, clipped, band.size)
        np.clip(band, 0, 255, out=band)
        self.out[r0 : r0 + band.shape[0]] = band


class _Source:
    """The padded image, built a band of rows at a time in the working dtype.

    Padded row ``p`` and column ``q`` map to image indices through
    ``np.pad(np.arange(n), widths, mode)`` (``-1`` for the zero border), so
    every border mode is exactly numpy.pad's without padding the whole image.
    """

    def __init__(
        self, image: np.ndarray, widths: tuple[tuple[int, int], ...], border: str, dtype
    ) -> None:
        self.image, self.dtype = image, dtype
        self.maps = [_index_map(n, w, border) for n, w in zip(image.shape, widths, strict=True)]
        self.shape = (self.maps[0].size, self.maps[1].size)
        # Without padding or conversion the image itself is the padded source.
        self.direct = not any(any(w) for w in widths) and image.dtype == dtype
        self.col_segments = _segments(self.maps[1])

    def rows(self, p0: int, p1: int, scratch: dict[str, np.ndarray]) -> np.ndarray:
        """Padded rows ``p0:p1``, every padded column: a view or a filled buffer."""
        if self.direct:
            return self.image[p0:p1]
        out = _buffer(scratch, "src", (p1 - p0, self.shape[1]), self.dtype)
        index = self.maps[0][p0:p1]
        if index[0] >= 0 and index[-1] - index[0] == index.size - 1:
            # Inside the image (np.pad's maps step by at most 1, so first and last
            # say it all): one run of rows, no per-band splitting.
            row_runs = [(0, index.size, "slice", index)]
        else:
            row_runs = _segments(index)
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


def _index_map(n: int, widths: tuple[int, int], border: str) -> np.ndarray:
    before, after = widths
    if border == "zero" or not (before or after):  # the common cases, without np.pad's cost
        index = np.full(before + n + after, -1)
        index[before : before + n] = np.arange(n)
        return index
    return np.pad(np.arange(n), widths, mode=_NP_PAD_MODE[border])


def _segments(index: np.ndarray) -> list[tuple[int, int, str, np.ndarray]]:
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
    runs: list[tuple[int, int, str, np.ndarray]] = []
    for start, stop in itertools.pairwise(starts):
        kind = "zero" if index[start] < 0 else "slice" if stop - start > 1 else "gather"
        if kind == "gather" and runs and runs[-1][2] == "gather":
            start = runs.pop()[0]
        runs.append((start, stop, kind, index[start:stop]))
    return runs


class _Strategy:
    def band_rows(self, src_width: int, out_width: int) -> int:
        raise NotImplementedError

    def band(self, src: np.ndarray, dst: np.ndarray, scratch: dict[str, np.ndarray]) -> None:
        """Fill ``dst`` (band rows x output width) from ``src`` (band + kernel halo)."""
        raise NotImplementedError


class _Direct(_Strategy):
    """Shift-and-accumulate: one shifted view per tap, one multiply per distinct weight."""

    def __init__(self, kernel: np.ndarray, dtype, name: str = "tmp") -> None:
        self.kh, self.kw = kernel.shape
        self.groups = [(dtype.type(w), taps) for w, taps in _taps_by_weight(kernel)]
        self.dtype, self.name = dtype, name

    def band_rows(self, src_width: int, out_width: int) -> int:
        row_bytes = self.dtype.itemsize * (src_width + 2 * out_width)
        # At least twice the halo, or the kh - 1 extra rows each band copies dominate.
        return max(1, _DIRECT_BAND_BYTES * 3 // row_bytes - self.kh + 1, 2 * (self.kh - 1))

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
                    tmp = _buffer(scratch, self.name, dst.shape, self.dtype)
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
                        tmp = _buffer(scratch, self.name, dst.shape, self.dtype)
                    acc = np.multiply(acc, weight, out=tmp)
                else:
                    acc *= weight
                dst += acc
        if first:  # an all-zero kernel
            dst.fill(0)


class _Separable(_Strategy):
    """Each term a row pass into a buffer, then a column pass out of it."""

    def __init__(
        self, terms: list[tuple[np.ndarray, np.ndarray]], dtype, *, products: bool = True
    ) -> None:
        self.kh = terms[0][0].size
        self.passes = [
            (
                _pass(row, dtype, across=True, products=products),
                _pass(col, dtype, across=False, products=products),
            )
            for col, row in terms
        ]
        self.dtype = dtype

    def band_rows(self, src_width: int, out_width: int) -> int:
        row_bytes = self.dtype.itemsize * (src_width + 4 * out_width)
        # The row pass also runs over the kh - 1 halo rows: keep them a quarter at most.
        return max(1, _BAND_BYTES * 4 // row_bytes - self.kh + 1, 4 * (self.kh - 1))

    def band(self, src: np.ndarray, dst: np.ndarray, scratch: dict[str, np.ndarray]) -> None:
        cols = dst.shape[1]
        across = _buffer(scratch, "across", (src.shape[0], cols), self.dtype)
        for t, (row_pass, col_pass) in enumerate(self.passes):
            row_pass.band(src, across, scratch)
            if t == 0:
                col_pass.band(across, dst, scratch)
            else:
                term = _buffer(scratch, "term", dst.shape, self.dtype)
                col_pass.band(across, term, scratch)
                dst += term


def _uses_product(weights: np.ndarray) -> bool:
    line = weights[None, :]
    return _direct_cost(line) > _GEMM_MIN_COST and weights.size <= _GEMM_MAX_TAPS


def _pass(weights: np.ndarray, dtype, *, across: bool, products: bool) -> _Strategy:
    """One 1-D pass: shift-and-add, or for long kernels a banded matrix product."""
    kernel = weights[None, :] if across else weights[:, None]
    if products and _uses_product(weights):
        return _Product(weights, dtype, across=across)
    return _Direct(kernel, dtype, "row-tmp" if across else "col-tmp")


class _Product(_Strategy):
    """A 1-D pass as small matrix products: ``out = T @ rows`` (column pass) or
    ``out = cols @ T`` (row pass), ``T`` banded with the weights on its diagonals.

    ``T`` spans a block of ``b`` outputs and ``b + k - 1`` inputs, so it does
    about ``(b + k - 1) / k`` times the ideal work, but at BLAS speed: for a
    31-tap pass about 5x faster than 47 NumPy passes. Blocks are stacked into
    one strided 3-D ``matmul`` (no Python loop per block) and kept under
    ``_BLAS_SERIAL`` multiply-adds, below which OpenBLAS stays on the calling
    thread: BLAS threads inside our band threads measured 4x slower.
    """

    def __init__(self, weights: np.ndarray, dtype, *, across: bool) -> None:
        self.k, self.dtype, self.across = weights.size, dtype, across
        rows, k = _GEMM_ROWS, self.k
        if across:  # (rows, block + k - 1) @ (block + k - 1, block)
            self.block = _GEMM_ROWS
            matrix = np.zeros((self.block + k - 1, self.block), dtype)
            for j in range(self.block):
                matrix[j : j + k, j] = weights
        else:  # (rows, rows + k - 1) @ (rows + k - 1, block)
            self.block = max(16, _BLAS_SERIAL // (rows * (rows + k - 1)) // 16 * 16)
            matrix = np.zeros((rows, rows + k - 1), dtype)
            for i in range(rows):
                matrix[i, i : i + k] = weights
        matrix.flags.writeable = False
        self.matrix = matrix

    def band(self, src: np.ndarray, dst: np.ndarray, scratch: dict[str, np.ndarray]) -> None:
        rows, cols = dst.shape
        step = _GEMM_ROWS
        for r0 in range(0, rows, step):
            r1 = min(r0 + step, rows)
            if self.across:
                self._across(src[r0:r1], dst[r0:r1], cols)
            else:
                self._down(src[r0 : r1 + self.k - 1], dst[r0:r1], cols)

    def _across(self, src: np.ndarray, dst: np.ndarray, cols: int) -> None:
        b, k = self.block, self.k
        blocks = cols // b
        if blocks:
            stacked = np.lib.stride_tricks.as_strided(
                src, (blocks, src.shape[0], b + k - 1), (b * src.strides[1], *src.strides),
                writeable=False,
            )  # fmt: skip
            into = np.lib.stride_tricks.as_strided(
                dst, (blocks, dst.shape[0], b), (b * dst.strides[1], *dst.strides)
            )
            np.matmul(stacked, self.matrix, out=into)
        start = blocks * b
        if start < cols:
            rest = cols - start
            np.matmul(
                src[:, start : start + rest + k - 1],
                self.matrix[: rest + k - 1, :rest],
                out=dst[:, start:],
            )

    def _down(self, src: np.ndarray, dst: np.ndarray, cols: int) -> None:
        b, k, rows = self.block, self.k, dst.shape[0]
        matrix = self.matrix[:rows, : rows + k - 1]
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


class _FFT(_Strategy):
    """Overlap-save: each ``N x N`` tile of the padded band times the kernel's spectrum."""

    def __init__(self, kernel: np.ndarray, dtype, out_shape: tuple[int, int]) -> None:
        (self.nh, self.th), (self.nw, self.tw) = (
            _fft_tile(k, n) for k, n in zip(kernel.shape, out_shape, strict=True)
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


def _taps_by_weight(kernel: np.ndarray) -> list[tuple[float, list[tuple[int, int]]]]:
    groups: dict[float, list[tuple[int, int]]] = defaultdict(list)
    for (u, v), weight in np.ndenumerate(kernel):
        if weight != 0:
            groups[weight.item()].append((u, v))
    return list(groups.items())


# --- argument checking ------------------------------------------------------------


def _validate(
    image: ArrayLike,
    kernel: ArrayLike,
    padding: str,
    border: str,
    strategy: str = "auto",
    threads: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    _check_choice("padding", padding, PADDINGS)
    _check_choice("border", border, BORDERS)
    _check_choice("strategy", strategy, STRATEGIES)
    if threads is not None and (not isinstance(threads, int) or threads < 1):
        raise ValueError(f"threads must be a positive integer or None; got {threads!r}")
    image = np.asarray(image)
    kernel = np.asarray(kernel)
    for name, array in (("image", image), ("kernel", kernel)):
        if array.ndim != 2:
            raise ValueError(f"{name} must be 2-D, got {array.ndim}-D with shape {array.shape}")
        if array.size == 0:
            raise ValueError(f"{name} must not be empty, got shape {array.shape}")
        if array.dtype.kind not in "biuf":
            raise ValueError(f"{name} must hold real numbers, got dtype {array.dtype}")
    if image.dtype.kind == "b":
        image = image.astype(np.uint8)
    kernel = kernel.astype(np.float64)
    if not np.isfinite(kernel).all():
        raise ValueError("kernel must be finite (no NaN or infinity)")
    return image, kernel


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
