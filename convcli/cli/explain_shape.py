"""The output-size arithmetic ``convcli explain`` prints, with the user's numbers.

Every number is :class:`convcli.engine.Geometry`'s; the formulas are
TensorFlow's rules written out (``224 - 3 + 1 = 222``; for ``same`` with a
stride, ``ceil(n / s)`` and ``max((out-1)*s + span - n, 0)``), so a learner
can redo them by hand. The tests evaluate each formula and compare.
"""

from __future__ import annotations

import textwrap

from ..engine import Geometry

__all__ = ["axis_formula", "axis_terms", "shape_lines", "why"]


def shape_lines(
    geo: Geometry,
    image_shape: tuple[int, int],
    pads: tuple[tuple[int, int], tuple[int, int]],
    times: str = "×",
    width: int = 75,
) -> list[str]:
    """The output size per axis with the user's numbers, then why, then the size.

    Each formula ends ``= N`` with ``N`` the engine's own output size (tests
    evaluate the formula and compare)."""
    out_shape = geo.output_shape(image_shape)
    body = []
    for axis, name, sides in (
        (0, "rows:   ", ("above", "below")),
        (1, "columns:", ("left", "right")),
    ):
        formula = axis_formula(geo, axis, image_shape[axis], out_shape[axis])
        before, after = pads[axis]
        if geo.padding != "valid":
            formula += f": {before} {sides[0]}, {after} {sides[1]}"
        body.extend(_clauses(name, formula.split("; "), width))
    body.extend(textwrap.wrap(why(geo, pads), width, break_on_hyphens=False))
    h, w = out_shape
    body.append(f"output: {w}{times}{h} (width {times} height)")
    return body


def _clauses(name: str, clauses: list[str], width: int) -> list[str]:
    """``name clause; clause; ...``, broken only between clauses (formulas stay whole)."""
    lines, line = [], name
    for i, clause in enumerate(clauses):
        piece = clause + (";" if i < len(clauses) - 1 else "")
        if line.strip() and len(line) + 1 + len(piece) > width and line != name:
            lines.append(line)
            line = " " * len(name)
        line += " " + piece
    return [*lines, line]


def axis_formula(geo: Geometry, axis: int, n: int, out: int) -> str:
    """One axis's output size as arithmetic on the user's numbers, ``... = out; ...``."""
    parts = []
    for label, expression, value in axis_terms(geo, axis, n):
        if label == "stays":
            parts.append(f"{expression} stays {value}")
        else:
            parts.append(f"{label}{expression} = {value}")
    text = "; ".join(parts)
    return text + ("; padding" if geo.padding == "full" else "")


def axis_terms(geo: Geometry, axis: int, n: int) -> list[tuple[str, str, int]]:
    """``(label, expression, value)`` clauses: the span, the output size, the padding.

    Every value is the engine's (:class:`Geometry`); the expression is the
    rule written with the user's numbers (tests evaluate it)."""
    k, s, d = geo.kernel_shape[axis], geo.stride[axis], geo.dilation[axis]
    span = geo.span[axis]
    out = geo.output_shape((n, n))[axis]
    pad = sum(geo.pads((n, n))[axis])
    terms = [] if d == 1 else [("span ", f"{d}*({k} - 1) + 1", span)]
    if geo.padding == "valid":
        size = f"{n} - {span} + 1" if s == 1 else f"floor(({n} - {span}) / {s}) + 1"
        return [*terms, ("", size, out)]
    if geo.padding == "full":
        size = (
            f"{n} + {span} - 1" if s == 1 else f"floor(({n} + 2*({span} - 1) - {span}) / {s}) + 1"
        )
        return [*terms, ("", size, out)]
    if s == 1:
        return [*terms, ("stays", f"{n}", out), ("padding ", f"{span} - 1", pad)]
    return [
        *terms,
        ("", f"ceil({n} / {s})", out),
        ("padding ", f"max(({out} - 1)*{s} + {span} - {n}, 0)", pad),
    ]


def why(geo: Geometry, pads: tuple[tuple[int, int], tuple[int, int]]) -> str:
    """The rule behind the formulas, in words."""
    s = geo.stride
    step = str(s[0]) if s[0] == s[1] else f"{s[0]} rows, {s[1]} columns"
    moves = "" if s == (1, 1) else f", moving {step} pixels at a time"
    if geo.padding == "valid":
        return (
            "valid: no padding, so the window sits only where it lies wholly inside the "
            f"image{moves}."
        )
    if geo.padding == "full":
        return (
            "full: span - 1 cells of padding on every side, so every position where the "
            f"kernel overlaps the image at all gives an output pixel{moves}."
        )
    uneven = any(before != after for before, after in pads)
    text = "same: padding so that each axis keeps ceil(n / stride) pixels"
    if s != (1, 1):
        text += " (with a stride, how much padding depends on the image size)"
    text += "; split as TensorFlow splits it, half before and the rest after"
    if uneven:
        text += ", so the odd cell goes below and right"
    return text + "."
