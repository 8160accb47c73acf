"""A filter bank: a Conv2D layer's weights over every input channel at once.

A bank ``(kh, kw, C_in, C_out)`` (Keras's ``get_weights()``, ``tf.nn.conv2d``'s
``HWIO``) gives ``C_out`` maps, each the sum over input channels of one
strided, dilated 2-D convolution:

.. math:: out[i, j, o] = b_o + \\sum_{u, v, c} w[u, v, c, o] \\cdot
          padded[i s_r + u d_r, j s_c + v d_c, c]

Rather than ``C_out · C_in`` separate passes, each band of output rows is
one matrix product (im2col): the band's windows are copied into a patch
matrix of ``rows · W' x (kh · kw · C_in)`` values (``CostModel.bank_band_bytes``
of them, so it stays in cache), which times the ``(kh · kw · C_in) x C_out``
weights gives every map of the band at BLAS speed. The bias is added to the
band while it is still in cache.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from . import cost
from .bands import run_bands
from .base import Strategy, buffer
from .geometry import PADDINGS, Geometry, check_choice
from .reader import BORDERS, PaddedReader
from .sinks import ArraySink

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = ["LAYOUTS", "Bank", "conv2d", "to_hwio"]

LAYOUTS = ("hwio", "oihw")


class Bank(Strategy):
    """Every map of a band as one ``patches @ weights`` product."""

    def __init__(
        self,
        weights: np.ndarray,
        dtype: np.dtype,
        geometry: Geometry,
        bias: np.ndarray | None = None,
    ) -> None:
        self.kh, self.kw, self.channels, self.maps = weights.shape
        self.taps = self.kh * self.kw * self.channels
        self.matrix = np.ascontiguousarray(weights.reshape(self.taps, self.maps), dtype=dtype)
        self.bias = None if bias is None else np.asarray(bias, dtype=dtype)
        self.dtype, self.geometry = dtype, geometry

    def band_rows(self, src_width: int, out_width: int) -> int:
        patch_row = out_width * self.taps * self.dtype.itemsize
        return max(1, cost.current().bank_band_bytes // patch_row)

    def band(self, src: np.ndarray, dst: np.ndarray, scratch: dict[str, np.ndarray]) -> None:
        rows, cols = dst.shape[:2]
        (sr, sc), (dr, dc) = self.geometry.stride, self.geometry.dilation
        src = src.reshape(src.shape[0], src.shape[1], self.channels)
        s0, s1, s2 = src.strides
        windows = np.lib.stride_tricks.as_strided(
            src,
            (rows, cols, self.kh, self.kw, self.channels),
            (s0 * sr, s1 * sc, s0 * dr, s1 * dc, s2),
            writeable=False,
        )
        patches = buffer(scratch, "patches", (rows * cols, self.taps), self.dtype)
        np.copyto(patches.reshape(windows.shape), windows)
        into = dst.reshape(rows * cols, self.maps)
        np.matmul(patches, self.matrix, out=into)
        if self.bias is not None:
            into += self.bias


def to_hwio(weights: np.ndarray, layout: str) -> np.ndarray:
    """A bank as ``(kh, kw, C_in, C_out)`` from ``hwio`` or PyTorch's ``oihw``."""
    check_choice("layout", layout, LAYOUTS)
    return weights if layout == "hwio" else weights.transpose(2, 3, 1, 0)


def conv2d(
    image: ArrayLike,
    weights: ArrayLike,
    *,
    bias: ArrayLike | None = None,
    stride: int | tuple[int, int] = 1,
    dilation: int | tuple[int, int] = 1,
    padding: str = "valid",
    border: str = "zero",
    layout: str = "hwio",
    dtype: type | np.dtype | None = None,
    threads: int | None = None,
) -> np.ndarray:
    """A Conv2D layer's output: every map of a filter bank, as ``tf.nn.conv2d`` + bias.

    Parameters
    ----------
    image : (H, W) or (H, W, C_in) array_like
        Pixels, any real dtype; 2-D is one channel.
    weights : 4-D array_like
        ``(kh, kw, C_in, C_out)`` for ``layout="hwio"`` (Keras, TensorFlow) or
        ``(C_out, C_in, kh, kw)`` for ``"oihw"`` (PyTorch). Finite.
    bias : (C_out,) array_like, optional
        Added to each map.
    stride, dilation, padding, border
        As :func:`convcli.engine.convolve` (TensorFlow's output sizes and pads).
    dtype : {None, float32, float64}
        The working and result precision. Default: ``float32`` for a
        ``float32`` image, else ``float64``. ``float32`` on an 8-bit image
        halves the result's memory (64 maps of a 4000x3000 photo: 2.9 GiB
        instead of 5.9) and converts the pixels band by band, never whole.
    threads : int, optional
        Band threads, as :func:`convolve`.

    Returns
    -------
    ndarray
        ``(H', W', C_out)`` in ``dtype``. Each map differs from the tutorial's loop (summed over
        channels) by at most ``4 · n · ε · Σ|w| · max|x|`` with ``n = kh·kw·C_in``:
        the same products in another order.

    >>> image = np.arange(16.0).reshape(4, 4)
    >>> bank = np.stack([np.ones((2, 2)), -np.eye(2)], axis=-1)[:, :, None, :]
    >>> conv2d(image, bank, bias=[0.5, 0], stride=2)[..., 0]
    array([[10.5, 18.5],
           [42.5, 50.5]])
    """
    pixels, bank, offsets = _validate(image, weights, bias, layout, padding, border, threads)
    if dtype is None:
        dtype = np.float32 if pixels.dtype == np.float32 else np.float64
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32, float64 or None; got {dtype}")
    geometry = Geometry(bank.shape[:2], padding, stride, dilation)
    oh, ow = geometry.checked_output_shape(pixels.shape)
    out = np.empty((oh, ow, bank.shape[3]), dtype=dtype)
    reader = PaddedReader(pixels, geometry.pads(pixels.shape), border, dtype)
    plan = Bank(bank, dtype, geometry, offsets)
    run_bands(reader, plan, geometry, out.shape, ArraySink(out), threads, dtype)
    return out


def _validate(
    image: ArrayLike,
    weights: ArrayLike,
    bias: ArrayLike | None,
    layout: str,
    padding: str,
    border: str,
    threads: int | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    check_choice("padding", padding, PADDINGS)
    check_choice("border", border, BORDERS)
    if threads is not None and (not isinstance(threads, int) or threads < 1):
        raise ValueError(f"threads must be a positive integer or None; got {threads!r}")
    pixels = np.asarray(image)
    bank = np.asarray(weights)
    if pixels.ndim not in (2, 3):
        raise ValueError(f"image must be (H, W) or (H, W, C), got shape {pixels.shape}")
    if bank.ndim != 4:
        axes = "kh, kw, C_in, C_out" if layout == "hwio" else "C_out, C_in, kh, kw"
        raise ValueError(
            f"weights must be 4-D ({axes} for layout={layout!r}), got shape {bank.shape}"
        )
    for name, array in (("image", pixels), ("weights", bank)):
        if array.size == 0:
            raise ValueError(f"{name} must not be empty, got shape {array.shape}")
        if array.dtype.kind not in "biuf":
            raise ValueError(f"{name} must hold real numbers, got dtype {array.dtype}")
    bank = to_hwio(bank.astype(np.float64), layout)
    if not np.isfinite(bank).all():
        raise ValueError("weights must be finite (no NaN or infinity)")
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    if bank.shape[2] != channels:
        raise ValueError(
            f"weights have {bank.shape[2]} input channels (shape {np.shape(weights)}, "
            f"layout={layout!r}) but the image has {channels}"
        )
    if pixels.dtype.kind == "b":
        pixels = pixels.astype(np.uint8)
    offsets = None
    if bias is not None:
        offsets = np.asarray(bias, dtype=np.float64).reshape(-1)
        if offsets.shape != (bank.shape[3],):
            raise ValueError(
                f"bias must have one value per map ({bank.shape[3]}), got shape {np.shape(bias)}"
            )
        if not np.isfinite(offsets).all():
            raise ValueError("bias must be finite (no NaN or infinity)")
    return pixels, bank, offsets
