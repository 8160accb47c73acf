"""The engine's public calls: validate, pick a strategy, run it over bands.

The maths is the tutorial's: the kernel slides over the image *without*
flipping (cross-correlation, as TensorFlow's ``Conv2D``), and each output pixel
is the sum of the element-wise product of the kernel and the window under it.
The tutorial's double loop is the definition (and the tests' oracle); the
strategies compute the same numbers with whole-array operations, and the
cost model (:mod:`.cost`) picks one per kernel and image.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from . import decompose, fused
from .bands import run_bands
from .base import Strategy
from .cost import STRATEGIES, choose_strategy
from .fft import FFT
from .geometry import PADDINGS, Geometry, check_choice
from .reader import BORDERS, PaddedReader, index_map
from .separable import Separable
from .sinks import ArraySink, ClipStats, Sink, Uint8Sink

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = ["ClipStats", "convolve", "convolve_uint8", "sample_centres"]


def convolve(
    image: ArrayLike,
    kernel: ArrayLike,
    *,
    padding: str = "valid",
    border: str = "zero",
    stride: int | tuple[int, int] = 1,
    dilation: int | tuple[int, int] = 1,
    strategy: str = "auto",
    threads: int | None = None,
) -> np.ndarray:
    r"""Slide ``kernel`` over ``image`` and return the weighted sums.

    .. math:: out[i, j] = \sum_{u, v} kernel[u, v] \cdot
              padded[i \cdot s_r + u \cdot d_r, j \cdot s_c + v \cdot d_c]

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
        As ``tf.nn.conv2d``, per axis, with the window's span
        ``span = d·(k-1) + 1``: ``valid``: no padding, ``floor((n - span)/s) + 1``
        outputs. ``same``: ``ceil(n/s)`` outputs, padded by
        ``max((out-1)·s + span - n, 0)``, half (rounded down) before, the rest
        after, so an even kernel's extra row or column goes bottom/right.
        ``full``: pad ``span-1`` on every side, then stride as ``valid``. At
        stride 1 that is ``(H-kh+1, W-kw+1)``, ``(H, W)`` and ``(H+kh-1, W+kw-1)``.
    border : {"zero", "edge", "reflect", "symmetric", "wrap"}
        What lies outside the image when padding: ``zero`` is the tutorial's
        black border; the others are :func:`numpy.pad`'s modes of the same name.
    stride : int or (rows, cols)
        Steps between output pixels, in input pixels: only those outputs are
        computed (stride 2 is a quarter of the work).
    dilation : int or (rows, cols)
        Steps between the kernel's taps (``d - 1`` pixels skipped), as
        TensorFlow's ``dilations``. Any stride and dilation may be combined.
    strategy : {"auto", "direct", "separable", "fft"}
        How to compute it; every strategy gives the same numbers within the
        tolerance below. ``auto`` picks the cheapest by the cost model.
    threads : int, optional
        Worker threads for the row bands; default: one for images under
        about 512x512 output pixels, else one per usable core. A caller that
        already runs one image per core (a worker process) passes 1.

    Returns
    -------
    ndarray
        ``float32`` if ``image`` is ``float32`` (in either byte order), else
        ``float64``; never rounded or clipped (that is the writer's job).
        NaN and infinities in ``image`` spoil exactly the outputs whose
        window holds them at a non-zero weight, whatever the strategy: a
        non-finite image is always computed directly (FFT would spread them
        over a tile).

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
    >>> convolve(np.arange(36).reshape(6, 6), np.ones((3, 3)), padding="same", stride=2)
    array([[ 63.,  81.,  63.],
           [171., 189., 135.],
           [168., 180., 126.]])
    """
    image, weights = _validate(image, kernel, padding, border, strategy, threads)
    dtype = working_dtype(image.dtype)
    geometry = Geometry(weights.shape, padding, stride, dilation)
    shape = geometry.checked_output_shape(image.shape)
    out = np.empty(shape, dtype=dtype)
    _run(image, weights, geometry, border, strategy, threads, dtype, ArraySink(out))
    return out


def convolve_uint8(
    image: ArrayLike,
    kernel: ArrayLike,
    *,
    padding: str = "valid",
    border: str = "zero",
    scale: float = 1.0,
    offset: float = 0.0,
    stride: int | tuple[int, int] = 1,
    dilation: int | tuple[int, int] = 1,
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
    An ``(H, W, C)`` image (``--color``) is filtered one channel at a time,
    each straight into its plane of the ``(h, w, C)`` result.

    The work is in float32. For kernels whose weights and sums are exact in
    float32 (integers, or dyadic fractions such as ``blur``'s sixteenths,
    which covers every built-in except ``box``) the bytes are identical to
    rounding the float64 :func:`convolve`; otherwise a pixel whose exact
    value lies within the float32 tolerance of a half-integer may round the
    other way (a difference of 1).

    Parameters are those of :func:`convolve`, plus ``scale`` and ``offset``
    applied before rounding, and ``stats``, a :class:`ClipStats` to fill with
    the unrounded minimum and maximum and the count of clipped pixels (a
    pixel counts once, whichever of its channels clipped: what a report
    needs, without keeping the float result). ``image`` must be ``uint8``.

    >>> convolve_uint8(np.array([[10, 20], [30, 250]], np.uint8), [[1, 1]])
    array([[ 30],
           [255]], dtype=uint8)
    """
    pixels = np.asarray(image)
    channels = pixels.shape[2] if pixels.ndim == 3 else 0
    first, weights = _validate(pixels[..., 0] if channels else pixels, kernel, padding, border,
                               strategy, threads)  # fmt: skip
    if first.dtype != np.uint8:
        raise ValueError(f"image must be uint8 for convolve_uint8, got dtype {first.dtype}")
    if not (math.isfinite(scale) and math.isfinite(offset)):
        raise ValueError("scale and offset must be finite")
    geometry = Geometry(weights.shape, padding, stride, dilation)
    shape = geometry.checked_output_shape(first.shape)
    out = np.empty((*shape, channels) if channels else shape, dtype=np.uint8)
    dtype = np.dtype(np.float32)
    # Several channels: a pixel is clipped if any of its channels is, so the
    # sinks mark pixels rather than count them.
    mask = np.zeros(shape, dtype=bool) if channels and stats is not None else None
    planes = [(pixels[..., c], out[..., c]) for c in range(channels)] or [(first, out)]
    for plane, into in planes:
        sink = Uint8Sink(into, dtype.type(scale), dtype.type(offset), stats, mask)
        _run(plane, weights, geometry, border, strategy, threads, dtype, sink)
    if stats is not None:
        stats._close(mask)
    return out


def sample_centres(image: ArrayLike, geometry: Geometry, border: str = "zero") -> np.ndarray:
    """The (padded) input value each output pixel is centred on, in ``image``'s dtype.

    What ``convolve`` with a one-hot kernel at :attr:`Geometry.anchor` gives,
    without arithmetic: how an alpha channel (or any per-pixel label) follows
    the pixels through ``valid`` (cropped), ``same`` (kept) or ``full``
    (extended by the ``border`` rule; ``zero``: 0). Extra trailing axes
    (channels) are carried along.

    >>> sample_centres(np.arange(16).reshape(4, 4), Geometry((3, 3)))
    array([[ 5,  6],
           [ 9, 10]])
    """
    check_choice("border", border, BORDERS)
    pixels = np.asarray(image)
    if pixels.ndim < 2:
        raise ValueError(f"image must be at least 2-D, got shape {pixels.shape}")
    picks = []
    for axis, widths in enumerate(geometry.pads(pixels.shape)):
        out = geometry.output_shape(pixels.shape)[axis]
        index = index_map(pixels.shape[axis], widths, border)
        centre = geometry.anchor[axis] * geometry.dilation[axis]
        picks.append(index[centre + geometry.stride[axis] * np.arange(max(out, 0))])
    rows, cols = picks
    result = pixels[np.maximum(rows, 0)][:, np.maximum(cols, 0)]
    outside = (rows < 0)[:, None] | (cols < 0)[None, :]
    if outside.any():
        result[outside] = 0
    return result


# --- running a strategy over row bands ------------------------------------------


def _run(
    image: np.ndarray,
    weights: np.ndarray,
    geometry: Geometry,
    border: str,
    strategy: str,
    threads: int | None,
    dtype: np.dtype,
    sink: Sink,
) -> None:
    """``weights`` in their own dtype: it sets the separability tolerance (decompose)."""
    out_shape = geometry.output_shape(image.shape)
    if strategy == "auto":
        strategy = choose_strategy(
            image.shape,
            weights,
            geometry.padding,
            stride=geometry.stride,
            dilation=geometry.dilation,
        )
    # Checked only when the choice is not direct already: the check reads every
    # pixel, which at stride 2 costs a third of the convolution itself.
    if strategy != "direct" and not all_finite(image):
        # FFT spreads one NaN or infinity over its whole tile, and SVD factors put
        # tiny non-zero weights where the kernel has zeros (1e-17 * inf is inf): so a
        # non-finite image is computed directly, whatever was asked, and no strategy
        # changes the answer.
        strategy = "direct"
    kernel = weights.astype(np.float64)
    reader = PaddedReader(image, geometry.pads(image.shape), border, dtype)
    plan: Strategy
    if strategy == "fft":
        plan = FFT(kernel, dtype, out_shape, stride=geometry.stride, dilation=geometry.dilation)
    elif strategy == "separable":
        terms = decompose.terms(weights)
        if terms is None:  # forced on a full-rank kernel: one term per SVD component
            terms = decompose.all_terms(kernel)
        # Only finite images get here (above), so matrix products, which multiply
        # zero weights too, cannot turn 0 * inf into NaN.
        plan = Separable(terms, dtype, stride=geometry.stride, dilation=geometry.dilation)
    else:
        plan = fused.direct(kernel, dtype, stride=geometry.stride, dilation=geometry.dilation)
    run_bands(reader, plan, geometry, out_shape, sink, threads, dtype)


def all_finite(image: np.ndarray) -> bool:
    """Whether every pixel is finite: NaN propagates through min, infinities show in
    min or max, and neither allocates a full-size boolean array as ``isfinite`` would.

    >>> all_finite(np.array([[1.0, np.nan]])), all_finite(np.array([[1, 2]]))
    (False, True)
    """
    if image.dtype.kind != "f":
        return True
    return bool(np.isfinite(image.min()) and np.isfinite(image.max()))


def working_dtype(image_dtype: np.dtype) -> np.dtype:
    """float32 for float32 images in either byte order, else float64 (the dtype policy).

    >>> working_dtype(np.dtype(">f4")), working_dtype(np.dtype("f2"))
    (dtype('float32'), dtype('float64'))
    """
    native = image_dtype.newbyteorder("=")
    return np.dtype(np.float32 if native == np.float32 else np.float64)


# --- argument checking ------------------------------------------------------------


def _validate(
    image: ArrayLike,
    kernel: ArrayLike,
    padding: str,
    border: str,
    strategy: str = "auto",
    threads: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The image (bool as uint8) and the kernel *in its own dtype*, both checked."""
    check_choice("padding", padding, PADDINGS)
    check_choice("border", border, BORDERS)
    check_choice("strategy", strategy, STRATEGIES)
    if threads is not None and (not isinstance(threads, int) or threads < 1):
        raise ValueError(f"threads must be a positive integer or None; got {threads!r}")
    pixels = np.asarray(image)
    weights = np.asarray(kernel)
    for name, array in (("image", pixels), ("kernel", weights)):
        if array.ndim != 2:
            raise ValueError(f"{name} must be 2-D, got {array.ndim}-D with shape {array.shape}")
        if array.size == 0:
            raise ValueError(f"{name} must not be empty, got shape {array.shape}")
        if array.dtype.kind not in "biuf":
            raise ValueError(f"{name} must hold real numbers, got dtype {array.dtype}")
    if pixels.dtype.kind == "b":
        pixels = pixels.astype(np.uint8)
    if not np.isfinite(weights.astype(np.float64)).all():
        raise ValueError("kernel must be finite (no NaN or infinity)")
    return pixels, weights
