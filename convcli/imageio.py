"""Pillow at the edges: images in as 8-bit grayscale arrays, results out as PNGs.

Loading checks a file in a safe order before Pillow decodes a single pixel
(regular file, size, allowed format, pixel count), then follows the tutorial's
order (``ImageOps.grayscale``, then ``resize``) after applying the EXIF
orientation. Saving is the only place where results are rounded, clipped and
cast, and it never leaves a partial file behind: it writes a temporary file
beside the target and renames it.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import stat
import warnings as pywarnings
import zlib
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageColor, ImageOps, UnidentifiedImageError

from .errors import ImageReadError, OutputError
from .limits import IMAGE_FORMATS, MAX_INPUT_BYTES, MAX_PIXELS, temporary_stem

__all__ = [
    "WHITE",
    "load_image",
    "parse_background",
    "png_settings",
    "save_image",
    "save_sheet",
    "to_uint8",
]

# Pillow logs some refusals (e.g. a TIFF's absurd SamplesPerPixel) with
# logging.error before raising; with no handler configured, Python would print
# them on stderr beside our own one-line error. A NullHandler keeps them out of
# stderr without hiding them from an application that configures logging.
logging.getLogger("PIL").addHandler(logging.NullHandler())

WHITE = (255, 255, 255)  # the default background transparency is flattened over

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


def parse_background(value: str | int | tuple[int, int, int]) -> tuple[int, int, int]:
    """A ``--background``: a gray level ``0``..``255`` or a colour Pillow knows.

    >>> parse_background("128"), parse_background("white"), parse_background("#f00")
    ((128, 128, 128), (255, 255, 255), (255, 0, 0))

    Raises ``ValueError`` with a message a user can act on.
    """
    if isinstance(value, tuple):
        rgb = tuple(int(v) for v in value[:3])
    elif isinstance(value, int) or str(value).strip().isdecimal():
        text = str(value).strip()
        if not text.isascii() or not 0 <= int(text) <= 255:
            raise ValueError(f"{value!r}: a gray level must be between 0 and 255")
        rgb = (int(text),) * 3
    else:
        try:
            colour = ImageColor.getrgb(str(value).strip())
        except ValueError:
            raise ValueError(
                f"{value!r} is not a gray level (0-255) or a colour name such as "
                "white, black, gray or #808080"
            ) from None
        rgb = tuple(colour[:3])
    if len(rgb) != 3 or not all(0 <= v <= 255 for v in rgb):
        raise ValueError(f"{value!r}: colour values must be between 0 and 255")
    return rgb  # type: ignore[return-value]


def load_image(
    path: str | os.PathLike[str],
    size: tuple[int, int] | None = None,
    *,
    max_pixels: int = MAX_PIXELS,
    background: tuple[int, int, int] = WHITE,
    max_bytes: int = MAX_INPUT_BYTES,
    warnings: list[str] | None = None,
    color: bool = False,
    wide: bool = False,
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

    Warnings (one line each, without the path) are appended to ``warnings``
    when a list is given; nothing is printed.

    With ``color``: an ``(H, W, 3)`` RGB or, when the image has transparency,
    ``(H, W, 4)`` RGBA ``uint8`` array instead, alpha kept as it is (see
    :func:`_convert`). With ``wide``: 16-bit (and ``I``) images keep their
    precision as ``float64`` values ``v / 257`` (still on the 0..255 scale)
    instead of being rounded to 8 bits.
    """
    path = Path(path)
    notes: list[str] = [] if warnings is None else warnings
    if size is not None and size[0] * size[1] > max_pixels:
        raise ImageReadError(
            f"--size {size[0]}x{size[1]} is {size[0] * size[1]:,} pixels, more than the "
            f"limit of {max_pixels:,} (--max-pixels)",
            path,
        )
    info = _check_file(path, max_bytes)
    fd = _open_regular(path, info)
    try:
        with os.fdopen(fd, "rb") as handle:
            gray = _decode(handle, path, max_pixels, background, notes, color=color, wide=wide)
    except ImageReadError:
        raise
    except OSError as exc:  # closing failed: the read is not trustworthy
        raise ImageReadError(f"cannot read: {exc.strerror or exc}", path) from exc
    if size is not None and size != gray.size:
        gray = gray.resize(size)
    return np.asarray(gray, dtype=np.float64) if gray.mode == "F" else np.asarray(gray)


def _convert(
    image: Image.Image,
    background: tuple[int, int, int],
    path: Path,
    notes: list[str],
    *,
    color: bool,
    wide: bool,
) -> Image.Image:
    """The mode the pipeline asked for (gray ``L`` unless ``color`` or ``wide`` say otherwise).

    ``color``: RGB, or RGBA when the image has alpha or palette transparency
    (alpha is kept, not flattened; Pillow premultiplies it while resizing).
    16-bit and float images have no 16-bit colour mode in Pillow, so they
    become gray first (divided by 257), then RGB. ``wide``: a 16-bit or ``I``
    image becomes float ``F`` on the 0..255 scale, unrounded.
    """
    mode = image.mode
    if color:
        if mode.startswith("I") or mode == "F":
            return _to_gray(image, background, path, notes).convert("RGB")
        alpha = mode in ("LA", "La", "PA", "RGBA", "RGBa") or "transparency" in image.info
        return image.convert("RGBA" if alpha else "RGB")
    if wide and (mode.startswith("I;16") or mode == "I"):
        values = np.asarray(image).astype(np.float64)
        if mode == "I" and (values.min() < 0 or values.max() > 65535):
            notes.append("32-bit pixel values outside 0..65535 clipped")
        values = np.clip(values, 0, 65535) / 257
        return Image.fromarray(values.astype(np.float32), mode="F")
    return _to_gray(image, background, path, notes)


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
    handle,
    path: Path,
    max_pixels: int,
    background: tuple[int, int, int],
    notes: list[str],
    *,
    color: bool = False,
    wide: bool = False,
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
                image = _orient(image, notes)
                gray = _convert(image, background, path, notes, color=color, wide=wide)
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


def _unidentified(handle) -> str:
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


def _check_png_checksums(handle, path: Path) -> None:
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


def _to_gray(
    image: Image.Image, background: tuple[int, int, int], path: Path, notes: list[str]
) -> Image.Image:
    """One 8-bit ``L`` image, whatever the mode, without surprises."""
    mode = image.mode
    if mode in ("La", "RGBa"):  # premultiplied: undo it first
        image = image.convert(mode[:-1] + "A")
    elif (mode in ("1", "L", "P", "RGB") and "transparency" in image.info) or mode == "PA":
        image = image.convert("RGBA")
    mode = image.mode
    if mode in ("LA", "RGBA"):
        return _flatten(image, background)
    if mode.startswith("I;16") or mode == "I":
        # float32 is exact here: v/257 is never within 0.0019 of a half-integer,
        # far more than float32's error on 0..255; half the memory of float64.
        wide = np.asarray(image).astype(np.float32)
        if mode == "I" and (wide.min() < 0 or wide.max() > 65535):
            notes.append("32-bit pixel values outside 0..65535 clipped")
            np.clip(wide, 0, 65535, out=wide)
        wide /= 257
        return Image.fromarray(to_uint8(wide), mode="L")
    if mode == "F":
        return Image.fromarray(_float_to_uint8(np.asarray(image), path, notes), mode="L")
    if mode == "LAB":
        return image.getchannel("L")  # lightness is the gray level
    if mode == "HSV":
        image = image.convert("RGB")
    return ImageOps.grayscale(image)


def _flatten(image: Image.Image, background: tuple[int, int, int]) -> Image.Image:
    """Composite over ``background``: ``(gray·a + bg·(255-a)) / 255``, rounded."""
    alpha = np.asarray(image.getchannel("A")).astype(np.uint16)
    gray = np.asarray(ImageOps.grayscale(image)).astype(np.uint16)  # ignores alpha
    backdrop = Image.new("RGB", (1, 1), background).convert("L").getpixel((0, 0))
    gray *= alpha
    alpha ^= 255  # 255 - alpha, in place
    alpha *= int(backdrop)  # type: ignore[arg-type]
    gray += alpha
    gray += 127
    gray //= 255
    return Image.fromarray(gray.astype(np.uint8), mode="L")


def _float_to_uint8(values: np.ndarray, path: Path, notes: list[str]) -> np.ndarray:
    if not np.isfinite(values).all():
        raise ImageReadError("image has NaN or infinite pixel values", path)
    low, high = float(values.min()), float(values.max())
    if low < 0 or high > 255:
        notes.append(f"float pixel values from {low:g} to {high:g} clipped to 0..255")
    return to_uint8(values)


def to_uint8(values: np.ndarray) -> np.ndarray:
    """Round to nearest (half to even), clip to 0..255, cast: the writer's policy.

    Works through blocks of rows of about 4 MiB, so the only full-size
    allocation is the ``uint8`` result (not two float temporaries).
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
) -> Path:
    """Write ``array`` atomically, in the format the extension names.

    ``.png`` (or no extension), ``.tif``/``.tiff`` and ``.webp`` (lossless):
    values on the 0..255 scale are rounded and clipped (the tutorial's
    ``negative_to_zero``, plus the top end) to 8 bits, or with ``depth=16``
    multiplied by 257 and rounded to 16 bits (grayscale PNG/TIFF only). A
    2-D array is written gray, ``(H, W, 3)`` RGB, ``(H, W, 4)`` RGBA.
    ``.npy``: the array itself, unrounded (``allow_pickle=False``).

    The file goes to a temporary file created with ``O_EXCL`` in the target's
    folder (ordinary permissions, as ``open()`` gives), is flushed to disk and
    renamed into place, so a crash, a full disk or Ctrl-C never leaves a
    partial file and never harms an existing one; an existing target is kept
    unless ``overwrite``.

    ``compression`` is the PNG's zlib level, 0 (none, fastest) to 9
    (smallest, slowest), with zlib's default strategy. The default, None,
    uses zlib's run-length strategy (``Z_RLE``): on filtered photos it writes
    files within 0.1% of Pillow's default (level 6) size in about two thirds
    of the time (PNG encoding is most of a batch run's time; see README
    "Performance").
    """
    from .pipeline import OUTPUT_FORMATS

    target = Path(path)
    array = np.asarray(array)
    fmt = OUTPUT_FORMATS.get(target.suffix.lower())
    maps = fmt == "NPY" and array.ndim == 3  # a .npy also holds feature maps (H, W, maps)
    if array.size == 0 or not (
        array.ndim == 2 or maps or (array.ndim == 3 and array.shape[2] in (3, 4))
    ):
        raise ValueError(
            f"array must be a non-empty (H, W), (H, W, 3) or (H, W, 4) array, "
            f"got shape {array.shape}"
        )
    if fmt is None:
        raise OutputError(f"unknown output format {target.suffix!r}", target)
    if depth not in (8, 16) or (
        depth == 16 and fmt != "NPY" and (fmt == "WEBP" or array.ndim == 3)
    ):
        raise ValueError(f"depth {depth} is not available for {array.ndim}-D {fmt} output")
    if compression is not None and compression not in range(10):
        raise ValueError(f"compression must be an integer 0..9 or None, got {compression!r}")
    if not target.parent.is_dir():
        raise OutputError(f"folder {str(target.parent)!r} does not exist", target)
    if (target.exists() or target.is_symlink()) and not overwrite:
        raise OutputError("already exists (use --overwrite to replace it)", target)
    if fmt == "NPY":
        image: Any = _NpyFile(array)
    elif depth == 16:
        image = Image.fromarray(np.clip(np.rint(array * 257.0), 0, 65535).astype(np.uint16))
    else:
        image = Image.fromarray(array if array.dtype == np.uint8 else to_uint8(array))
    params = png_settings(compression) if fmt == "PNG" else None
    _atomic_write(image, target, overwrite=overwrite, fmt=fmt, params=params)
    return target


def png_settings(compression: int | None = None) -> dict[str, int]:
    """Pillow's PNG ``save`` keywords for a ``--png-compression`` value.

    Pillow passes ``compress_type`` to zlib as the deflate strategy.
    """
    if compression is None:
        return {"compress_level": 6, "compress_type": Image.RLE}
    return {"compress_level": compression}


class _NpyFile:
    """An array that saves itself like a Pillow image, for the atomic writer."""

    def __init__(self, array: np.ndarray) -> None:
        self.array = array

    def save(self, handle: Any, format: str, **params: Any) -> None:
        np.save(handle, self.array, allow_pickle=False)


_SAVE_PARAMS: dict[str, dict[str, Any]] = {"WEBP": {"lossless": True, "exact": True}}


def save_sheet(array: np.ndarray, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Write an ``(H, W, 3)`` uint8 picture (a compare image, a gallery) as an RGB PNG.

    The same atomic write and the same refusals as :func:`save_image`.
    """
    target = Path(path)
    array = np.asarray(array)
    if array.ndim != 3 or array.shape[2] != 3 or array.dtype != np.uint8:
        raise ValueError(f"array must be (H, W, 3) uint8, got {array.shape} {array.dtype}")
    if not target.parent.is_dir():
        raise OutputError(f"folder {str(target.parent)!r} does not exist", target)
    if (target.exists() or target.is_symlink()) and not overwrite:
        raise OutputError("already exists (use --overwrite to replace it)", target)
    _atomic_write(Image.fromarray(array), target, overwrite=overwrite)
    return target


def _create_temp(target: Path) -> tuple[int, Path]:
    """A new, empty file beside ``target``: ``O_EXCL``, mode ``0o666 & ~umask``."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    flags |= getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    stem = temporary_stem(target.name)  # a long name must not exceed NAME_MAX
    for _ in range(100):
        tmp = target.with_name(f".{stem}.{_random_suffix()}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary file name", str(target.parent))


def _atomic_write(
    image: Any,
    target: Path,
    *,
    overwrite: bool,
    fmt: str = "PNG",
    params: dict[str, Any] | None = None,
) -> None:
    try:
        fd, tmp = _create_temp(target)
    except OSError as exc:
        raise OutputError(f"cannot write here: {exc.strerror or exc}", target) from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            image.save(handle, format=fmt, **(params or _SAVE_PARAMS.get(fmt, {})))
            handle.flush()
            os.fsync(handle.fileno())
        _place(tmp, target, overwrite=overwrite)
    except FileExistsError:
        tmp.unlink(missing_ok=True)
        raise OutputError("already exists (use --overwrite to replace it)", target) from None
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write: {exc.strerror or exc}", target) from exc
    except BaseException:  # Ctrl-C, or an encoder bug: never leave the temporary file
        tmp.unlink(missing_ok=True)
        raise
    _sync_folder(target.parent)


def _place(tmp: Path, target: Path, *, overwrite: bool) -> None:
    """Rename ``tmp`` onto ``target``; without ``overwrite`` never clobber it."""
    if overwrite:
        os.replace(tmp, target)
        return
    try:
        os.link(tmp, target)  # atomic, and fails if the target appeared meanwhile
    except FileExistsError:
        raise
    except OSError:  # a filesystem without hard links
        if target.exists() or target.is_symlink():
            raise FileExistsError(target) from None
        os.replace(tmp, target)
    else:
        tmp.unlink()


def _sync_folder(folder: Path) -> None:
    """Best effort: make the rename itself durable (POSIX only; harmless elsewhere)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _random_suffix() -> str:
    """Eight hex digits for a temporary name (``secrets`` costs start-up time)."""
    return os.urandom(4).hex()
