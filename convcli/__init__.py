"""convcli: run a convolution kernel over images, from the shell or from Python.

>>> import numpy as np, convcli
>>> convcli.convolve(np.eye(3), convcli.KERNELS["identity"].weights)
array([[1.]])
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .engine import BORDERS, PADDINGS, conv2d, convolve, output_shape, pool
from .errors import ConvcliError, ImageReadError, ImageShapeError, KernelError, OutputError
from .kernels import FAMILIES, KERNELS, Kernel, load_kernel, parse_kernel

if TYPE_CHECKING:
    from .imageio import load_image, save_image

__all__ = [
    "BORDERS",
    "FAMILIES",
    "KERNELS",
    "PADDINGS",
    "ConvcliError",
    "ImageReadError",
    "ImageShapeError",
    "Kernel",
    "KernelError",
    "OutputError",
    "conv2d",
    "convolve",
    "load_image",
    "load_kernel",
    "output_shape",
    "parse_kernel",
    "pool",
    "save_image",
]


def __getattr__(name: str) -> Any:
    # Pillow is imported only when images are touched, keeping `--help` fast.
    if name in ("load_image", "save_image"):
        from . import imageio

        return getattr(imageio, name)
    raise AttributeError(f"module 'convcli' has no attribute {name!r}")
