"""The built-in kernel catalogue and the parsing of ``--kernel`` specs.

Kernels are data: a name, the weights, a one-line description and where the
weights come from. ``convcli kernels`` only renders this registry.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import numpy as np

from .errors import KernelError

__all__ = ["KERNELS", "Kernel", "parse_kernel", "separate"]


@dataclass(frozen=True, eq=False)
class Kernel:
    """A named 2-D weight matrix, applied without flipping (cross-correlation)."""

    name: str
    weights: np.ndarray
    description: str
    source: str = ""

    def __post_init__(self) -> None:
        weights = np.array(self.weights, dtype=np.float64)
        weights.flags.writeable = False
        object.__setattr__(self, "weights", weights)

    @property
    def shape(self) -> tuple[int, int]:
        return self.weights.shape  # type: ignore[return-value]


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


def separate(weights: np.ndarray, *, rtol: float = 1e-10) -> tuple[np.ndarray, np.ndarray] | None:
    """``(column, row)`` with ``np.outer(column, row) ≈ weights``, or None if not rank 1.

    A separable kernel is two 1-D passes instead of one 2-D pass (k+k taps
    instead of k*k). Rank 1 is judged by SVD: every singular value but the
    first is at most ``rtol`` times the first. An all-zero kernel is not
    separable (there is nothing to separate).
    """
    weights = np.asarray(weights, dtype=np.float64)
    u, s, vt = np.linalg.svd(weights)
    if s[0] == 0 or (s[1:] > rtol * s[0]).any():
        return None
    scale = np.sqrt(s[0])
    return u[:, 0] * scale, vt[0] * scale


def parse_kernel(spec: str) -> Kernel:
    """Turn a ``--kernel`` value into a :class:`Kernel`.

    Today a spec is a built-in name (case-insensitive). This is the single
    entry point that parameterised kernels, inline matrices and kernel files
    extend, so callers never change.
    """
    name = spec.strip().lower()
    if name in KERNELS:
        return KERNELS[name]
    raise KernelError(_unknown(spec))


def _unknown(spec: str) -> str:
    close = difflib.get_close_matches(spec.strip().lower(), KERNELS, n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(close)}? " if close else ""
    return (
        f"unknown kernel {spec!r}; {hint}"
        f"built-in kernels: {', '.join(KERNELS)} (see 'convcli kernels')"
    )
