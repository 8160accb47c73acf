"""convcli: run a convolution kernel over images, from the shell or from Python.

>>> import numpy as np, convcli
>>> convcli.convolve(np.eye(3), convcli.KERNELS["identity"].weights)
array([[1.]])
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .lazy import exports

if TYPE_CHECKING:
    from .engine import BORDERS, PADDINGS, conv2d, convolve, output_shape, pool
    from .errors import ConvcliError, ImageReadError, ImageShapeError, KernelError, OutputError
    from .imageio import load_image, save_image
    from .kernels import FAMILIES, KERNELS, Kernel, load_kernel, parse_kernel

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


# Each name's module is imported on first use (convcli.lazy): `convcli --help` loads no
# engine, and Pillow arrives only when images are touched.
__getattr__ = exports(
    __name__,
    {
        **dict.fromkeys(
            ["BORDERS", "PADDINGS", "conv2d", "convolve", "output_shape", "pool"], ".engine"
        ),
        **dict.fromkeys(
            ["ConvcliError", "ImageReadError", "ImageShapeError", "KernelError", "OutputError"],
            ".errors",
        ),
        **dict.fromkeys(["load_image", "save_image"], ".imageio"),
        **dict.fromkeys(
            ["FAMILIES", "KERNELS", "Kernel", "load_kernel", "parse_kernel"], ".kernels"
        ),
    },
)
