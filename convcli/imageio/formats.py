"""Which encoder an output gets, and what it can hold: decided from the name, without Pillow.

The batch planner, the CLI and the writer all ask here, so an unknown
extension or an impossible bit depth is refused once, with one message, before
any pixel is decoded (and before Pillow is even imported).
"""

from __future__ import annotations

from pathlib import Path

from ..errors import OutputError

__all__ = ["DEPTHS", "FORMAT_NAMES", "OUTPUT_FORMATS", "output_format"]

#: Output format by the destination's extension (no extension: PNG).
OUTPUT_FORMATS = {"": "PNG", ".png": "PNG", ".npy": "NPY", ".tif": "TIFF", ".tiff": "TIFF",
                  ".webp": "WEBP", ".jpg": "JPEG", ".jpeg": "JPEG"}  # fmt: skip

#: What ``--format`` names (for ``-``, stdout), and the format each is.
FORMAT_NAMES = {"png": "PNG", "tif": "TIFF", "tiff": "TIFF", "webp": "WEBP", "npy": "NPY",
                "jpg": "JPEG", "jpeg": "JPEG"}  # fmt: skip

#: Bits per sample an output may have.
DEPTHS = (8, 16)


def output_format(
    target: Path, *, depth: int = 8, color: bool = False, fmt: str | None = None
) -> str:
    """The writer for ``target``'s extension, or :class:`OutputError` if it cannot hold this.

    16-bit samples exist only in grayscale PNG and TIFF (Pillow writes no
    16-bit colour PNG/TIFF, and WebP and JPEG have no 16-bit format); ``.npy``
    holds anything. ``fmt`` (a :data:`FORMAT_NAMES` value) overrides the
    extension, for stdout. A ``depth`` outside :data:`DEPTHS` is a caller's
    bug: ``ValueError``.

    >>> output_format(Path("edges.PNG")), output_format(Path("raw.npy"), depth=16, color=True)
    ('PNG', 'NPY')
    """
    if depth not in DEPTHS:
        raise ValueError(f"depth must be one of {DEPTHS}, got {depth!r}")
    fmt = fmt or OUTPUT_FORMATS.get(target.suffix.lower())
    if fmt is None:
        raise OutputError(
            f"unknown output format {target.suffix!r}; use .png, .jpg, .tif, .webp or .npy",
            target,
        )
    if depth == 16 and fmt != "NPY":
        if fmt in ("WEBP", "JPEG"):
            name = "WebP" if fmt == "WEBP" else "JPEG"
            raise OutputError(f"{name} has no 16-bit format; use .png or .tif", target)
        if color:
            raise OutputError(
                "16-bit output is grayscale only (Pillow writes no 16-bit colour PNG/TIFF); "
                "use .npy for colour at full precision",
                target,
            )
    return fmt
