"""The options that make ``apply`` and ``gallery`` a CNN layer: stride, dilation,
filter banks' layout, bias, combine, activation and pooling.

Click validates each value here (exit 2 before any file is touched); the
steps themselves are built by :meth:`convcli.options.Options.build`, in the
layer's fixed order: convolution -> bias -> combine -> activation -> pool.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import click

from ..engine.pool import POOLS
from ..errors import KernelError
from ..kernels.banks import LAYOUTS, parse_vector
from ..steps import ACTIVATIONS, COMBINES, Pool

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]

LAYER_OPTIONS = ("stride", "dilation", "layout", "bias", "combine", "activation", "pool")


class StepPair(click.ParamType):
    """``N`` or ``ROWS,COLS``: positive integers, as ``(rows, cols)``."""

    name = "N|ROWS,COLS"
    _pattern = re.compile(r"^\s*(\d+)\s*(?:,\s*(\d+))?\s*$")

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[int, int]:
        if isinstance(value, tuple):
            return value
        match = self._pattern.match(str(value))
        if not match or int(match.group(1)) < 1 or int(match.group(2) or 1) < 1:
            self.fail(f"{value!r} is not a positive N or ROWS,COLS (e.g. 2 or 2,1)", param, ctx)
        rows = int(match.group(1))
        return rows, int(match.group(2) or rows)


class BiasSpec(click.ParamType):
    """``--bias``: comma-separated numbers, or an array file ``FILE[#NAME]``."""

    name = "VALUES|FILE"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[float, ...]:
        if isinstance(value, tuple):
            return value
        try:
            return tuple(float(v) for v in parse_vector(str(value)))
        except KernelError as exc:
            self.fail(str(exc), param, ctx)


class PoolSpec(click.ParamType):
    """``max|avg[:size=N,stride=N,padding=valid|same]`` (``N`` or ``RxC``)."""

    name = "max|avg[:size=N,stride=N,padding=P]"
    _pair = re.compile(r"^(\d+)(?:[xX](\d+))?$")

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Pool:
        if isinstance(value, Pool):
            return value
        kind, _, rest = str(value).strip().partition(":")
        if kind.lower() not in POOLS:
            self.fail(
                f"{value!r}: the pool is max or avg, e.g. max or avg:size=3,stride=2", param, ctx
            )
        fields: dict[str, Any] = {}
        for item in filter(None, (part.strip() for part in rest.split(","))):
            key, eq, text = item.partition("=")
            key = key.strip().lower()
            if not eq or key not in ("size", "stride", "padding") or key in fields:
                self.fail(
                    f"{value!r}: {item!r} is not size=N, stride=N or padding=valid|same", param, ctx
                )
            text = text.strip().lower()
            if key == "padding":
                if text not in ("valid", "same"):
                    self.fail(f"{value!r}: pool padding is valid or same", param, ctx)
                fields[key] = text
                continue
            match = self._pair.match(text)
            if not match or int(match.group(1)) < 1 or int(match.group(2) or 1) < 1:
                self.fail(f"{value!r}: {key} must be a positive N or RxC", param, ctx)
            rows = int(match.group(1))
            fields[key] = (rows, int(match.group(2) or rows))
        return Pool(kind.lower(), **fields)


def layer_options(*, gallery: bool = False, explain: bool = False) -> Decorator:
    """The seven options, for ``apply`` (and, with the same meaning, ``gallery``).

    ``explain`` takes apart one window of one 2-D kernel: it keeps ``--layout``,
    ``--combine`` and ``--pool`` out of its help but still accepts them, so that
    it can refuse them with a message that says why.
    """
    where = "each tile" if gallery else "the result"
    bias_help = (
        "One value (or a one-value array FILE[#NAME]) added after the convolution."
        if explain
        else "Values (0.1,-0.2,...) or an array FILE[#NAME], one per map, added after "
        "the convolution."
    )
    options = [
        click.option(
            "--stride",
            type=StepPair(),
            default="1",
            show_default=True,
            help="Steps between output pixels (N or ROWS,COLS): TensorFlow's strides; "
            "same padding gives ceil(n/s) pixels.",
        ),
        click.option(
            "--dilation",
            type=StepPair(),
            default="1",
            show_default=True,
            help="Steps between the kernel's taps (N or ROWS,COLS), as TensorFlow's dilations.",
        ),
        click.option(
            "--layout",
            type=click.Choice(LAYOUTS, case_sensitive=False),
            default="hwio",
            show_default=True,
            hidden=explain,
            help="A 4-D bank's axes: hwio (kh, kw, C_in, C_out: Keras, TensorFlow) or "
            "oihw (C_out, C_in, kh, kw: PyTorch).",
        ),
        click.option(
            "--bias",
            type=BiasSpec(),
            default=None,
            help=bias_help,
        ),
        click.option(
            "--combine",
            type=click.Choice(COMBINES, case_sensitive=False),
            default=None,
            hidden=explain,
            help="Apply the -k kernels (or a bank's maps) side by side and combine them: "
            "magnitude (sqrt of the sum of squares), max, sum, min, or maps (keep each).",
        ),
        click.option(
            "--activation",
            type=click.Choice(ACTIVATIONS, case_sensitive=False),
            default=None,
            help="relu: negative values become 0 (after the bias).",
        ),
        click.option(
            "--pool",
            type=PoolSpec(),
            default=None,
            hidden=explain,
            help=f"max|avg[:size=2,stride=size,padding=valid|same]: TensorFlow's MaxPool2D/"
            f"AveragePooling2D over {where}, after --activation and before --scale/--offset.",
        ),
    ]

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


def layer_settings(values: dict[str, Any]) -> dict[str, Any]:
    """The seven options as :meth:`Options.build` keywords (lower-cased choices)."""
    return {
        "stride": values["stride"],
        "dilation": values["dilation"],
        "layout": values["layout"].lower(),
        "bias": values["bias"],
        "combine": values["combine"].lower() if values["combine"] else None,
        "activation": values["activation"].lower() if values["activation"] else None,
        "pool": values["pool"],
    }
