"""Separability: the one rule that says whether a kernel is a sum of 1-D passes.

A kernel of rank ``r`` is ``Σ outer(column_t, row_t)`` over ``r`` terms, so
``r`` pairs of 1-D passes (``r·(kh + kw)`` taps) can stand in for one 2-D pass
(``kh·kw`` taps). The rank is judged by SVD with numpy.linalg.matrix_rank's
cut-off: singular values up to ``σ₀ · max(kh, kw) · ε`` are rounding noise,
where ``ε`` is the precision the kernel *came in*: ``finfo(float32).eps`` for
a float32 kernel (a float32 Gaussian carries float32 rounding, about 1e-7,
which a float64 cut-off would read as real rank), float64's otherwise. The
terms then reproduce the kernel within the tolerance of the direct sum.

``convcli kernels`` (:func:`separate`) and the engine's cost model
(:func:`terms`) both ask here, so they cannot disagree.
"""

from __future__ import annotations

import functools

import numpy as np

__all__ = ["Terms", "all_terms", "epsilon", "rank", "separate", "terms"]

Terms = list[tuple[np.ndarray, np.ndarray]]


def epsilon(dtype: np.dtype) -> float:
    """The relative precision of weights stored as ``dtype``: float16/32 their own, else float64.

    >>> epsilon(np.dtype(np.float32)) > 1e-8 > epsilon(np.dtype(np.int64))
    True
    """
    if dtype.kind == "f" and dtype.itemsize < 8:
        return float(np.finfo(dtype).eps)
    return float(np.finfo(np.float64).eps)


def rank(weights: np.ndarray) -> int:
    """The kernel's rank, counting only singular values above its precision's noise."""
    return _decompose(weights)[0]


def separate(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``(column, row)`` with ``np.outer(column, row) ≈ weights`` if the rank is 1, else None.

    The parts are the pivot column (scaled to 1 at the pivot) and the pivot
    row, so dyadic weights such as ``blur``'s split exactly. An all-zero
    kernel is not separable (there is nothing to separate); a single row or
    column is (trivially).

    >>> column, row = separate(np.array([[1.0, 2.0, 1.0], [2.0, 4.0, 2.0]]))
    >>> column.tolist(), row.tolist()
    ([0.5, 1.0], [2.0, 4.0, 2.0])
    """
    found = _decompose(weights)
    return found[1][0] if found[0] == 1 else None


def terms(weights: np.ndarray) -> Terms | None:
    """``[(column, row), ...]`` summing to ``weights``, when fewer than full rank (a gain).

    None for a full-rank kernel, a single row or column, or all zeros. The
    arrays are float64 and read-only (they are cached: a batch filters every
    image with one kernel, and an SVD costs more than a small image's band).
    """
    count, found = _decompose(weights)
    kh, kw = np.shape(weights)
    if count == 0 or count >= min(kh, kw):
        return None
    return list(found)


def all_terms(weights: np.ndarray) -> Terms:
    """Every SVD component, even for a full-rank kernel (the forced ``separable`` strategy)."""
    kernel = np.asarray(weights, dtype=np.float64)
    u, s, vt = np.linalg.svd(kernel)
    return [(u[:, t] * s[t], vt[t]) for t in range(s.size)]


def _decompose(weights: np.ndarray) -> tuple[int, tuple[tuple[np.ndarray, np.ndarray], ...]]:
    array = np.ascontiguousarray(weights)
    if array.ndim != 2:
        raise ValueError(f"weights must be 2-D, got shape {array.shape}")
    return _cached(array.tobytes(), array.shape, array.dtype.str)


@functools.lru_cache(maxsize=64)
def _cached(
    data: bytes, shape: tuple[int, ...], dtype: str
) -> tuple[int, tuple[tuple[np.ndarray, np.ndarray], ...]]:
    original = np.frombuffer(data, dtype=np.dtype(dtype)).reshape(shape)
    kernel = original.astype(np.float64)
    if not kernel.any():
        return 0, ()
    u, s, vt = np.linalg.svd(kernel)
    count = int((s > s[0] * max(kernel.shape) * epsilon(original.dtype)).sum())
    if count == 1:
        i, j = np.unravel_index(np.argmax(np.abs(kernel)), kernel.shape)
        found = [(kernel[:, j] / kernel[i, j], kernel[i, :].copy())]
    else:
        found = [(u[:, t] * s[t], vt[t].copy()) for t in range(count)]
    for column, row in found:
        column.flags.writeable = row.flags.writeable = False
    return count, tuple(found)
