"""One image through the pipeline: load -> filter -> save, as ``Options`` say.

Each step is its own function so that options which change one step (colour,
bit depth, output range, the engine's fused 8-bit path) change only that
function. Raises :class:`ConvcliError` for anything a user can fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .engine import convolve, output_shape
from .errors import ImageShapeError, OutputError
from .kernels import Kernel
from .limits import MAX_PIXELS

__all__ = [
    "Options",
    "Outcome",
    "check_target",
    "compare_path",
    "filter_image",
    "is_same_file",
    "process",
    "write_compare",
]


@dataclass(frozen=True)
class Options:
    """Everything about *how* to filter, shared by all images of a run."""

    kernel: Kernel
    padding: str = "valid"
    border: str = "zero"
    size: tuple[int, int] | None = None  # (width, height)
    overwrite: bool = False
    compare: bool = False  # also write <stem>.compare.png, input beside result
    max_pixels: int = MAX_PIXELS  # inputs declaring more pixels are refused unread
    background: tuple[int, int, int] = (255, 255, 255)  # transparency is flattened over it


@dataclass(frozen=True)
class Outcome:
    """What one processed image looked like, for the report."""

    input_size: tuple[int, int]  # (width, height) as loaded
    output_size: tuple[int, int]
    warnings: tuple[str, ...] = ()  # one line each, about the input, for the report


def process(source: Path, target: Path, options: Options) -> Outcome:
    from .imageio import load_image, save_image  # Pillow only when there is work

    check_target(source, target, overwrite=options.overwrite)
    if options.compare:
        check_target(source, compare_path(target), overwrite=options.overwrite)
    notes: list[str] = []
    image = load_image(
        source,
        options.size,
        max_pixels=options.max_pixels,
        background=options.background,
        warnings=notes,
    )
    try:
        result = filter_image(image, options, source)
        save_image(result, target, overwrite=options.overwrite)
        if options.compare:
            write_compare(image, result, target, options)
    except MemoryError:
        raise ImageShapeError("not enough memory to filter this image", source) from None
    return Outcome(
        input_size=(image.shape[1], image.shape[0]),
        output_size=(result.shape[1], result.shape[0]),
        warnings=tuple(notes),
    )


def filter_image(image: np.ndarray, options: Options, source: Path | None = None) -> np.ndarray:
    """The engine step, with the one shape check a user can trip over."""
    kernel = options.kernel.weights
    if min(output_shape(image.shape, kernel.shape, options.padding)) <= 0:
        raise ImageShapeError(
            f"image is {image.shape[1]}x{image.shape[0]}, smaller than the "
            f"{kernel.shape[1]}x{kernel.shape[0]} kernel: 'valid' padding leaves "
            "nothing (use --padding same)",
            source,
        )
    return convolve(image, kernel, padding=options.padding, border=options.border)


def check_target(source: Path, target: Path, *, overwrite: bool) -> None:
    """Refuse, before any decoding, an output that must not or cannot be written.

    That is: an output that resolves to the input (same file by device and
    inode, so symlinks, hard links and case-insensitive spellings of the same
    name are all caught), a folder or special file, an existing file without
    ``overwrite``, and a single-file output whose folder does not exist.
    """
    if is_same_file(source, target):
        raise OutputError("is the input file; choose another output", target)
    if target.exists() or target.is_symlink():
        if target.is_dir():
            raise OutputError("is a folder", target)
        if target.exists() and not target.is_file():
            raise OutputError("is not a regular file; refusing to replace it", target)
        if not overwrite:
            raise OutputError("already exists (use --overwrite to replace it)", target)
    parent = target.parent
    if not parent.is_dir():
        raise OutputError(f"folder {str(parent)!r} does not exist", target)


def is_same_file(a: Path, b: Path) -> bool:
    """True when both paths lead to one file (symlinks followed, hard links included)."""
    try:
        first, second = a.stat(), b.stat()
    except (OSError, ValueError):
        return False
    return (first.st_dev, first.st_ino) == (second.st_dev, second.st_ino)


def compare_path(target: Path) -> Path:
    """Where ``--compare`` puts the before/after picture: ``out.png`` -> ``out.compare.png``."""
    return target.with_name(f"{target.stem}.compare.png")


def write_compare(image: np.ndarray, result: np.ndarray, target: Path, options: Options) -> Path:
    """The loaded image beside the result as written, labelled, saved atomically."""
    from .imageio import save_sheet, to_uint8
    from .visuals import compare, result_offset

    written = to_uint8(result)  # what save_image wrote, pixel for pixel
    labels = (
        f"input, {image.shape[1]}x{image.shape[0]}",
        f"{options.kernel.name}, {options.padding}, {options.border} border, "
        f"{written.shape[1]}x{written.shape[0]}",
    )
    offset = result_offset(options.kernel.shape, options.padding)
    sheet = compare(image, written, labels=labels, offset=offset)
    return save_sheet(sheet.image, compare_path(target), overwrite=options.overwrite)
