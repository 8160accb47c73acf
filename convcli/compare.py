"""Pictures that draw a result over its input: ``--compare``'s sheet, and where to put it.

Apart from :mod:`convcli.pipeline` because they are about showing a result,
not computing it; ``gallery`` places its tiles by the same rule.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .imageio.targets import compare_path
from .options import Options
from .steps import Convolve, Filters, Pool

__all__ = ["result_origin", "write_compare"]


def result_origin(options: Options, shape: tuple[int, ...]) -> tuple[int, int]:
    """``(dy, dx)``: the input pixel the result's pixel ``(0, 0)`` is centred on, for
    pictures that draw one over the other (``--compare``, ``gallery``).

    The filters' :meth:`Geometry.offset` added up, step by step (a dilation
    moves it; ``same`` with an odd kernel does not). A result on another
    scale (a stride, a pool) has no such place: ``(0, 0)``, top-left aligned.
    """
    dy = dx = 0
    for step in options.steps:
        if isinstance(step, Pool) or (
            isinstance(step, (Convolve, Filters)) and step.geometry.stride != (1, 1)
        ):
            return 0, 0
        if isinstance(step, (Convolve, Filters)):
            y, x = step.geometry.offset(shape)
            dy, dx = dy + y, dx + x
            shape = step.output_shape(shape)
    return dy, dx


def write_compare(image: np.ndarray, result: np.ndarray, target: Path, options: Options) -> Path:
    """The loaded image beside the result as written, labelled, saved atomically.

    ``image`` is gray ``(H, W)`` or colour ``(H, W, 3)``; ``result`` is what
    went to the writer (alpha, if any, is left out of the picture). A 16-bit
    or ``.npy`` result is shown as its 8-bit rendering.
    """
    from .imageio import save_sheet, to_uint8
    from .visuals import compare

    written = to_uint8(result[..., :3] if result.ndim == 3 else result)
    if image.dtype != np.uint8:  # a 16-bit input, loaded at full precision
        image = to_uint8(image)
    offset = result_origin(options, image.shape)
    names = " then ".join(k.name for k in options.kernels)
    # valid padding reads no border at all: naming one ("zero border") would mislead.
    border = "" if options.padding == "valid" else f"{options.border} border, "
    labels = (
        f"input, {image.shape[1]}x{image.shape[0]}",
        f"{names}, {options.padding}, {border}{written.shape[1]}x{written.shape[0]}",
    )
    sheet = compare(image, written, labels=labels, offset=offset)
    return save_sheet(sheet.image, compare_path(target), overwrite=options.write.overwrite)
