"""``convcli kernels``: the registry drawn as coloured grids, with what each kernel is."""

from __future__ import annotations

import math
from fractions import Fraction

import click
import numpy as np
from rich.console import Console
from rich.style import Style
from rich.table import Table
from rich.text import Text

from ..errors import KernelError
from ..kernels import FAMILIES, KERNELS, Kernel, separate
from ..kernels.banks import Bank, parse_filter
from . import common
from .streams import can_encode


@click.command()
@click.argument("name", required=False)
def kernels(name: str | None) -> None:
    """List the built-in kernels, or show one in full with NAME.

    Each matrix is drawn as a grid: positive weights blue, negative red, the
    deeper the colour the larger the weight. Weights are exact fractions
    where they have a small denominator (the denominator is factored out
    below the grid). Below each: whether
    the weights sum to 1 (brightness kept), to 0 (an edge detector) or
    neither, and whether the kernel is separable into two 1-D passes.
    """
    out = common.stdout()
    plain = not can_encode("×ᵀ", out.file)  # an ASCII or latin-1 stream: ASCII symbols
    if name is None:
        table = Table(
            title="Built-in kernels (applied without flipping)",
            caption=_legend(),
            show_lines=True,
        )
        table.add_column("kernel", no_wrap=True)
        table.add_column("weights", no_wrap=True)
        table.add_column("what it does", overflow="fold")
        for kernel in KERNELS.values():
            table.add_row(
                Text.assemble((kernel.name, "bold"), "\n", (_size(kernel), "dim")),
                grid(kernel.weights, ascii=plain),
                Text("\n").join(
                    [Text(kernel.description), *properties(kernel.weights, ascii=plain)]
                ),
            )
        out.print(table)
        _print_families(out, ascii=plain)
        return
    try:
        spec = parse_filter(name)
    except KernelError as exc:
        raise click.BadParameter(str(exc), param_hint="NAME") from None
    if isinstance(spec, Bank):  # 4-D: no grid to draw, but say what it is and where to look
        raise click.BadParameter(
            f"{spec.source}: a filter bank of shape {spec.weights.shape}, not a 2-D kernel; "
            f"see its maps with 'convcli gallery -k {name} IMAGE sheet.png'",
            param_hint="NAME",
        )
    kernel = spec
    out.print(Text.assemble((kernel.name, "bold"), f" ({_size(kernel)}): {kernel.description}"))
    if kernel.source:
        out.print(f"source: {kernel.source}")
    if (kernel.scale, kernel.offset) != (1, 0):
        out.print(f"scale {kernel.scale:g}, offset {kernel.offset:g}")
    out.print(grid(kernel.weights, max_width=out.width, ascii=plain))
    for line in properties(kernel.weights, ascii=plain):
        out.print(line)
    family = FAMILIES.get(name.strip().lower().partition(":")[0])
    if family is not None and name.strip().lower() not in KERNELS:
        out.print(f"parameters ({family.name}:key=value,...; e.g. {family.example}):")
        for parameter in family.params:
            out.print(f"  {parameter.describe()}", markup=False)
    out.print(_legend())


def _print_families(out: Console, *, ascii: bool) -> None:
    """The kernels that take parameters, from the registry's data, as a second table."""
    table = Table(
        title="Kernels with parameters: NAME:key=value,... (defaults where not given)",
        show_lines=True,
    )
    table.add_column("kernel", no_wrap=True)
    table.add_column("parameters", overflow="fold")
    table.add_column("with the defaults", overflow="fold")
    for family in FAMILIES.values():
        default = family.make({})
        table.add_row(
            Text.assemble((family.name, "bold"), "\n", (family.example, "dim")),
            Text("\n").join(
                [Text(family.description), *(Text(p.describe()) for p in family.params)]
            ),
            Text("\n").join(
                [
                    Text.assemble((default.name, "bold"), f" ({_size(default)})"),
                    *properties(default.weights, ascii=ascii),
                ]
            ),
        )
    out.print(table)
    out.print(
        "Also: a kernel file (.txt, .csv, .mat, .json, .npy) or an inline matrix such as "
        "'0,-1,0; -1,5,-1; 0,-1,0'. 'convcli kernels SPEC' draws any of them.",
        markup=False,
    )


def _size(kernel: Kernel) -> str:
    return f"{kernel.shape[0]}x{kernel.shape[1]}"


_POSITIVE = (17, 18, 19, 20, 21)  # xterm-256 blues, dark to bright
_NEGATIVE = (52, 88, 124, 160, 196)  # xterm-256 reds, dark to bright


def _legend() -> Text:
    """The colour scale, strongest negative to strongest positive, in words too."""
    return Text.assemble(
        ("weights: negative ", "dim"),
        *((" ", f"on color({code})") for code in reversed(_NEGATIVE)),
        ("  0  ", "dim"),
        *((" ", f"on color({code})") for code in _POSITIVE),
        (" positive; deeper colour, larger weight", "dim"),
    )


_GRID_MAX = 15  # widest matrix drawn cell by cell in the table; larger ones are summarised
_DRAW_MAX = 64  # widest matrix `convcli kernels SPEC` draws, in blocks of columns


def grid(weights: np.ndarray, max_width: int | None = None, *, ascii: bool = False) -> Text:
    """The matrix as coloured cells, values right-aligned, a common fraction factored out.

    Without ``max_width`` (a table cell) a matrix wider than ``_GRID_MAX`` is
    summarised. With it (one kernel shown in full), a matrix wider than
    ``max_width`` characters is drawn in blocks of whole columns, each headed
    by the columns it holds, as NumPy prints a wide array; only one larger
    than ``_DRAW_MAX`` on a side is summarised.
    """
    too_large = Text(
        f"{weights.shape[0]}x{weights.shape[1]}: too large to draw; weights from "
        f"{weights.min():.3g} to {weights.max():.3g}",
        style="italic",
    )
    if max(weights.shape) > (_GRID_MAX if max_width is None else _DRAW_MAX):
        return too_large
    scale = _common_denominator(weights)
    values = np.rint(weights * scale) if scale else weights
    cells = [[_number(v, exact=scale is not None) for v in row] for row in values]
    width = max(len(c) for row in cells for c in row)
    columns = weights.shape[1]
    fits = columns if max_width is None else max(1, max_width // (width + 2))
    blocks = math.ceil(columns / fits)
    per_block = math.ceil(columns / blocks)  # blocks of about equal width
    peak = float(np.abs(weights).max()) or 1.0
    grid = Text()
    for first in range(0, columns, per_block):
        last = min(columns, first + per_block)
        if blocks > 1:
            held = f"column {last}" if last == first + 1 else f"columns {first + 1}-{last}"
            grid.append("\n" if first else "")
            grid.append(f"{held} of {columns}:\n", style="dim")
        for r, row in enumerate(cells):
            if r:
                grid.append("\n")
            for c in range(first, last):
                grid.append(f" {row[c]:>{width}} ", style=_weight_style(weights[r, c] / peak))
    if scale and scale != 1:
        grid.append(f"\n{'x' if ascii else '×'} 1/{scale}")
    return grid


def _number(value: float, *, exact: bool) -> str:
    return f"{int(value)}" if exact else f"{value:.3g}"


def _weight_style(strength: float) -> Style:
    """Blue for positive, red for negative, five shades deep by ``|strength|`` (0..1).

    Shades come from the 256-colour cube's pure blue and red ramps, so a
    16-colour terminal still shows the sign (as plain blue and red).
    """
    if strength == 0:
        return Style(dim=True)
    ramp = _POSITIVE if strength > 0 else _NEGATIVE
    level = min(len(ramp) - 1, math.ceil(abs(strength) * len(ramp)) - 1)
    return Style(color="bright_white", bgcolor=f"color({ramp[level]})", bold=level >= 2)


def properties(weights: np.ndarray, *, ascii: bool = False) -> list[Text]:
    """Sum (normalised / zero-sum / neither) and separability, one line each.

    ``ascii``: write the transpose as ``^T`` (for a stream that cannot encode ``ᵀ``).
    """
    total = float(weights.sum())
    # float64 weights: 1e-9; float32 weights (a float32 .npy) round far more.
    precision = max(1e-9, 16 * float(np.finfo(weights.dtype).eps))
    tolerance = precision * max(1.0, float(np.abs(weights).sum()))
    if abs(total - 1) <= tolerance:
        kind = Text.assemble(("normalised", "bold"), " (sums to 1: brightness kept)")
    elif abs(total) <= tolerance:
        kind = Text.assemble(("zero-sum", "bold"), " (an edge detector: flat areas go black)")
    else:
        kind = Text.assemble(
            ("neither", "bold"), f" normalised nor zero-sum (sums to {_fraction(total)})"
        )
    parts = separate(weights)
    if parts is None:
        split = Text.assemble(("not separable", "bold"))
    else:
        split = Text.assemble(("separable", "bold"), f": {_factors(*parts, ascii=ascii)}")
    return [kind, split]


def _fraction(value: float) -> str:
    exact = Fraction(value).limit_denominator(4096)
    return str(exact) if abs(float(exact) - value) <= 1e-9 * max(1.0, abs(value)) else f"{value:g}"


def _factors(column: np.ndarray, row: np.ndarray, *, ascii: bool = False) -> str:
    """``column``ᵀ ``row`` (their outer product), scaled to read well.

    The column as small integers where it can be (``[1 2 1]ᵀ [1 2 1]/16``),
    else summing to 1 (a sampled Gaussian's own 1-D weights), else peaking at 1.
    """
    nonzero = np.abs(column) > 1e-12 * np.abs(column).max()
    unit = float(np.abs(column[nonzero]).min())
    if not np.allclose(column / unit, np.rint(column / unit), rtol=0, atol=1e-9):
        total = float(column.sum())
        unit = total if abs(total) > 1e-9 * np.abs(column).sum() else float(np.abs(column).max())
    column, row = column / unit, row * unit
    if round(column.sum(), 9) < 0 or (round(column.sum(), 9) == 0 and row.sum() < 0):
        column, row = -column, -row  # read the positive way round where there is one
    return f"{_vector(column)}{'^T' if ascii else 'ᵀ'} {_vector(row)}"


def _vector(values: np.ndarray) -> str:
    scale = _common_denominator(values)
    if scale is None:
        return "[" + " ".join(f"{v:.3g}" for v in values) + "]"
    body = "[" + " ".join(str(int(v)) for v in np.rint(values * scale)) + "]"
    return body if scale == 1 else f"{body}/{scale}"


def _common_denominator(weights: np.ndarray, limit: int = 4096) -> int | None:
    denominator = 1
    for value in weights.flat:
        denominator = np.lcm(
            denominator, Fraction(float(value)).limit_denominator(limit).denominator
        )
        if denominator > limit:
            return None
    scaled = weights * denominator
    return int(denominator) if np.allclose(scaled, np.rint(scaled), atol=1e-9) else None
