"""The limits convcli puts on what it reads, in one place (no Pillow import here).

They are documented in the README's "Safety" section; the CLI exposes
``MAX_PIXELS`` as ``--max-pixels``.
"""

from __future__ import annotations

__all__ = [
    "IMAGE_FORMATS",
    "MAX_INPUT_BYTES",
    "MAX_PIXELS",
    "MAX_PIXELS_CEILING",
]

#: Default ``--max-pixels``: Pillow's decompression-bomb *warning* threshold
#: (``PIL.Image.MAX_IMAGE_PIXELS``), which convcli treats as an error.
MAX_PIXELS = 89_478_485

#: The largest ``--max-pixels`` accepted: Pillow's own hard limit (twice its
#: warning threshold), beyond which Pillow refuses to open a file whatever we say.
MAX_PIXELS_CEILING = 2 * MAX_PIXELS

#: Input files larger than this are refused before they are opened (1 GiB:
#: more than an uncompressed 16-bit RGBA image of ``MAX_PIXELS`` pixels).
MAX_INPUT_BYTES = 1 << 30

#: The only Pillow formats convcli lets Pillow try. Never EPS/PS (Ghostscript),
#: nor the rarely used decoders most exposed to hostile files. Phones' multi-picture
#: JPEGs (MPO) open as JPEG.
IMAGE_FORMATS = ("PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP", "PPM")
