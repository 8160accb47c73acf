"""The steps an image goes through between reading and writing, in order.

A run's :class:`~convcli.options.Options` carry a tuple of steps; the
pipeline applies them one after another to a float array. Each step is a
frozen value (it travels to worker processes) that knows its own geometry
and how to apply itself, so a new kind of step (bias, activation, pooling,
a filter bank) is one new class here and nothing else changes shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .engine import Geometry, convolve
from .kernels import Kernel

__all__ = ["Affine", "Convolve", "Step"]


@dataclass(frozen=True)
class Convolve:
    """Slide ``kernel`` over the image (cross-correlation), then apply the kernel's
    own ``scale``/``offset`` (from a ``.mat`` or ``.json`` file)."""

    kernel: Kernel
    padding: str = "valid"
    border: str = "zero"
    stride: tuple[int, int] = (1, 1)
    dilation: tuple[int, int] = (1, 1)

    @property
    def name(self) -> str:
        return self.kernel.name

    @property
    def geometry(self) -> Geometry:
        """Where the window falls: pads, output size, anchor (the engine's one geometry)."""
        return Geometry(self.kernel.shape, self.padding, self.stride, self.dilation)

    def output_shape(self, shape: tuple[int, ...]) -> tuple[int, int]:
        """The result's ``(height, width)`` for an image of ``shape`` (non-positive: empty)."""
        return self.geometry.output_shape((shape[0], shape[1]))

    def apply(self, image: np.ndarray, *, threads: int | None = None) -> np.ndarray:
        """The float result for a 2-D image, never rounded or clipped."""
        result = convolve(
            image, self.kernel.weights, padding=self.padding, border=self.border, threads=threads
        )
        if self.kernel.scale != 1:
            result /= self.kernel.scale
        if self.kernel.offset != 0:
            result += self.kernel.offset
        return result

    @property
    def linear(self) -> bool:
        """True when the step is the kernel's sums alone (no scale or offset of its own)."""
        return (self.kernel.scale, self.kernel.offset) == (1, 0)

    def describe(self) -> dict[str, Any]:
        return {
            "step": "convolve",
            "kernel": self.kernel.name,
            "padding": self.padding,
            "border": self.border,
        }


@dataclass(frozen=True)
class Affine:
    """``--scale`` and ``--offset``: divide the result by ``scale``, then add ``offset``."""

    scale: float = 1.0
    offset: float = 0.0

    def output_shape(self, shape: tuple[int, ...]) -> tuple[int, int]:
        return shape[0], shape[1]

    def apply(self, image: np.ndarray, *, threads: int | None = None) -> np.ndarray:
        result = image
        if self.scale != 1:
            result = result / self.scale
        if self.offset != 0:
            result = result + self.offset
        return result

    def describe(self) -> dict[str, Any]:
        return {"step": "affine", "scale": self.scale, "offset": self.offset}


#: Anything the pipeline can apply, in the order given.
Step = Convolve | Affine
