"""The tutorial's convolution, kept as the definition the engine is checked against.

Written as in "CNN 4 - Convolutions from scratch" (../shared/seed/), only
generalised from square to rectangular images and kernels, and from the
tutorial's black border to numpy.pad's border modes. Slow on purpose.

The second half extends the same loop to the rest of a Conv2D layer, as
TensorFlow defines it (``tf.nn.conv2d``, ``tf.nn.pool``): stride (the loop
steps by ``s``), dilation (the window takes every ``d``-th pixel), input
channels (summed), banks of output maps, bias, ReLU (the tutorial's
``negative_to_zero``) and pooling, where padded cells never win a max and are
not counted in an average. Only the padding amounts come from TensorFlow's
formula; the output size is counted by the loop, as the tutorial does.
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


# --- the rest of a Conv2D layer -------------------------------------------------


def pair(value: int | tuple[int, int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def tf_pads(n: int, span: int, padding: str, stride: int) -> tuple[int, int]:
    """Rows (or columns) added before and after, by TensorFlow's rule.

    ``same``: as many outputs as ``ceil(n / stride)``, padding
    ``max((out - 1) * stride + span - n, 0)`` split with the smaller half before.
    """
    if padding == "valid":
        return (0, 0)
    if padding == "full":
        return (span - 1, span - 1)
    out = -(-n // stride)
    total = max((out - 1) * stride + span - n, 0)
    return (total // 2, total - total // 2)


def count_positions(padded_size: int, span: int, stride: int) -> int:
    """The tutorial's ``calculate_target_size``, stepping by ``stride``."""
    num_pixels = 0
    for i in range(0, padded_size, stride):
        if i + span <= padded_size:
            num_pixels += 1
    return num_pixels


def pad_border(img: np.ndarray, pads: tuple[tuple[int, int], ...], border: str) -> np.ndarray:
    """``img`` (2-D, or 3-D with channels last) padded on its first two axes."""
    widths = [*pads] + [(0, 0)] * (img.ndim - 2)
    img = np.asarray(img, dtype=np.float64)
    if border == "zero":
        return np.pad(img, widths, mode="constant")
    return np.pad(img, widths, mode=border)


def strided_reference(
    img: np.ndarray,
    kernel: np.ndarray,
    padding: str = "valid",
    border: str = "zero",
    stride: int | tuple[int, int] = 1,
    dilation: int | tuple[int, int] = 1,
) -> np.ndarray:
    """The tutorial's loop with a stride and a dilated window: ``out[i, j] =
    sum(padded[i*sr : i*sr + span_r : dr, j*sc : j*sc + span_c : dc] * kernel)``."""
    kernel = np.asarray(kernel, dtype=np.float64)
    (sr, sc), (dr, dc) = pair(stride), pair(dilation)
    kh, kw = kernel.shape
    span_r, span_c = dr * (kh - 1) + 1, dc * (kw - 1) + 1
    pads = (
        tf_pads(img.shape[0], span_r, padding, sr),
        tf_pads(img.shape[1], span_c, padding, sc),
    )
    src = pad_border(np.asarray(img), pads, border)
    tgt_h = count_positions(src.shape[0], span_r, sr)
    tgt_w = count_positions(src.shape[1], span_c, sc)
    convolved_img = np.zeros(shape=(tgt_h, tgt_w))
    for i in range(tgt_h):
        for j in range(tgt_w):
            mat = src[i * sr : i * sr + span_r : dr, j * sc : j * sc + span_c : dc]
            convolved_img[i, j] = np.sum(np.multiply(mat, kernel))
    return convolved_img


def to_hwio(weights: np.ndarray, layout: str = "hwio") -> np.ndarray:
    """A bank as ``(kh, kw, C_in, C_out)``; PyTorch's ``oihw`` is ``(C_out, C_in, kh, kw)``."""
    weights = np.asarray(weights, dtype=np.float64)
    return weights if layout == "hwio" else weights.transpose(2, 3, 1, 0)


def conv2d_reference(
    img: np.ndarray,
    weights: np.ndarray,
    bias: np.ndarray | None = None,
    stride: int | tuple[int, int] = 1,
    dilation: int | tuple[int, int] = 1,
    padding: str = "valid",
    border: str = "zero",
    layout: str = "hwio",
) -> np.ndarray:
    """A Conv2D layer, one map at a time: each map the sum over input channels
    of the strided loop, plus its bias. ``(H', W', C_out)``."""
    img = np.asarray(img, dtype=np.float64)
    if img.ndim == 2:
        img = img[:, :, None]
    bank = to_hwio(weights, layout)
    maps = []
    for o in range(bank.shape[3]):
        total = sum(
            strided_reference(img[:, :, c], bank[:, :, c, o], padding, border, stride, dilation)
            for c in range(bank.shape[2])
        )
        if bias is not None:
            total = total + float(np.asarray(bias, dtype=np.float64)[o])
        maps.append(total)
    return np.stack(maps, axis=-1)


def negative_to_zero(img: np.ndarray) -> np.ndarray:
    """The tutorial's ReLU."""
    img = img.copy()
    img[img < 0] = 0
    return img


def pool_reference(
    img: np.ndarray,
    kind: str,
    size: int | tuple[int, int] = 2,
    stride: int | tuple[int, int] | None = None,
    padding: str = "valid",
) -> np.ndarray:
    """Max or average pooling as TensorFlow's ``MaxPool2D``/``AveragePooling2D``.

    The window visits the image at steps of ``stride`` (default: ``size``);
    with ``same`` it may hang over the edge, and only the image's own cells
    count: a max of those, or their sum divided by how many there are.
    """
    img = np.asarray(img, dtype=np.float64)
    if img.ndim == 3:
        return np.stack(
            [
                pool_reference(img[:, :, c], kind, size, stride, padding)
                for c in range(img.shape[2])
            ],
            axis=-1,
        )
    kh, kw = pair(size)
    sr, sc = pair(size if stride is None else stride)
    pads_r = tf_pads(img.shape[0], kh, padding, sr)
    pads_c = tf_pads(img.shape[1], kw, padding, sc)
    top, left = pads_r[0], pads_c[0]
    tgt_h = count_positions(img.shape[0] + sum(pads_r), kh, sr)
    tgt_w = count_positions(img.shape[1] + sum(pads_c), kw, sc)
    out = np.zeros((tgt_h, tgt_w))
    for i in range(tgt_h):
        for j in range(tgt_w):
            r0, c0 = i * sr - top, j * sc - left
            window = img[max(r0, 0) : r0 + kh, max(c0, 0) : c0 + kw]
            out[i, j] = window.max() if kind == "max" else window.sum() / window.size
    return out


def bank_tolerance(
    img: np.ndarray, weights: np.ndarray, dtype: type = np.float64, layout: str = "hwio"
) -> float:
    """:func:`tolerance` for a bank: each map sums ``kh*kw*C_in`` products, so the
    bound is that of the map with the largest ``sum|w|`` (the same rounding argument)."""
    bank = to_hwio(weights, layout)
    per_map = np.abs(bank).reshape(-1, bank.shape[3]).sum(axis=0)
    info = np.finfo(dtype)
    n = bank.size // bank.shape[3]
    bound = float(per_map.max()) * max(float(np.abs(img).max(initial=0)), 1.0)
    return 4 * n * (info.eps * bound + info.smallest_subnormal)
