"""Option types and the options commands share: Click validates here, so a bad
command line exits 2 before any file is touched."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import click

from ..engine import BORDERS, PADDINGS
from ..errors import KernelError
from ..kernels import MAX_VALUE, Kernel, parse_kernel, parse_number
from ..kernels.banks import Bank, load_bank, names_bank
from ..pipeline import RANGES

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def padding_option(default: str, help: str) -> Decorator:
    return click.option(
        "-p",
        "--padding",
        type=click.Choice(PADDINGS, case_sensitive=False),
        default=default,
        show_default=True,
        help=help,
    )


def border_option(help: str) -> Decorator:
    return click.option(
        "-b",
        "--border",
        type=click.Choice(BORDERS, case_sensitive=False),
        default="zero",
        show_default=True,
        help=help,
    )


def range_option(help: str) -> Decorator:
    return click.option(
        "--range",
        "value_range",
        type=click.Choice(RANGES, case_sensitive=False),
        default="clip",
        show_default=True,
        help=help,
    )


def color_option(help: str) -> Decorator:
    return click.option("--color", "--colour", "color", is_flag=True, help=help)


def size_option(help: str) -> Decorator:
    return click.option("-s", "--size", type=Size(), default=None, metavar="WxH", help=help)


class KernelSpec(click.ParamType):
    """A kernel spec: name, name:key=value, file or inline matrix (``parse_kernel``),
    or a 4-D filter bank file (``.npy``, ``.npz``, ``.safetensors``, ``FILE#NAME``)."""

    name = "kernel"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> Kernel | Bank:
        if isinstance(value, (Kernel, Bank)):
            return value
        try:
            return load_bank(value) if names_bank(value) else parse_kernel(value)
        except KernelError as exc:
            self.fail(str(exc), param, ctx)


class Number(click.ParamType):
    """A finite number written as kernel values are: ``16``, ``-0.5``, ``1/16``, ``1e-3``."""

    name = "number"

    def __init__(self, *, nonzero: bool = False) -> None:
        self.nonzero = nonzero

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        if isinstance(value, float):
            return value
        number = parse_number(str(value).strip())
        if number is None or not math.isfinite(number) or abs(number) > MAX_VALUE:
            self.fail(f"{value!r} is not a finite number such as 16, -0.5 or 1/16", param, ctx)
        if self.nonzero and number == 0:
            self.fail("must not be 0", param, ctx)
        return number


class Size(click.ParamType):
    """``WxH`` or ``N`` (square), positive integers, as ``(width, height)``."""

    name = "WxH"
    _pattern = re.compile(r"^\s*(\d+)\s*(?:[xX×]\s*(\d+))?\s*$")

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[int, int]:
        if isinstance(value, tuple):
            return value
        match = self._pattern.match(str(value))
        if not match:
            self.fail(f"{value!r} is not a size; use WxH (e.g. 224x224) or N for NxN", param, ctx)
        width = int(match.group(1))
        height = int(match.group(2) or width)
        if not (1 <= width <= 65535 and 1 <= height <= 65535):
            self.fail(f"{value!r}: width and height must be between 1 and 65535", param, ctx)
        return width, height


class Background(click.ParamType):
    """``--background``: a gray level 0-255 or a colour name Pillow knows."""

    name = "colour"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[int, int, int]:
        if isinstance(value, tuple):
            return value
        from ..imageio import parse_background  # Pillow's colour names, only when asked

        try:
            return parse_background(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)
