"""The steps an image goes through between reading and writing, in order.

A run's :class:`~convcli.options.Options` carry a tuple of steps; the
pipeline applies them one after another to a float array. Each step is a
frozen value (it travels to worker processes) that knows its own geometry
and how to apply itself, so a new kind of step is one new class here.

The order of a CNN layer is fixed (and the CLI builds it so): convolution
(:class:`Convolve` for a chain of 2-D kernels, :class:`Filters` for a bank
or kernels side by side) -> :class:`Bias` -> :class:`Combine` ->
:class:`Activation` -> :class:`Pool` -> :class:`Affine` (``--scale``/``--offset``).
Arrays are ``(H, W)`` for one map or ``(H, W, maps)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .engine import Geometry, conv2d, convolve, pool
from .engine.geometry import PADDINGS, check_choice, pair
from .engine.pool import POOLS
from .kernels import Kernel
from .kernels.banks import Bank

__all__ = [
    "ACTIVATIONS",
    "COMBINES",
    "Activation",
    "Affine",
    "Bias",
    "Combine",
    "Convolve",
    "Filters",
    "Pool",
    "Step",
]

COMBINES = ("magnitude", "max", "sum", "min", "maps")
REDUCTIONS = COMBINES[:-1]  # the modes that are a Combine step
ACTIVATIONS = ("relu",)
Pair = tuple[int, int]


def _set_pairs(step: Any, **values: Any) -> None:
    for name, value in values.items():
        object.__setattr__(step, name, pair(name, value))


def _geometry_doc(geometry: Geometry) -> dict[str, Any]:
    return {"stride": list(geometry.stride), "dilation": list(geometry.dilation)}


@dataclass(frozen=True)
class Convolve:
    """Slide ``kernel`` over the image (cross-correlation) with a stride and a
    dilation, then apply the kernel's own ``scale``/``offset`` (from a ``.mat``
    or ``.json`` file). A 3-D image is filtered channel by channel."""

    kernel: Kernel
    padding: str = "valid"
    border: str = "zero"
    stride: Pair = (1, 1)
    dilation: Pair = (1, 1)

    def __post_init__(self) -> None:
        _set_pairs(self, stride=self.stride, dilation=self.dilation)

    @property
    def name(self) -> str:
        return self.kernel.name

    @property
    def geometry(self) -> Geometry:
        return Geometry(self.kernel.shape, self.padding, self.stride, self.dilation)

    def output_shape(self, shape: tuple[int, ...]) -> tuple[int, int]:
        """The result's ``(height, width)`` for an image of ``shape`` (non-positive: empty)."""
        return self.geometry.output_shape(shape)

    def apply(self, image: np.ndarray, *, threads: int | None = None) -> np.ndarray:
        """The float result, never rounded or clipped."""
        if image.ndim == 3:
            return np.stack(
                [self.apply(image[..., c], threads=threads) for c in range(image.shape[2])], -1
            )
        result = convolve(
            image,
            self.kernel.weights,
            padding=self.padding,
            border=self.border,
            stride=self.stride,
            dilation=self.dilation,
            threads=threads,
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
            **_geometry_doc(self.geometry),
        }


@dataclass(frozen=True, eq=False)
class Filters:
    """Several filters over the same input, side by side: one map each, ``(H', W', maps)``.

    Either a filter bank (a Conv2D layer's weights: every map sums over the
    image's channels, :func:`convcli.conv2d`) or several 2-D kernels (each
    with its own scale/offset, as :class:`Convolve`). All share one padding,
    border, stride and dilation.
    """

    bank: Bank | None = None
    kernels: tuple[Kernel, ...] = ()
    layout: str = "hwio"
    padding: str = "valid"
    border: str = "zero"
    stride: Pair = (1, 1)
    dilation: Pair = (1, 1)

    def __post_init__(self) -> None:
        _set_pairs(self, stride=self.stride, dilation=self.dilation)
        if (self.bank is None) == (not self.kernels):
            raise ValueError("Filters take a bank or kernels, not both or neither")
        if self.bank is not None:
            self.bank.hwio(self.layout)  # KernelError now, not in a worker
        # 'same' gives ceil(n / s) pixels whatever the kernel; valid and full
        # depend on the window's span, so side-by-side maps agree on every
        # image size only when the spans do (one probe size would not tell).
        spans = {Geometry(k.shape, dilation=self.dilation).span for k in self.kernels}
        if self.padding != "same" and len(spans) > 1:
            raise ValueError(
                "kernels side by side must give results of one size: use kernels of one "
                "size, or padding 'same'"
            )

    @property
    def name(self) -> str:
        return self.bank.name if self.bank is not None else "+".join(k.name for k in self.kernels)

    @property
    def maps(self) -> int:
        return self.bank.maps(self.layout) if self.bank is not None else len(self.kernels)

    @property
    def channels(self) -> int:
        """Input channels the step reads: the bank's ``C_in``; kernels read one."""
        return self.bank.channels(self.layout) if self.bank is not None else 1

    @property
    def kernel_shape(self) -> tuple[int, int]:
        if self.bank is not None:
            kh, kw = self.bank.hwio(self.layout).shape[:2]
            return int(kh), int(kw)
        return self.kernels[0].shape

    @property
    def geometry(self) -> Geometry:
        return Geometry(self.kernel_shape, self.padding, self.stride, self.dilation)

    def output_shape(self, shape: tuple[int, ...]) -> tuple[int, int]:
        return self.geometry.output_shape(shape)  # side-by-side kernels agree (checked above)

    def apply(self, image: np.ndarray, *, threads: int | None = None) -> np.ndarray:
        """``(H', W', maps)``, or ``(H', W')`` for a bank of one map (one map is 2-D)."""
        result = self._maps(image, threads)
        return result[..., 0] if result.shape[2] == 1 else result

    def _maps(self, image: np.ndarray, threads: int | None) -> np.ndarray:
        padding, border, stride, dilation = self.padding, self.border, self.stride, self.dilation
        if self.bank is not None:
            weights = self.bank.hwio(self.layout)
            # A float32 bank (as Keras and PyTorch save them) works in float32, as
            # TensorFlow does: half the memory of 64 float64 maps.
            dtype = np.float32 if weights.dtype == np.float32 else None
            return conv2d(
                image, weights, padding=padding, border=border, stride=stride,
                dilation=dilation, dtype=dtype, threads=threads,
            )  # fmt: skip
        maps = [
            Convolve(k, padding, border, stride, dilation).apply(image, threads=threads)
            for k in self.kernels
        ]
        return np.stack(maps, axis=-1)

    def describe(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"step": "filters"}
        if self.bank is not None:
            doc |= {"bank": self.bank.name, "layout": self.layout}
        else:
            doc["kernels"] = [k.name for k in self.kernels]
        doc |= {"maps": self.maps, "padding": self.padding, "border": self.border}
        return doc | _geometry_doc(self.geometry)


@dataclass(frozen=True)
class Bias:
    """``--bias``: one value added to each map, right after the convolution."""

    values: tuple[float, ...]

    def output_shape(self, shape: tuple[int, ...]) -> tuple[int, int]:
        return shape[0], shape[1]

    def apply(self, image: np.ndarray, *, threads: int | None = None) -> np.ndarray:
        """In place when ``image`` is a float array (the convolution's own fresh result:
        a copy of 64 maps would double their memory)."""
        values = np.asarray(self.values, dtype=np.float64)
        add = values[0] if image.ndim == 2 else values
        if image.dtype.kind == "f" and image.flags.writeable:
            image += add.astype(image.dtype)
            return image
        return image + add

    def describe(self) -> dict[str, Any]:
        return {"step": "bias", "values": list(self.values)}


@dataclass(frozen=True)
class Combine:
    """``--combine``: the maps made side by side, reduced to one per pixel.

    ``magnitude`` is ``sqrt(sum of squares)`` (the gradient magnitude of
    ``sobel-x`` and ``sobel-y``); ``max``, ``sum`` and ``min`` are what they say.
    """

    mode: str

    def __post_init__(self) -> None:
        if self.mode not in REDUCTIONS:
            raise ValueError(
                f"a Combine step is one of {', '.join(REDUCTIONS)} ('maps' keeps the maps: "
                f"no step); got {self.mode!r}"
            )

    def output_shape(self, shape: tuple[int, ...]) -> tuple[int, int]:
        return shape[0], shape[1]

    def apply(self, image: np.ndarray, *, threads: int | None = None) -> np.ndarray:
        if image.ndim == 2:  # one map (a bank with a single filter)
            image = image[..., None]
        if self.mode == "magnitude":
            return np.sqrt(np.einsum("...m,...m->...", image, image))
        if self.mode == "max":
            return image.max(axis=-1)
        if self.mode == "min":
            return image.min(axis=-1)
        return image.sum(axis=-1)

    def describe(self) -> dict[str, Any]:
        return {"step": "combine", "mode": self.mode}


@dataclass(frozen=True)
class Activation:
    """``--activation relu``: the tutorial's ``negative_to_zero``, on floats."""

    kind: str = "relu"

    def __post_init__(self) -> None:
        if self.kind not in ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {', '.join(ACTIVATIONS)}; got {self.kind!r}"
            )

    def output_shape(self, shape: tuple[int, ...]) -> tuple[int, int]:
        return shape[0], shape[1]

    def apply(self, image: np.ndarray, *, threads: int | None = None) -> np.ndarray:
        """In place for a float array, as :meth:`Bias.apply`."""
        if image.dtype.kind == "f" and image.flags.writeable:
            return np.maximum(image, 0, out=image)
        return np.maximum(image, 0)

    def describe(self) -> dict[str, Any]:
        return {"step": "activation", "kind": self.kind}


@dataclass(frozen=True)
class Pool:
    """``--pool``: max or average pooling as TensorFlow's (:func:`convcli.pool`): the
    last layer step, before :class:`Affine`."""

    kind: str = "max"
    size: Pair = (2, 2)
    stride: Pair | None = None  # default: the size
    padding: str = "valid"

    def __post_init__(self) -> None:
        _set_pairs(self, size=self.size)
        _set_pairs(self, stride=self.size if self.stride is None else self.stride)
        check_choice("pool padding", self.padding, PADDINGS[:2])
        check_choice("pool", self.kind, POOLS)

    @property
    def geometry(self) -> Geometry:
        return Geometry(self.size, self.padding, self.stride or self.size)

    @property
    def border(self) -> str:
        return "zero"

    def output_shape(self, shape: tuple[int, ...]) -> tuple[int, int]:
        return self.geometry.output_shape(shape)

    def apply(self, image: np.ndarray, *, threads: int | None = None) -> np.ndarray:
        return pool(
            image, self.kind, size=self.size, stride=self.stride, padding=self.padding,
            threads=threads,
        )  # fmt: skip

    def describe(self) -> dict[str, Any]:
        return {
            "step": "pool",
            "kind": self.kind,
            "size": list(self.size),
            "stride": list(self.stride or self.size),
            "padding": self.padding,
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
Step = Convolve | Filters | Bias | Combine | Activation | Pool | Affine
