"""Pillow at the edges: images in as 8-bit grayscale arrays, results out as PNGs.

Loading follows the tutorial's order (``ImageOps.grayscale``, then
``resize``) after applying the EXIF orientation. Saving is the only place
where results are rounded, clipped and cast, and it never leaves a partial
file behind: it writes a temporary file beside the target and renames it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import ImageReadError, OutputError

__all__ = ["load_image", "save_image", "save_sheet", "to_uint8"]

_BACKGROUND = 255  # transparency is flattened over white


def load_image(path: str | os.PathLike[str], size: tuple[int, int] | None = None) -> np.ndarray:
    """Read any image Pillow opens as a 2-D ``uint8`` grayscale array.

    EXIF orientation first; then grayscale: RGB, L and CMYK exactly as
    ``ImageOps.grayscale``; transparent pixels flattened over white (their
    hidden colour never shows); 16-bit (and 32-bit ``I``) values divided by
    257 instead of clipped; float (``F``) values rounded and clipped. Then,
    with ``size=(width, height)``, Pillow's default resampling, as the tutorial's
    ``img.resize((224, 224))``.
    """
    path = Path(path)
    if not path.exists():
        raise ImageReadError("no such file", path)
    if not path.is_file():
        raise ImageReadError("not a regular file", path)
    try:
        with Image.open(path) as image:
            gray = _to_gray(ImageOps.exif_transpose(image))
    except UnidentifiedImageError:
        raise ImageReadError("not an image Pillow can read", path) from None
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ImageReadError(f"cannot decode image: {exc}", path) from None
    if size is not None and size != gray.size:
        gray = gray.resize(size)
    return np.asarray(gray)


def _to_gray(image: Image.Image) -> Image.Image:
    """One 8-bit ``L`` image, whatever the mode, without surprises."""
    mode = image.mode
    if mode == "P" and "transparency" in image.info:
        image, mode = image.convert("RGBA"), "RGBA"
    if mode in ("LA", "La", "PA", "RGBA", "RGBa"):
        rgba = image.convert("RGBA")
        backdrop = Image.new("RGBA", rgba.size, (_BACKGROUND,) * 3 + (255,))
        return ImageOps.grayscale(Image.alpha_composite(backdrop, rgba).convert("RGB"))
    if mode.startswith("I;16") or mode == "I":
        wide = np.asarray(image).astype(np.float64)
        return Image.fromarray(to_uint8(np.clip(wide, 0, 65535) / 257), mode="L")
    if mode == "F":
        return Image.fromarray(to_uint8(np.asarray(image)), mode="L")
    return ImageOps.grayscale(image)


def to_uint8(values: np.ndarray) -> np.ndarray:
    """Round to nearest (half to even), clip to 0..255, cast: the writer's policy."""
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


def save_image(array: np.ndarray, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Write ``array`` as an 8-bit grayscale PNG, atomically.

    Values are rounded and clipped to 0..255 (the tutorial's
    ``negative_to_zero``, plus the top end). The PNG goes to a temporary file
    in the target's folder and is renamed into place, so a crash or a full disk
    never leaves a partial file; an existing target is kept unless
    ``overwrite``.
    """
    target = Path(path)
    array = np.asarray(array)
    if array.ndim != 2 or array.size == 0:
        raise ValueError(f"array must be a non-empty 2-D array, got shape {array.shape}")
    if not target.parent.is_dir():
        raise OutputError(f"folder {str(target.parent)!r} does not exist", target)
    if target.exists() and not overwrite:
        raise OutputError("already exists (use --overwrite to replace it)", target)
    pixels = array if array.dtype == np.uint8 else to_uint8(array)
    image = Image.fromarray(pixels, mode="L")
    _atomic_write(image, target, overwrite=overwrite)
    return target


def _atomic_write(image: Image.Image, target: Path, *, overwrite: bool) -> None:
    try:
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise OutputError(f"cannot write here: {exc.strerror or exc}", target) from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            image.save(handle, format="PNG")
            handle.flush()
            os.fsync(handle.fileno())
        _chmod_like_new_file(tmp)
        _place(tmp, target, overwrite=overwrite)
    except FileExistsError:
        tmp.unlink(missing_ok=True)
        raise OutputError("already exists (use --overwrite to replace it)", target) from None
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write: {exc.strerror or exc}", target) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


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
        if target.exists():
            raise FileExistsError(target) from None
        os.replace(tmp, target)
    else:
        tmp.unlink()


def _chmod_like_new_file(path: Path) -> None:
    """mkstemp makes 0600 files; give the output the permissions open() would."""
    umask = os.umask(0)
    os.umask(umask)
    with contextlib.suppress(OSError):
        os.chmod(path, 0o666 & ~umask)


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
    if target.exists() and not overwrite:
        raise OutputError("already exists (use --overwrite to replace it)", target)
    _atomic_write(Image.fromarray(array, mode="RGB"), target, overwrite=overwrite)
    return target
