"""Reading an image file safely, as the tutorial does: open, orient, gray, resize.

A file is checked in a safe order before Pillow decodes a single pixel
(regular file, size, allowed format, pixel count); every Pillow warning is
caught as data and every Pillow failure becomes an :class:`ImageReadError`.
Then the EXIF orientation is applied and :mod:`.modes` gives the mode asked
for, before the tutorial's ``resize``.
"""

from __future__ import annotations

import errno
import io
import logging
import os
import re
import stat
import warnings as pywarnings
import zlib
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from PIL import Image, UnidentifiedImageError

from ..errors import ImageReadError
from ..limits import IMAGE_FORMATS, MAX_INPUT_BYTES, MAX_PIXELS
from .modes import WHITE, convert
from .sizes import Resize

__all__ = ["load_image", "read_bytes"]

# Pillow logs some refusals (e.g. a TIFF's absurd SamplesPerPixel) with
# logging.error before raising; with no handler configured, Python would print
# them on stderr beside our own one-line error. A NullHandler keeps them out of
# stderr without hiding them from an application that configures logging.
logging.getLogger("PIL").addHandler(logging.NullHandler())

_ORIENTATION = 0x0112
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_FORMAT_NAMES = "PNG, JPEG, GIF, BMP, TIFF, WebP or PPM"


def load_image(
    path: str | os.PathLike[str],
    size: tuple[int, int] | Resize | None = None,
    *,
    max_pixels: int = MAX_PIXELS,
    background: tuple[int, int, int] = WHITE,
    max_bytes: int = MAX_INPUT_BYTES,
    notes: list[str] | None = None,
    color: bool = False,
    wide: bool = False,
    meta: dict[str, Any] | None = None,
    data: bytes | None = None,
) -> np.ndarray:
    """Read an image file as a 2-D ``uint8`` grayscale array, or raise ``ImageReadError``.

    The file is checked before Pillow decodes it: it must be a regular file
    (FIFOs, devices, folders and broken or looping symlinks are refused
    without being opened), at most ``max_bytes`` long, in one of the allowed
    formats (PNG, JPEG, GIF, BMP, TIFF, WebP, PPM: never EPS/PS), and its
    header may declare at most ``max_pixels`` pixels. Truncated or corrupt
    data is an error, never padded. A file with several frames gives its
    first, with a warning.

    Then the EXIF orientation is applied (an unreadable tag is ignored, with
    a warning) and every mode becomes grayscale on purpose: RGB, L and CMYK
    exactly as ``ImageOps.grayscale``; alpha and palette transparency
    flattened over ``background`` (hidden colours never show); 16-bit (and
    32-bit ``I``) values divided by 257 instead of clipped; float (``F``)
    values rounded and clipped, with a warning when out of 0..255, and NaN or
    infinity an error. Then, with ``size=(width, height)``, Pillow's default
    resampling, as the tutorial's ``img.resize((224, 224))``.

    Warnings (one line each, without the path) are appended to ``notes``
    when a list is given; nothing is printed.

    With ``color``: an ``(H, W, 3)`` RGB or, when the image has transparency,
    ``(H, W, 4)`` RGBA ``uint8`` array instead, alpha kept as it is (see
    :func:`.modes.convert`). With ``wide``: 16-bit (and ``I``) images keep their
    precision as ``float64`` values ``v / 257`` (still on the 0..255 scale)
    instead of being rounded to 8 bits.

    ``meta``, when a dict is given, receives what a colour-managed output
    carries over: ``icc_profile`` (bytes) and ``dpi`` (x, y), where the file
    has them.

    ``data``: the image's bytes, already read (stdin, ``-``); ``path`` then
    only names it in messages. The same limits apply, the size included.
    """
    path = Path(path)
    found: list[str] = [] if notes is None else notes
    _check_size(size, max_pixels, path)
    if data is not None:
        if not data:
            raise ImageReadError("empty input (0 bytes)", path)
        if len(data) > max_bytes:
            raise ImageReadError(f"larger than {max_bytes:,} bytes", path)
        handle_source: Any = io.BytesIO(data)
    else:
        handle_source = os.fdopen(_open_regular(path, _check_file(path, max_bytes)), "rb")
    try:
        with handle_source as handle:
            gray = _decode(
                handle, path, max_pixels, background, found, color=color, wide=wide, meta=meta
            )
    except ImageReadError:
        raise
    except OSError as exc:  # closing failed: the read is not trustworthy
        raise ImageReadError(f"cannot read: {exc.strerror or exc}", path) from exc
    if isinstance(size, Resize):  # 224x, x224, 50%: from the image's own size
        size = size.resolve(gray.size)
        _check_size(size, max_pixels, path)
    if size is not None and size != gray.size:
        gray = gray.resize(size)
    return np.asarray(gray, dtype=np.float64) if gray.mode == "F" else np.asarray(gray)


def read_bytes(path: str | os.PathLike[str], *, max_bytes: int = MAX_INPUT_BYTES) -> bytes:
    """A file's bytes, after the checks :func:`load_image` makes before decoding.

    Regular file, not empty, at most ``max_bytes``, opened without blocking
    (a FIFO never hangs the caller); raises :class:`ImageReadError` with
    load_image's own words. For a caller that decodes elsewhere: ``--io
    client`` ships the bytes to a Dask worker.
    """
    path = Path(path)
    fd = _open_regular(path, _check_file(path, max_bytes))
    try:
        with os.fdopen(fd, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise ImageReadError(f"cannot read: {exc.strerror or exc}", path) from exc


def _check_size(size: tuple[int, int] | Resize | None, max_pixels: int, path: Path) -> None:
    if isinstance(size, tuple) and size[0] * size[1] > max_pixels:
        raise ImageReadError(
            f"--size {size[0]}x{size[1]} is {size[0] * size[1]:,} pixels, more than the "
            f"limit of {max_pixels:,} (--max-pixels)",
            path,
        )


def _check_file(path: Path, max_bytes: int) -> os.stat_result:
    """lstat/stat only: nothing here opens, let alone reads, the file."""
    try:
        link = os.lstat(path)
    except FileNotFoundError:
        raise ImageReadError("no such file", path) from None
    except OSError as exc:
        raise ImageReadError(f"cannot read: {exc.strerror or exc}", path) from None
    except ValueError:  # a NUL byte: no file can have this name
        raise ImageReadError("not a valid file name", path) from None
    try:
        info = os.stat(path)
    except OSError as exc:
        if stat.S_ISLNK(link.st_mode) and exc.errno == errno.ELOOP:
            raise ImageReadError("symbolic link loop", path) from None
        if stat.S_ISLNK(link.st_mode) and exc.errno == errno.ENOENT:
            target = os.readlink(path)
            raise ImageReadError(f"broken symbolic link (to {target!r})", path) from None
        raise ImageReadError(f"cannot read: {exc.strerror or exc}", path) from None
    _require_regular(path, info)
    if info.st_size == 0:
        raise ImageReadError("empty file (0 bytes)", path)
    if info.st_size > max_bytes:
        raise ImageReadError(
            f"file is {info.st_size:,} bytes, more than the limit of {max_bytes:,}", path
        )
    return info


def _require_regular(path: Path, info: os.stat_result) -> None:
    mode = info.st_mode
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        raise ImageReadError("is a folder, not an image file", path)
    if stat.S_ISFIFO(mode):
        kind = "a FIFO (named pipe)"
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        kind = "a device"
    elif stat.S_ISSOCK(mode):
        kind = "a socket"
    else:
        kind = "a special file"
    raise ImageReadError(f"is {kind}, not a regular file", path)


def _open_regular(path: Path, checked: os.stat_result) -> int:
    """Open without blocking and make sure it is still the regular file we checked."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    flags |= getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise ImageReadError(f"cannot read: {exc.strerror or exc}", path) from None
    info = os.fstat(fd)
    if (info.st_dev, info.st_ino) != (checked.st_dev, checked.st_ino):
        os.close(fd)
        raise ImageReadError("changed while being opened; try again", path)
    try:
        _require_regular(path, info)
    except ImageReadError:
        os.close(fd)
        raise
    if hasattr(os, "set_blocking"):
        os.set_blocking(fd, True)
    return fd


_BOMB_SIZE = re.compile(r"\((\d+) pixels\)")


def _decode(
    handle: BinaryIO,
    path: Path,
    max_pixels: int,
    background: tuple[int, int, int],
    notes: list[str],
    *,
    color: bool = False,
    wide: bool = False,
    meta: dict[str, Any] | None = None,
) -> Image.Image:
    """Pillow's part, with every warning caught as data and every failure ours."""
    with pywarnings.catch_warnings(record=True) as caught:
        pywarnings.simplefilter("always")
        try:
            with Image.open(handle, formats=IMAGE_FORMATS) as image:
                _check_pixels(image.size, max_pixels, path)
                if image.format == "PNG":
                    _check_png_checksums(handle, path)
                if getattr(image, "is_animated", False):
                    notes.append("has several frames; only the first is used")
                    image.seek(0)
                image.load()
                if meta is not None:
                    _carried(image, meta)
                image = _orient(image, notes)
                gray = convert(image, background, path, notes, color=color, wide=wide)
        except ImageReadError:
            raise
        except UnidentifiedImageError:
            raise ImageReadError(_unidentified(handle), path) from None
        except Image.DecompressionBombError as exc:
            found = _BOMB_SIZE.search(str(exc))
            pixels = f"{int(found.group(1)):,} pixels" if found else "too many pixels"
            raise ImageReadError(
                f"image has {pixels}, more than the limit of {max_pixels:,} (--max-pixels); "
                "possibly a decompression bomb",
                path,
            ) from exc
        except MemoryError as exc:
            raise ImageReadError("not enough memory to decode this image", path) from exc
        except Exception as exc:
            raise ImageReadError(_corrupt(exc), path) from exc
    for caught_warning in caught:
        if issubclass(caught_warning.category, Image.DecompressionBombWarning):
            continue  # our own --max-pixels check has already decided
        lines = str(caught_warning.message).strip().splitlines()
        if lines and lines[0] not in notes:
            notes.append(lines[0])
    return gray


_SIGNATURES = (
    (b"%!PS", "PostScript"),
    (b"\xc5\xd0\xd3\xc6", "PostScript"),  # DOS EPS binary header
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
)


def _unidentified(handle: BinaryIO) -> str:
    """Why Pillow could not identify the file, in the user's terms."""
    try:
        handle.seek(0)
        head = handle.read(16)
    except OSError:
        head = b""
    kind = next((name for magic, name in _SIGNATURES if head.startswith(magic)), None)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        kind = "WebP"
    if kind == "PostScript":
        return "is PostScript (EPS/PS), which convcli never opens: it would run Ghostscript"
    if kind:
        return f"corrupt {kind}: its header does not decode"
    return f"not a supported image ({_FORMAT_NAMES})"


def _check_png_checksums(handle: BinaryIO, path: Path) -> None:
    """Verify every chunk's CRC, as libpng does (Pillow skips those of the image data).

    Stops quietly at IEND or at the end of the file: a truncated file is the
    decoder's to report. Reads in bounded pieces, so memory stays flat.
    """
    position = handle.tell()
    try:
        handle.seek(8)
        while True:
            head = handle.read(8)
            if len(head) < 8:
                return
            length = int.from_bytes(head[:4], "big")
            kind = head[4:]
            crc = zlib.crc32(kind)
            remaining = length
            while remaining:
                piece = handle.read(min(remaining, 1 << 20))
                if not piece:
                    return
                crc = zlib.crc32(piece, crc)
                remaining -= len(piece)
            stored = handle.read(4)
            if len(stored) < 4:
                return
            if int.from_bytes(stored, "big") != crc:
                name = kind.decode("latin-1")
                raise ImageReadError(f"corrupt PNG: bad checksum in its {name!r} chunk", path)
            if kind == b"IEND":
                return
    finally:
        handle.seek(position)


def _check_pixels(size: tuple[int, int], max_pixels: int, path: Path) -> None:
    width, height = size
    if width * height > max_pixels:
        raise ImageReadError(
            f"image is {width}x{height} = {width * height:,} pixels, more than the limit "
            f"of {max_pixels:,} (--max-pixels); possibly a decompression bomb",
            path,
        )
    if width <= 0 or height <= 0:
        raise ImageReadError(f"image has no pixels ({width}x{height})", path)


def _corrupt(exc: BaseException) -> str:
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if "truncated" in detail.lower():
        return f"truncated image data ({detail})"
    return f"corrupt image data ({detail})"


def _carried(image: Image.Image, meta: dict[str, Any]) -> None:
    """The ICC profile and resolution, when present and well-formed."""
    profile = image.info.get("icc_profile")
    if isinstance(profile, bytes) and profile:
        meta["icc_profile"] = profile
    dpi = image.info.get("dpi")
    if isinstance(dpi, tuple) and len(dpi) == 2:
        try:
            x, y = float(dpi[0]), float(dpi[1])
        except (TypeError, ValueError):
            return
        if 0 < x < 1e5 and 0 < y < 1e5:
            meta["dpi"] = (x, y)


def _orient(image: Image.Image, notes: list[str]) -> Image.Image:
    """Apply the EXIF orientation; a missing, invalid or unreadable tag changes nothing."""
    try:
        orientation = image.getexif().get(_ORIENTATION)
    except Exception:
        notes.append("unreadable EXIF data; orientation ignored")
        return image
    method = _TRANSPOSE.get(orientation) if isinstance(orientation, int) else None
    if orientation not in (None, 1) and method is None:
        notes.append(f"invalid EXIF orientation {orientation!r} ignored")
    return image if method is None else image.transpose(method)
