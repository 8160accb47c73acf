"""Pillow at the edges: images in as arrays, results out as files, never half-written.

``read`` (safe open, decode, orientation), ``modes`` (gray, colour, 16-bit,
flattening), ``write`` (the encoders, the only place results are rounded),
``atomic`` (temporary file, fsync, rename), and two modules that need no
Pillow: ``formats`` (which encoder an output gets) and ``targets`` (may it be
written). Importing this package imports no Pillow: the names below load
their module on first use, so ``--help`` and the batch planner stay fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import exports

if TYPE_CHECKING:
    from .modes import WHITE, parse_background
    from .read import load_image
    from .write import png_settings, save_image, save_sheet, to_uint8

__all__ = [
    "WHITE",
    "load_image",
    "parse_background",
    "png_settings",
    "save_image",
    "save_sheet",
    "to_uint8",
]

__getattr__ = exports(
    __name__,
    {
        "WHITE": ".modes",
        "parse_background": ".modes",
        "load_image": ".read",
        "png_settings": ".write",
        "save_image": ".write",
        "save_sheet": ".write",
        "to_uint8": ".write",
    },
)
