"""The built-in kernel catalogue, :data:`KERNELS`: name -> :class:`Kernel`.

Kernels are data: a name, the weights, a one-line description and where the
weights come from. ``convcli kernels`` only renders this registry.
"""

from __future__ import annotations

import numpy as np

from .model import Kernel


def _outer(v: list[float], scale: float) -> np.ndarray:
    """A separable kernel from its 1-D part, so the weights are exact."""
    row = np.array(v, dtype=np.float64)
    return np.outer(row, row) / scale


_TUTORIAL = "the tutorial (CNN 4 - Convolutions from scratch)"

KERNELS: dict[str, Kernel] = {
    k.name: k
    for k in [
        Kernel(
            "identity",
            [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
            "Leaves the image unchanged (valid padding still trims the border).",
            "the neutral element of convolution",
        ),
        Kernel(
            "sharpen",
            [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
            "Boosts each pixel against its 4 neighbours: crisper edges.",
            _TUTORIAL,
        ),
        Kernel(
            "blur",
            _outer([1, 2, 1], 16),
            "3x3 Gaussian blur (1/16, 1/8, 1/4): soft, weights sum to 1.",
            _TUTORIAL,
        ),
        Kernel(
            "outline",
            [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]],
            "8-neighbour Laplacian: white outlines on black, flat areas vanish.",
            _TUTORIAL,
        ),
        Kernel(
            "box",
            np.full((3, 3), 1 / 9),
            "3x3 mean: each pixel becomes the average of its neighbourhood.",
            "box filter (moving average)",
        ),
        Kernel(
            "gaussian5",
            _outer([1, 4, 6, 4, 1], 256),
            "5x5 Gaussian blur from binomial weights: stronger, smooth blur.",
            "binomial approximation of a Gaussian (Pascal's triangle row 4)",
        ),
        Kernel(
            "laplacian",
            [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
            "4-neighbour Laplacian: second derivative, zero on flat areas.",
            "discrete Laplace operator",
        ),
        Kernel(
            "sobel-x",
            [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
            "Horizontal gradient: bright where the image gets brighter to the right.",
            "Sobel operator (Sobel & Feldman, 1968)",
        ),
        Kernel(
            "sobel-y",
            [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
            "Vertical gradient: bright where the image gets brighter downwards.",
            "Sobel operator (Sobel & Feldman, 1968)",
        ),
        Kernel(
            "emboss",
            [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]],
            "Relief effect: lit from the top left, edges raised.",
            "classic emboss filter (e.g. GIMP's convolution matrix examples)",
        ),
    ]
}
