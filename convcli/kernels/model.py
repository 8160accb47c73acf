"""What a kernel is: :class:`Kernel`, the limits every kernel obeys, and kernel arithmetic.

Everything else in :mod:`convcli.kernels` produces a :class:`Kernel` (the
catalogue, the families, the spec syntax, the file readers); this module
depends on none of them, so they can all depend on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import ArrayLike

from ..errors import KernelError

MAX_SIDE = 255  # rows or columns of a kernel
MAX_VALUE = 1e6  # largest magnitude of a weight (and of a file's scale or offset)


def weight_dtype(source: np.dtype) -> type[np.floating]:
    """float32 for float32 and float16 sources, float64 for everything else.

    A single-precision source has no more precision than float32 to keep, and
    the engine picks its working precision (and its separability tolerance)
    from the kernel's dtype; widening it to float64 would hide that.
    """
    return np.float32 if source.kind == "f" and source.itemsize <= 4 else np.float64


@dataclass(frozen=True, eq=False, init=False)
class Kernel:
    """A named 2-D weight matrix, applied without flipping (cross-correlation).

    ``weights`` is any array-like; it is copied into a read-only array that is
    float32 if the source is a float32 (or float16) array, and float64 otherwise
    (lists, integers, float64 arrays).

    >>> Kernel("k", np.ones((1, 2), dtype=np.float32), "two taps").weights.dtype
    dtype('float32')
    >>> Kernel("k", [[1, 2]], "two taps").weights.dtype
    dtype('float64')
    """

    name: str
    weights: np.ndarray
    description: str
    source: str = ""
    scale: float = 1.0  # the result of this kernel is divided by it (libvips, Pillow)
    offset: float = 0.0  # and then this is added
    warnings: tuple[str, ...] = field(default=(), compare=False)

    def __init__(
        self,
        name: str,
        weights: ArrayLike,
        description: str,
        source: str = "",
        scale: float = 1.0,
        offset: float = 0.0,
        warnings: tuple[str, ...] = (),
    ) -> None:
        given = np.asarray(weights)
        array = np.array(given, dtype=weight_dtype(given.dtype))
        array.flags.writeable = False
        fields = dict(
            name=name,
            weights=array,
            description=description,
            source=source,
            scale=scale,
            offset=offset,
            warnings=warnings,
        )
        for key, value in fields.items():
            object.__setattr__(self, key, value)  # frozen: set once, here

    @property
    def shape(self) -> tuple[int, int]:
        rows, cols = self.weights.shape
        return int(rows), int(cols)


def separate(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``(column, row)`` with ``np.outer(column, row) ≈ weights``, or None if not rank 1.

    A separable kernel is two 1-D passes instead of one 2-D pass (k+k taps
    instead of k*k). The engine's own rule decides (:func:`convcli.engine.decompose.separate`:
    SVD, with a tolerance set by the weights' precision), so ``convcli kernels``
    and the engine always agree. An all-zero kernel is not separable.
    """
    from ..engine import decompose

    return decompose.separate(np.asarray(weights))


def prepare(kernel: Kernel, *, normalize: bool = False, flip: bool = False) -> Kernel:
    """Kernel arithmetic applied to one kernel before it is used.

    ``normalize`` divides the weights by their sum (so a flat image keeps its
    brightness) and replaces any ``scale`` the kernel file gave; a kernel whose
    weights sum to zero cannot be normalised. ``flip`` rotates the weights by
    180 degrees, turning the engine's cross-correlation into a true convolution.
    Both keep the weights' dtype.

    >>> prepare(Kernel("row", [[1, 2, 3]], "a row"), flip=True).weights.tolist()
    [[3.0, 2.0, 1.0]]
    """
    weights, scale, name = kernel.weights, kernel.scale, kernel.name
    if normalize:
        total = float(weights.sum())
        if abs(total) <= 1e-9 * float(np.abs(weights).sum()) or total == 0:
            raise KernelError(
                f"cannot normalize {kernel.name!r}: its weights sum to 0 "
                "(edge kernels do; use --scale instead)"
            )
        weights, scale, name = weights / total, 1.0, f"{name} (normalized)"
    if flip:
        weights, name = weights[::-1, ::-1], f"{name} (flipped)"
    if weights is kernel.weights and scale == kernel.scale:
        return kernel
    return replace(kernel, name=name, weights=weights, scale=scale)
