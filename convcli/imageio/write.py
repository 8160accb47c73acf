"""The encoders: the only place where results are rounded, clipped and cast.

Values arrive on the 0..255 scale, as floats or ``uint8``; they leave as
8-bit or 16-bit samples (or unrounded, in ``.npy``) through the atomic writer.
Which format and depth a target may have is :mod:`.formats`' decision, and
whether it may be written at all :mod:`.targets`'.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from PIL import Image

from .atomic import write_atomically
from .formats import OUTPUT_FORMATS, output_format
from .targets import check_destination

__all__ = ["DEFAULT_QUALITY", "encode", "encoder", "png_settings", "save_image", "save_sheet",
           "to_uint8"]  # fmt: skip

# Lossless everywhere but JPEG; TIFF deflate-compressed (as zlib in PNG), not raw.
_SAVE_PARAMS: dict[str, dict[str, Any]] = {
    "WEBP": {"lossless": True, "exact": True},
    "TIFF": {"compression": "tiff_adobe_deflate"},
}
_KEEPS_DPI = ("PNG", "TIFF", "JPEG")  # WebP stores no resolution
DEFAULT_QUALITY = 90  # JPEG, as ImageMagick's default for most inputs


def to_uint8(values: np.ndarray) -> np.ndarray:
    """Round to nearest (half to even), clip to 0..255, cast: the writer's policy.

    Works through blocks of rows of about 4 MiB, so the only full-size
    allocation is the ``uint8`` result (not two float temporaries).

    >>> to_uint8(np.array([-3.0, 2.5, 3.5, 300.0]))
    array([  0,   2,   4, 255], dtype=uint8)
    """
    values = np.asarray(values)
    if values.ndim == 0 or values.size == 0:
        return np.clip(np.rint(values), 0, 255).astype(np.uint8)
    out = np.empty(values.shape, dtype=np.uint8)
    row_bytes = max(1, values[0].size * values.itemsize)
    step = max(1, (4 << 20) // row_bytes)
    for start in range(0, values.shape[0], step):
        block = np.rint(values[start : start + step])
        np.clip(block, 0, 255, out=block)
        out[start : start + step] = block
    return out


def save_image(
    array: np.ndarray,
    path: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    depth: int = 8,
    compression: int | None = None,
    quality: int = DEFAULT_QUALITY,
    icc_profile: bytes | None = None,
    dpi: tuple[float, float] | None = None,
) -> Path:
    """Write ``array`` atomically, in the format the extension names.

    ``.png`` (or no extension), ``.tif``/``.tiff`` and ``.webp`` (lossless):
    values on the 0..255 scale are rounded and clipped (the tutorial's
    ``negative_to_zero``, plus the top end) to 8 bits, or with ``depth=16``
    multiplied by 257 and rounded to 16 bits (grayscale PNG/TIFF only). A
    2-D array is written gray, ``(H, W, 3)`` RGB, ``(H, W, 4)`` RGBA.
    ``.npy``: the array itself, unrounded (``allow_pickle=False``); it also
    holds feature maps, ``(H, W, maps)`` for any number of maps. ``.jpg``/
    ``.jpeg``: JPEG at ``quality`` (1-100, Pillow's encoder; lossy), gray or
    RGB, RGBA flattened over white (JPEG has no transparency). TIFF is
    deflate-compressed (lossless). ``icc_profile`` goes into PNG, TIFF, WebP
    and JPEG, ``dpi`` into PNG, TIFF and JPEG.

    An unknown extension, a depth the format cannot hold, a missing folder
    or an existing target without ``overwrite`` is an :class:`OutputError`;
    a malformed array or ``compression`` is a ``ValueError``. The write is
    atomic (see :mod:`.atomic`).

    ``compression`` is the PNG's zlib level, 0 (none, fastest) to 9
    (smallest, slowest), with zlib's default strategy. The default, None,
    uses zlib's run-length strategy (``Z_RLE``): on filtered photos it writes
    files within 0.1% of Pillow's default (level 6) size in about two thirds
    of the time (PNG encoding is most of a batch run's time; see README
    "Performance").
    """
    target = Path(path)
    array = np.asarray(array)
    maps = OUTPUT_FORMATS.get(target.suffix.lower()) == "NPY" and array.ndim == 3
    if array.size == 0 or not (
        array.ndim == 2 or maps or (array.ndim == 3 and array.shape[2] in (3, 4))
    ):
        raise ValueError(
            f"array must be a non-empty (H, W), (H, W, 3) or (H, W, 4) array, "
            f"got shape {array.shape}"
        )
    fmt = output_format(target, depth=depth, color=array.ndim == 3)
    write = encoder(
        array, fmt, depth=depth, compression=compression, quality=quality,
        icc_profile=icc_profile, dpi=dpi,
    )  # fmt: skip
    check_destination(target, overwrite=overwrite)
    write_atomically(target, write, overwrite=overwrite)
    return target


def encode(array: np.ndarray, fmt: str, **settings: Any) -> bytes:
    """The bytes :func:`save_image` would write, in memory (for stdout, ``-``)."""
    buffer = io.BytesIO()
    encoder(np.asarray(array), fmt, **settings)(buffer)
    return buffer.getvalue()


def encoder(
    array: np.ndarray,
    fmt: str,
    *,
    depth: int = 8,
    compression: int | None = None,
    quality: int = DEFAULT_QUALITY,
    icc_profile: bytes | None = None,
    dpi: tuple[float, float] | None = None,
) -> Callable[[BinaryIO], None]:
    """A function writing ``array`` to a binary handle as ``fmt`` (see :func:`save_image`)."""
    if compression is not None and compression not in range(10):
        raise ValueError(f"compression must be an integer 0..9 or None, got {compression!r}")
    if not 1 <= quality <= 100:
        raise ValueError(f"quality must be 1..100, got {quality!r}")
    if fmt == "NPY":

        def write_npy(handle: BinaryIO) -> None:
            np.save(handle, array, allow_pickle=False)

        return write_npy
    if depth == 16:
        samples = np.clip(np.rint(array * 257.0), 0, 65535).astype(np.uint16)
    else:
        samples = array if array.dtype == np.uint8 else to_uint8(array)
    if fmt == "JPEG" and samples.ndim == 3 and samples.shape[2] == 4:
        alpha = samples[..., 3:].astype(np.float32) / 255.0  # over white, as a viewer shows it
        samples = to_uint8(samples[..., :3] * alpha + 255.0 * (1.0 - alpha))
    image = Image.fromarray(samples)
    params = dict(png_settings(compression) if fmt == "PNG" else _SAVE_PARAMS.get(fmt, {}))
    if fmt == "JPEG":
        params["quality"] = quality
    if icc_profile and samples.ndim == 3:  # an RGB profile describes colour output only
        params["icc_profile"] = icc_profile
    if dpi and fmt in _KEEPS_DPI:
        params["dpi"] = dpi

    def write(handle: BinaryIO) -> None:
        image.save(handle, format=fmt, **params)

    return write


def png_settings(compression: int | None = None) -> dict[str, int]:
    """Pillow's PNG ``save`` keywords for a ``--png-compression`` value.

    Pillow passes ``compress_type`` to zlib as the deflate strategy.
    """
    if compression is None:
        return {"compress_level": 6, "compress_type": Image.RLE}
    return {"compress_level": compression}


def save_sheet(array: np.ndarray, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Write an ``(H, W, 3)`` uint8 picture (a compare image, a gallery) as an RGB PNG.

    The same atomic write and the same refusals as :func:`save_image`.
    """
    target = Path(path)
    array = np.asarray(array)
    if array.ndim != 3 or array.shape[2] != 3 or array.dtype != np.uint8:
        raise ValueError(f"array must be (H, W, 3) uint8, got {array.shape} {array.dtype}")
    check_destination(target, overwrite=overwrite)
    image = Image.fromarray(array)

    def write(handle: BinaryIO) -> None:
        image.save(handle, format="PNG")

    write_atomically(target, write, overwrite=overwrite)
    return target
