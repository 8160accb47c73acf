"""The strict number syntax and the checks every weight passes, shared by all spec kinds.

Parsing never evaluates anything: numbers are ASCII decimals, scientific
notation or fractions (``1/16``, through :class:`fractions.Fraction`); every
value is finite with magnitude at most :data:`MAX_VALUE`; each side is at most
:data:`MAX_SIDE`. Both the inline syntax and the file readers build their
kernels through :func:`checked_kernel`, so the rules are written once.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

from ..errors import KernelError
from .model import MAX_SIDE, MAX_VALUE, Kernel, weight_dtype

# ASCII only (str patterns match any Unicode digit with \d, so spell it out).
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
FRACTION = re.compile(r"([+-]?[0-9]+)/([0-9]+)")
_INTEGER = re.compile(r"[+-]?[0-9]+")
SEPARATORS = re.compile(r"[ \t]*,[ \t]*|[ \t]+")  # commas or runs of spaces/tabs


def to_number(token: str) -> float | None:
    """An ASCII decimal, scientific or fraction token as a float; None if it is not one.

    Never ``eval``; no ``1_0``, no non-Latin digits, no ``nan``/``inf``.
    A huge exponent becomes infinity, which the range check then refuses.
    """
    if _DECIMAL.fullmatch(token):
        return float(token)
    match = FRACTION.fullmatch(token)
    if match and int(match.group(2)) != 0:
        from fractions import Fraction  # with decimal, ~5 ms that most runs never need

        return float(Fraction(int(match.group(1)), int(match.group(2))))
    return None


def parse_number(token: str) -> float | None:
    """Public form of the strict number syntax, for options such as ``--scale 1/16``."""
    return to_number(token)


def to_integer(token: str) -> int | None:
    return int(token) if _INTEGER.fullmatch(token) and len(token) < 10 else None


def to_weight(token: str, where: str) -> float:
    value = to_number(token)
    if value is None:
        if token.lower().lstrip("+-") in ("nan", "inf", "infinity"):
            raise KernelError(f"{where}: NaN and infinity are not allowed, got {token!r}")
        if FRACTION.fullmatch(token):
            raise KernelError(f"{where}: division by zero in {token!r}")
        raise KernelError(f"{where}: {token!r} is not a number")
    check_magnitude(value, token, where)
    return value


def check_magnitude(value: float, shown: Any, where: str) -> None:
    if not math.isfinite(value) or abs(value) > MAX_VALUE:
        raise KernelError(f"{where}: {shown} is too large (the limit is 1e6 in magnitude)")


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def to_row(text: str, where: str) -> list[float]:
    tokens = SEPARATORS.split(text.strip(" \t"))
    for token in tokens:
        if not token:
            raise KernelError(f"{where}: empty value (two commas in a row?)")
    return [to_weight(token, where) for token in tokens]


def checked_kernel(
    rows: list[list[float]] | np.ndarray,
    name: str,
    source: str,
    *,
    where: str,
    scale: float = 1.0,
    offset: float = 0.0,
) -> Kernel:
    """Shape, finiteness and magnitude checks shared by every kind of spec."""
    if isinstance(rows, list):
        lengths = {len(r) for r in rows}
        if len(lengths) > 1:
            for i, row in enumerate(rows[1:], 2):
                if len(row) != len(rows[0]):
                    raise KernelError(
                        f"{where}: row {i} has {plural(len(row), 'value')}, expected {len(rows[0])}"
                    )
        if not rows or not rows[0]:
            raise KernelError(f"{where}: empty kernel")
    if isinstance(rows, np.ndarray):
        weights = rows.astype(weight_dtype(rows.dtype), copy=False)
    else:
        weights = np.asarray(rows, dtype=np.float64)
    if max(weights.shape) > MAX_SIDE:
        raise KernelError(
            f"{where}: kernel is {weights.shape[0]}x{weights.shape[1]}, larger than the "
            f"{MAX_SIDE}x{MAX_SIDE} maximum"
        )
    bad = ~np.isfinite(weights) | (np.abs(weights) > MAX_VALUE)
    if bad.any():
        r, c = (int(i) for i in np.argwhere(bad)[0])
        raise KernelError(
            f"{where}: row {r + 1}, column {c + 1} is {weights[r, c]:g}; values must be "
            f"finite and at most 1e6 in magnitude"
        )
    warnings: tuple[str, ...] = ()
    if not weights.any():
        warnings = (f"{where}: kernel is all zeros; the result is flat (only offsets remain)",)
    return Kernel(
        name,
        weights,
        f"user kernel ({source})",
        source,
        scale=scale,
        offset=offset,
        warnings=warnings,
    )
