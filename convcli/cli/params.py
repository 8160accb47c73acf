"""Option types and the options commands share: Click validates here, so a bad
command line exits 2 before any file is touched."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from ..engine import BORDERS, PADDINGS
from ..errors import KernelError
from ..kernels import KERNELS, MAX_VALUE, Kernel, parse_kernel, parse_number
from ..kernels.banks import BANK_SUFFIXES, Bank, load_bank, names_bank
from ..limits import MAX_PIXELS, MAX_PIXELS_CEILING
from ..pipeline import RANGES

if TYPE_CHECKING:
    from click.shell_completion import CompletionItem

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


def _all(*decorators: Decorator) -> Decorator:
    """Several options as one decorator, listed in ``--help`` in the order given."""

    def apply(command: Callable[..., Any]) -> Callable[..., Any]:
        for decorator in reversed(decorators):
            command = decorator(command)
        return command

    return apply


def kernel_arithmetic_options(each: str = "each kernel") -> Decorator:
    """``--normalize``, ``--flip``, ``--scale`` and ``--offset``, for every command that
    filters: one definition, so their meaning cannot differ between commands."""
    return _all(
        click.option("--normalize", is_flag=True, help=f"Divide {each} by the sum of its weights."),
        click.option(
            "--flip", is_flag=True, help=f"Rotate {each} by 180 degrees (a true convolution)."
        ),
        click.option(
            "--scale",
            type=Number(nonzero=True),
            default=1.0,
            help="Divide the result by this number, e.g. 16 or 1/16 (after every kernel).",
        ),
        click.option(
            "--offset",
            type=Number(),
            default=0.0,
            help="Then add this number, e.g. 128 to see both signs of an edge kernel.",
        ),
    )


def reading_limit_options() -> Decorator:
    """``--max-pixels`` and ``--background``: how an input is read, the same everywhere."""
    return _all(
        click.option(
            "--max-pixels",
            type=click.IntRange(1, MAX_PIXELS_CEILING),
            default=MAX_PIXELS,
            show_default=True,
            help="Refuse, unread, inputs whose header declares more pixels (decompression bombs).",
        ),
        click.option(
            "--background",
            type=Background(),
            default="white",
            show_default=True,
            help="What transparency is flattened over: a gray level 0-255 or a colour name.",
        ),
    )


def color_option(help: str) -> Decorator:
    return click.option("--color", "--colour", "color", is_flag=True, help=help)


def size_option(help: str) -> Decorator:
    return click.option("-s", "--size", type=Size(), default=None, metavar="WxH", help=help)


# Suffixes of pictures, for the hint when -k is given an image (no Pillow needed).
_IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".jpe", ".png", ".gif", ".bmp", ".tif", ".tiff", ".webp"}
    | {".ppm", ".pgm", ".pbm", ".pnm", ".heic"}
)


class FilePath(click.Path):
    """``click.Path`` that refuses an empty argument and keeps ``-`` as ``"-"``.

    ``''`` is what an unset shell variable gives (``convcli apply -k blur
    "$IN" out.png``); ``pathlib`` would read it as ``.``, the current folder,
    and filter every image in it or write ``./in.png``.
    """

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if value == "-":  # stdin or stdout, kept apart from a file called '-' (./-)
            return "-"
        if isinstance(value, str) and value == "":
            self.fail(
                "is empty (an unset shell variable?); write '.' for the current folder",
                param,
                ctx,
            )
        return super().convert(value, param, ctx)


class KernelSpec(click.ParamType):
    """A kernel spec: name, name:key=value, file or inline matrix (``parse_kernel``),
    or a 4-D filter bank file (``.npy``, ``.npz``, ``.safetensors``, ``FILE#NAME``).

    Two common slips get their own message: ``--kernel=blur,sharpen`` (one
    kernel per ``-k``: repeat it) and an image right after ``-k`` (the kernel
    is missing: ``-k in.jpg out.png``). Shell completion offers the built-in
    names, the families (``gaussian:``) and kernel and bank files.
    """

    name = "kernel"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> Kernel | Bank:
        if isinstance(value, (Kernel, Bank)):
            return value
        try:
            return load_bank(value) if names_bank(value) else parse_kernel(value)
        except KernelError as exc:
            self.fail(_slip(str(value)) or str(exc), param, ctx)

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[CompletionItem]:
        from click.shell_completion import CompletionItem

        return [CompletionItem(value) for value in kernel_completions(incomplete)]


def _slip(value: str) -> str | None:
    """The message for a spec that is a known slip, not a kernel at all."""
    text = value.strip()
    parts = [p.strip() for p in text.split(",")]
    if len(parts) > 1 and all(_is_named(p) for p in parts):
        again = " ".join(f"-k {p}" for p in parts)
        return f"{text!r}: one kernel per -k; to apply several in order, repeat it: {again}"
    if os.path.splitext(text)[1].lower() in _IMAGE_SUFFIXES:
        return (
            f"{text!r} is an image, not a kernel: the kernel is missing after -k "
            "(e.g. 'convcli apply -k sharpen in.jpg out.png'; see 'convcli kernels')"
        )
    return None


def _is_named(part: str) -> bool:
    """``blur`` or ``gaussian:sigma=2``: a built-in or a family, by name."""
    from ..kernels import FAMILIES  # only for a failed spec

    name = part.partition(":")[0].strip().lower()
    if not name or (name not in KERNELS and name not in FAMILIES):
        return False
    try:
        parse_kernel(part)
    except KernelError:
        return False
    return True


def kernel_completions(incomplete: str) -> list[str]:
    """What ``-k <TAB>`` offers: built-in names, families as ``name:``, kernel
    files and folders under the typed path (hidden ones only if asked for)."""
    from ..kernels import FAMILIES, KERNEL_FILE_SUFFIXES

    kernel_files = {*KERNEL_FILE_SUFFIXES, *BANK_SUFFIXES}
    lowered = incomplete.lower()
    names = [
        n for n in [*KERNELS, *FAMILIES, *(f"{f}:" for f in FAMILIES)] if n.startswith(lowered)
    ]
    folder, _, start = incomplete.rpartition("/")
    where = (folder or "/") if incomplete.startswith("/") else (folder or ".")
    files = []
    try:
        with os.scandir(os.path.expanduser(where)) as entries:
            for entry in entries:
                if not entry.name.startswith(start) or (
                    entry.name.startswith(".") and not start.startswith(".")
                ):
                    continue
                shown = (
                    f"{folder}/{entry.name}" if folder or incomplete.startswith("/") else entry.name
                )
                if entry.is_dir():
                    files.append(shown + "/")
                elif os.path.splitext(entry.name)[1].lower() in kernel_files:
                    files.append(shown)
    except OSError:
        pass
    return sorted(dict.fromkeys(names)) + sorted(files)


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
    """``WxH`` or ``N`` (square) as ``(width, height)``; or, as ImageMagick's
    geometry, ``224x`` (width 224), ``x224`` (height 224), keeping the aspect
    ratio, or ``50%``: a :class:`~convcli.imageio.sizes.Resize`."""

    name = "WxH"
    _pattern = re.compile(r"^\s*(\d+)\s*(?:[xX×]\s*(\d+))?\s*$")
    _one_side = re.compile(r"^\s*(?:(\d+)\s*[xX×]|[xX×]\s*(\d+))\s*$")
    _percent = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from ..imageio.sizes import Resize

        if isinstance(value, (tuple, Resize)):
            return value
        text = str(value)
        if match := self._one_side.match(text):
            side = int(match.group(1) or match.group(2))
            if not 1 <= side <= 65535:
                self.fail(f"{value!r}: the side must be between 1 and 65535", param, ctx)
            return Resize(width=side) if match.group(1) else Resize(height=side)
        if match := self._percent.match(text):
            percent = float(match.group(1))
            if not 0 < percent <= 1000:
                self.fail(f"{value!r}: the percentage must be above 0 and at most 1000", param, ctx)
            return Resize(percent=percent)
        match = self._pattern.match(text)
        if not match:
            self.fail(
                f"{value!r} is not a size; use WxH (224x224), N for NxN, 224x or x224 "
                "(one side, keeping the shape) or 50%",
                param,
                ctx,
            )
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
