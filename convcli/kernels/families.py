"""Parameterised built-ins, :data:`FAMILIES`: ``gaussian:sigma=2,size=9`` and friends.

A :class:`Family` is a builder plus the :class:`Parameter` s it takes, each
with its type, range and default, so the checks, the error messages and
``convcli kernels``'s help are all read from the same data.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import KernelError
from .model import MAX_SIDE, Kernel
from .values import to_integer, to_number


@dataclass(frozen=True)
class Parameter:
    """One ``key=value`` of a parameterised kernel, with its type, range and default."""

    name: str
    kind: type  # int or float
    default: float | None  # None: derived from the others (see ``derived``)
    low: float
    high: float
    help: str
    low_open: bool = False  # low itself is excluded (sigma > 0)
    choices: tuple[int, ...] = ()
    odd: bool = False
    derived: str = ""

    def describe(self) -> str:
        """``sigma: number, 0 < sigma <= 40, default 1: the blur radius``."""
        kind = "integer" if self.kind is int else "number"
        if self.choices:
            allowed = " or ".join(f"{c:g}" for c in self.choices)
        else:
            allowed = f"{self.low:g} {'<' if self.low_open else '<='} {self.name} <= {self.high:g}"
            if self.odd:
                allowed += ", odd"
        default = self.derived if self.default is None else f"{self.default:g}"
        return f"{self.name}: {kind}, {allowed}, default {default}: {self.help}"

    def convert(self, text: str, family: str) -> float:
        value = to_number(text) if self.kind is float else to_integer(text)
        if value is None:
            kind = "an integer" if self.kind is int else "a number"
            raise KernelError(f"{family}: {self.name} must be {kind}, got {text!r}")
        if self.choices:
            if value not in self.choices:
                allowed = " or ".join(f"{c:g}" for c in self.choices)
                raise KernelError(f"{family}: {self.name} must be {allowed}, got {text}")
            return value
        too_low = value <= self.low if self.low_open else value < self.low
        if too_low or value > self.high:
            low = ">" if self.low_open else ">="
            raise KernelError(
                f"{family}: {self.name} must be {low} {self.low:g} and <= {self.high:g}, got {text}"
            )
        if self.odd and value % 2 == 0:
            raise KernelError(f"{family}: {self.name} must be odd, got {text}")
        return value


@dataclass(frozen=True)
class Family:
    """A kernel built from parameters: ``gaussian:sigma=2,size=9``."""

    name: str
    description: str
    source: str
    params: tuple[Parameter, ...]
    build: Callable[[dict[str, Any]], np.ndarray]
    example: str

    def make(self, given: dict[str, str]) -> Kernel:
        known = {p.name: p for p in self.params}
        values: dict[str, Any] = {}
        for key, text in given.items():
            if key not in known:
                raise KernelError(
                    f"{self.name}: unknown parameter {key!r}; expected {', '.join(known)}"
                )
            values[key] = known[key].convert(text, self.name)
        for p in self.params:
            values.setdefault(p.name, p.default)
        weights = self.build(values)
        if max(weights.shape) > MAX_SIDE:
            raise KernelError(
                f"{self.name}: the kernel would be {weights.shape[0]}x{weights.shape[1]}, "
                f"larger than the {MAX_SIDE}x{MAX_SIDE} maximum"
            )
        shown = {p.name: values[p.name] for p in self.params}
        if "size" in shown and shown["size"] is None:
            shown["size"] = weights.shape[0]
        name = f"{self.name}:" + ",".join(f"{k}={v:g}" for k, v in shown.items())
        return Kernel(name, weights, self.description, self.source)


def _side_for(sigma: float, size: int | None) -> int:
    """The Gaussian's side: ``size`` if given, else 2*ceil(3*sigma)+1 (covers ±3 sigma)."""
    return int(size) if size is not None else 2 * math.ceil(3 * sigma) + 1


def _gaussian_1d(sigma: float, side: int) -> np.ndarray:
    x = np.arange(side, dtype=np.float64) - (side - 1) / 2
    g = np.exp(-(x**2) / (2 * sigma**2))
    return g / g.sum()


def _gaussian(v: dict[str, Any]) -> np.ndarray:
    g = _gaussian_1d(v["sigma"], _side_for(v["sigma"], v["size"]))
    weights = np.outer(g, g)
    return weights / weights.sum()


def _unsharp(v: dict[str, Any]) -> np.ndarray:
    blur = _gaussian(v)
    weights = -v["amount"] * blur
    centre = blur.shape[0] // 2
    weights[centre, centre] += 1 + v["amount"]
    return weights


def _laplacian(v: dict[str, Any]) -> np.ndarray:
    if v["neighbours"] == 4:
        return np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=np.float64)
    return np.array([[1, 1, 1], [1, -8, 1], [1, 1, 1]], dtype=np.float64)


_SIGMA = Parameter("sigma", float, 1.0, 0, 40, "standard deviation in pixels", low_open=True)
_ODD_SIZE = Parameter(
    "size",
    int,
    None,
    1,
    MAX_SIDE,
    "side of the square kernel",
    odd=True,
    derived="2*ceil(3*sigma)+1",
)

FAMILIES: dict[str, Family] = {
    f.name: f
    for f in [
        Family(
            "gaussian",
            "Gaussian blur of any strength; weights sum to 1.",
            "sampled 2-D Gaussian, normalised",
            (_SIGMA, _ODD_SIZE),
            _gaussian,
            "gaussian:sigma=2,size=9",
        ),
        Family(
            "box",
            "Mean of a size x size neighbourhood (any size, even ones too).",
            "box filter (moving average)",
            (Parameter("size", int, 3, 1, MAX_SIDE, "side of the square kernel"),),
            lambda v: np.full((v["size"], v["size"]), 1 / v["size"] ** 2),
            "box:size=5",
        ),
        Family(
            "laplacian",
            "Laplacian with 4 or 8 neighbours: edges of both signs, zero on flat areas.",
            "discrete Laplace operator",
            (
                Parameter(
                    "neighbours", int, 4, 4, 8, "4 (cross) or 8 (with diagonals)", choices=(4, 8)
                ),
            ),
            _laplacian,
            "laplacian:neighbours=8",
        ),
        Family(
            "unsharp",
            "Unsharp mask: the image plus amount x (image - Gaussian blur); sums to 1.",
            "unsharp masking (as GIMP's and ImageMagick's -unsharp)",
            (
                _SIGMA,
                Parameter("amount", float, 1.0, 0, 100, "strength of the sharpening"),
                _ODD_SIZE,
            ),
            _unsharp,
            "unsharp:sigma=1.5,amount=0.8",
        ),
    ]
}
