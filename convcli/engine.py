"""The convolution engine: pure NumPy, arrays in, arrays out.

The maths is the tutorial's: the kernel slides over the image *without*
flipping (cross-correlation, as TensorFlow's ``Conv2D``), and each output pixel
is the sum of the element-wise product of the kernel and the window under it.
The tutorial's double loop is the definition (and the tests' oracle); this
module computes the same numbers with whole-array operations.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["BORDERS", "PADDINGS", "convolve", "output_shape", "pad_widths"]

PADDINGS = ("valid", "same", "full")
BORDERS = ("zero", "edge", "reflect", "symmetric", "wrap")

# Our border names are numpy.pad's, except the tutorial's black border.
_NP_PAD_MODE = {"zero": "constant", "edge": "edge", "reflect": "reflect",
                "symmetric": "symmetric", "wrap": "wrap"}  # fmt: skip


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

    Examples
    --------
    >>> image = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    >>> convolve(image, [[1, 0], [0, -1]])
    array([[-4., -4.],
           [-4., -4.]])
    >>> convolve(image, [[0, 0, 0], [0, 1, 0], [0, 0, 0]], padding="same").shape
    (3, 3)
    """
    image, kernel = _validate(image, kernel, padding, border)
    dtype = np.float32 if image.dtype == np.float32 else np.float64
    widths = pad_widths(kernel.shape, padding)
    shape = output_shape(image.shape, kernel.shape, padding)
    if min(shape) <= 0:
        raise ValueError(
            f"image: {image.shape[0]}x{image.shape[1]} is smaller than the "
            f"{kernel.shape[0]}x{kernel.shape[1]} kernel, so padding='valid' leaves "
            "nothing; use padding='same'"
        )
    source = image.astype(dtype, copy=False)
    if any(any(w) for w in widths):
        source = np.pad(source, widths, mode=_NP_PAD_MODE[border])
    return _shift_and_add(source, kernel.astype(dtype), shape)


def _shift_and_add(padded: np.ndarray, kernel: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Accumulate one shifted view of the image per distinct weight.

    Zero taps cost nothing, and taps sharing a weight are summed before the
    single multiplication (sharpen: 2 multiplies instead of 9).
    """
    oh, ow = shape
    out = np.zeros(shape, dtype=padded.dtype)
    scratch = np.empty_like(out)
    for weight, taps in _taps_by_weight(kernel):
        (u, v), *rest = taps
        np.copyto(scratch, padded[u : u + oh, v : v + ow])
        for u, v in rest:
            scratch += padded[u : u + oh, v : v + ow]
        if weight == 1:
            out += scratch
        elif weight == -1:
            out -= scratch
        else:
            scratch *= weight
            out += scratch
    return out


def _taps_by_weight(kernel: np.ndarray) -> list[tuple[float, list[tuple[int, int]]]]:
    groups: dict[float, list[tuple[int, int]]] = defaultdict(list)
    for (u, v), weight in np.ndenumerate(kernel):
        if weight != 0:
            groups[weight.item()].append((u, v))
    return list(groups.items())


def _validate(
    image: ArrayLike, kernel: ArrayLike, padding: str, border: str
) -> tuple[np.ndarray, np.ndarray]:
    _check_choice("padding", padding, PADDINGS)
    _check_choice("border", border, BORDERS)
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
