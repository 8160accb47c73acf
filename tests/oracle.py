"""The tutorial's convolution, kept as the definition the engine is checked against.

Written as in "CNN 4 - Convolutions from scratch" (../shared/seed/), only
generalised from square to rectangular images and kernels, and from the
tutorial's black border to numpy.pad's border modes. Slow on purpose.
"""

from __future__ import annotations

import numpy as np


def calculate_target_size(img_size: int, kernel_size: int) -> int:
    num_pixels = 0
    for i in range(img_size):
        added = i + kernel_size
        if added <= img_size:
            num_pixels += 1
    return num_pixels


def get_padding_width_per_side(kernel_size: int) -> int:
    return kernel_size // 2


def add_padding_to_image(img: np.ndarray, padding_width: int) -> np.ndarray:
    img_with_padding = np.zeros(
        shape=(img.shape[0] + padding_width * 2, img.shape[1] + padding_width * 2)
    )
    img_with_padding[padding_width:-padding_width, padding_width:-padding_width] = img
    return img_with_padding


def tutorial_convolve(img: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """The tutorial's double loop, for rectangular images and kernels."""
    tgt_h = calculate_target_size(img.shape[0], kernel.shape[0])
    tgt_w = calculate_target_size(img.shape[1], kernel.shape[1])
    kh, kw = kernel.shape
    convolved_img = np.zeros(shape=(tgt_h, tgt_w))
    for i in range(tgt_h):
        for j in range(tgt_w):
            mat = img[i : i + kh, j : j + kw]
            convolved_img[i, j] = np.sum(np.multiply(mat, kernel))
    return convolved_img


def padded(img: np.ndarray, kernel_shape: tuple[int, int], padding: str, border: str) -> np.ndarray:
    """The image the loop runs over: TensorFlow's split for 'same', k-1 for 'full'."""
    widths = []
    for k in kernel_shape:
        if padding == "valid":
            widths.append((0, 0))
        elif padding == "same":
            widths.append(((k - 1) // 2, k // 2))
        else:
            widths.append((k - 1, k - 1))
    if border == "zero":
        out = np.zeros(
            (img.shape[0] + sum(widths[0]), img.shape[1] + sum(widths[1])), dtype=np.float64
        )
        out[
            widths[0][0] : widths[0][0] + img.shape[0], widths[1][0] : widths[1][0] + img.shape[1]
        ] = img
        return out
    return np.pad(img.astype(np.float64), widths, mode=border)


def reference(
    img: np.ndarray, kernel: np.ndarray, padding: str = "valid", border: str = "zero"
) -> np.ndarray:
    kernel = np.asarray(kernel, dtype=np.float64)
    return tutorial_convolve(padded(np.asarray(img), kernel.shape, padding, border), kernel)


def tolerance(img: np.ndarray, kernel: np.ndarray, dtype: type = np.float64) -> float:
    """Absolute tolerance for comparing a float result with the loop.

    Summing n products in a different order (the engine groups equal weights
    and accumulates shifted views) can differ by about n rounding errors of the
    largest partial sum, bounded by sum|k| * max|x|. We allow 4x that, in the
    engine's working precision: float64 for integer and float64 inputs, float32
    for float32 ones; plus as many subnormal steps, for sums of subnormal products.
    """
    info = np.finfo(dtype)
    n = np.asarray(kernel).size
    bound = float(np.abs(kernel).sum()) * max(float(np.abs(img).max(initial=0)), 1.0)
    # Below the smallest normal number rounding is absolute, not relative.
    return 4 * n * (info.eps * bound + info.smallest_subnormal)
