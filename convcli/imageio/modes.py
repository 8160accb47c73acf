"""Every Pillow mode into the few the engine takes: gray, colour, 16-bit, flattened.

Gray is the tutorial's ``ImageOps.grayscale`` (which is ``convert("L")``, called
here directly: ``ImageOps`` and the palette modules it imports are ~1.5 ms of
start-up); transparency is flattened over
a background (hidden colours never show); 16-bit values are divided by 257
rather than clipped; float values are rounded and clipped, NaN refused.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from ..errors import ImageReadError
from .write import to_uint8

__all__ = ["WHITE", "composite", "convert", "flatten", "parse_background", "to_gray"]

WHITE = (255, 255, 255)  # the default background transparency is flattened over


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
        from PIL import ImageColor  # a colour name: only for --background

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
    return rgb


def convert(
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
            return to_gray(image, background, path, notes).convert("RGB")
        alpha = mode in ("LA", "La", "PA", "RGBA", "RGBa") or "transparency" in image.info
        return image.convert("RGBA" if alpha else "RGB")
    if wide and (mode.startswith("I;16") or mode == "I"):
        values = np.asarray(image).astype(np.float64)
        if mode == "I" and (values.min() < 0 or values.max() > 65535):
            notes.append("32-bit pixel values outside 0..65535 clipped")
        values = np.clip(values, 0, 65535) / 257
        return Image.fromarray(values.astype(np.float32), mode="F")
    return to_gray(image, background, path, notes)


def to_gray(
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
        return flatten(image, background)
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
    return image.convert("L")  # ImageOps.grayscale


def composite(rgb: np.ndarray, alpha: np.ndarray, background: tuple[int, int, int]) -> np.ndarray:
    """``(H, W, 3)`` colour over ``background``, as :func:`flatten` does for gray:
    ``(c·a + bg·(255-a)) / 255`` per channel, rounded, so hidden colours never show
    (what a filter bank reading RGB sees of a transparent image).

    >>> composite(np.array([[[255, 0, 0]]], np.uint8), np.array([[0]], np.uint8), (0, 0, 9))
    array([[[0, 0, 9]]], dtype=uint8)
    """
    a = alpha.astype(np.uint16)[..., None]
    mixed = rgb.astype(np.uint16) * a + np.array(background, np.uint16) * (255 - a)
    return ((mixed + 127) // 255).astype(np.uint8)


def flatten(image: Image.Image, background: tuple[int, int, int]) -> Image.Image:
    """Composite over ``background``: ``(gray·a + bg·(255-a)) / 255``, rounded."""
    alpha = np.asarray(image.getchannel("A")).astype(np.uint16)
    gray = np.asarray(image.convert("L")).astype(np.uint16)  # ignores alpha
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
