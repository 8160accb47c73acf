"""The built-in kernel catalogue and the parsing of ``--kernel`` specs.

Kernels are data: a name, the weights, a one-line description and where the
weights come from. ``convcli kernels`` only renders this registry.

A spec is one of (tried in this order):

* a built-in name, ``sharpen`` (case-insensitive);
* a parameterised built-in, ``gaussian:sigma=2,size=9`` (see :data:`FAMILIES`);
* a kernel file by path: text (``.txt``, ``.csv`` or no extension), libvips
  ``.mat``, ``.json`` or NumPy ``.npy``;
* an inline matrix, ``'0,-1,0; -1,5,-1; 0,-1,0'``.

Parsing is strict and never evaluates anything: numbers are ASCII decimals,
scientific notation or fractions (``1/16``, through :class:`fractions.Fraction`);
every value is finite with magnitude at most :data:`MAX_VALUE`; each side is at
most :data:`MAX_SIDE`; kernel files are at most :data:`MAX_FILE_BYTES` of
UTF-8 (with or without BOM). Every problem is a :class:`KernelError` naming
the file and, for text, the line: ``kernel.txt:3: row has 2 values, expected 3``.
"""

from __future__ import annotations

import codecs
import difflib
import json
import math
import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from .errors import KernelError

__all__ = [
    "FAMILIES",
    "KERNELS",
    "KERNEL_FILE_SUFFIXES",
    "MAX_FILE_BYTES",
    "MAX_SIDE",
    "MAX_VALUE",
    "Family",
    "Kernel",
    "Parameter",
    "load_kernel",
    "load_kernel_file",
    "parse_kernel",
    "parse_number",
    "prepare",
    "separate",
]

MAX_SIDE = 255  # rows or columns of a kernel
MAX_VALUE = 1e6  # largest magnitude of a weight (and of a file's scale or offset)
MAX_FILE_BYTES = 1 << 20  # 1 MiB: far more than a 255x255 float64 .npy needs
KERNEL_FILE_SUFFIXES = (".txt", ".csv", ".mat", ".json", ".npy")


@dataclass(frozen=True, eq=False)
class Kernel:
    """A named 2-D weight matrix, applied without flipping (cross-correlation)."""

    name: str
    weights: np.ndarray
    description: str
    source: str = ""
    scale: float = 1.0  # the result of this kernel is divided by it (libvips, Pillow)
    offset: float = 0.0  # and then this is added
    warnings: tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        weights = np.array(self.weights, dtype=np.float64)
        weights.flags.writeable = False
        object.__setattr__(self, "weights", weights)

    @property
    def shape(self) -> tuple[int, int]:
        return self.weights.shape  # type: ignore[return-value]


def _outer(v: list[float], scale: float) -> np.ndarray:
    """A separable kernel from its 1-D part, so the weights are exact."""
    row = np.array(v, dtype=np.float64)
    return np.outer(row, row) / scale


_TUTORIAL = "the tutorial (CNN 4 - Convolutions from scratch)"

KERNELS: dict[str, Kernel] = {
    k.name: k
    for k in [
        Kernel(
            "identity",
            [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
            "Leaves the image unchanged (valid padding still trims the border).",
            "the neutral element of convolution",
        ),
        Kernel(
            "sharpen",
            [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
            "Boosts each pixel against its 4 neighbours: crisper edges.",
            _TUTORIAL,
        ),
        Kernel(
            "blur",
            _outer([1, 2, 1], 16),
            "3x3 Gaussian blur (1/16, 1/8, 1/4): soft, weights sum to 1.",
            _TUTORIAL,
        ),
        Kernel(
            "outline",
            [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]],
            "8-neighbour Laplacian: white outlines on black, flat areas vanish.",
            _TUTORIAL,
        ),
        Kernel(
            "box",
            np.full((3, 3), 1 / 9),
            "3x3 mean: each pixel becomes the average of its neighbourhood.",
            "box filter (moving average)",
        ),
        Kernel(
            "gaussian5",
            _outer([1, 4, 6, 4, 1], 256),
            "5x5 Gaussian blur from binomial weights: stronger, smooth blur.",
            "binomial approximation of a Gaussian (Pascal's triangle row 4)",
        ),
        Kernel(
            "laplacian",
            [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
            "4-neighbour Laplacian: second derivative, zero on flat areas.",
            "discrete Laplace operator",
        ),
        Kernel(
            "sobel-x",
            [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
            "Horizontal gradient: bright where the image gets brighter to the right.",
            "Sobel operator (Sobel & Feldman, 1968)",
        ),
        Kernel(
            "sobel-y",
            [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
            "Vertical gradient: bright where the image gets brighter downwards.",
            "Sobel operator (Sobel & Feldman, 1968)",
        ),
        Kernel(
            "emboss",
            [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]],
            "Relief effect: lit from the top left, edges raised.",
            "classic emboss filter (e.g. GIMP's convolution matrix examples)",
        ),
    ]
}


def separate(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``(column, row)`` with ``np.outer(column, row) ≈ weights``, or None if not rank 1.

    A separable kernel is two 1-D passes instead of one 2-D pass (k+k taps
    instead of k*k). The engine's own rule decides (:func:`convcli.engine.decompose.separate`:
    SVD, with a tolerance set by the weights' precision), so ``convcli kernels``
    and the engine always agree. An all-zero kernel is not separable.
    """
    from .engine import decompose

    return decompose.separate(np.asarray(weights))


# --- parameterised built-ins ------------------------------------------------------


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
        value = _number(text) if self.kind is float else _integer(text)
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
_ALIASES = {"neighbors": "neighbours"}


# --- numbers ----------------------------------------------------------------------

# ASCII only (str patterns match any Unicode digit with \d, so spell it out).
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_FRACTION = re.compile(r"([+-]?[0-9]+)/([0-9]+)")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_SEPARATORS = re.compile(r"[ \t]*,[ \t]*|[ \t]+")  # commas or runs of spaces/tabs


def _number(token: str) -> float | None:
    """An ASCII decimal, scientific or fraction token as a float; None if it is not one.

    Never ``eval``; no ``1_0``, no non-Latin digits, no ``nan``/``inf``.
    A huge exponent becomes infinity, which the range check then refuses.
    """
    if _DECIMAL.fullmatch(token):
        return float(token)
    match = _FRACTION.fullmatch(token)
    if match and int(match.group(2)) != 0:
        return float(Fraction(int(match.group(1)), int(match.group(2))))
    return None


def parse_number(token: str) -> float | None:
    """Public form of the strict number syntax, for options such as ``--scale 1/16``."""
    return _number(token)


def _integer(token: str) -> int | None:
    return int(token) if _INTEGER.fullmatch(token) and len(token) < 10 else None


def _value(token: str, where: str) -> float:
    value = _number(token)
    if value is None:
        if token.lower().lstrip("+-") in ("nan", "inf", "infinity"):
            raise KernelError(f"{where}: NaN and infinity are not allowed, got {token!r}")
        if _FRACTION.fullmatch(token):
            raise KernelError(f"{where}: division by zero in {token!r}")
        raise KernelError(f"{where}: {token!r} is not a number")
    _check_magnitude(value, token, where)
    return value


def _check_magnitude(value: float, shown: Any, where: str) -> None:
    if not math.isfinite(value) or abs(value) > MAX_VALUE:
        raise KernelError(f"{where}: {shown} is too large (the limit is 1e6 in magnitude)")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _row(text: str, where: str) -> list[float]:
    tokens = _SEPARATORS.split(text.strip(" \t"))
    for token in tokens:
        if not token:
            raise KernelError(f"{where}: empty value (two commas in a row?)")
    return [_value(token, where) for token in tokens]


# --- parse_kernel -----------------------------------------------------------------

_FAMILY_SPEC = re.compile(r"([A-Za-z][A-Za-z0-9_-]*):(.*)", re.DOTALL)
_INLINE_CHARS = re.compile(r"[0-9eE+\-./;, \t]+")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


def parse_kernel(spec: str) -> Kernel:
    """Turn a ``--kernel`` value into a :class:`Kernel`, or raise :class:`KernelError`.

    Tried in order: built-in name, parameterised built-in (``name:key=value,...``
    or just ``name`` for its defaults), existing kernel file, inline matrix.

    >>> parse_kernel("box:size=2").weights.tolist()
    [[0.25, 0.25], [0.25, 0.25]]
    >>> parse_kernel("1, 2, 1").shape
    (1, 3)
    """
    name = spec.strip().lower()
    if name in KERNELS:
        return KERNELS[name]
    if name in FAMILIES:
        return FAMILIES[name].make({})
    match = _FAMILY_SPEC.fullmatch(spec.strip())
    if match and match.group(1).lower() in FAMILIES:
        return FAMILIES[match.group(1).lower()].make(_params(match.group(1), match.group(2)))
    path = Path(spec)
    if spec and _exists(path):
        return load_kernel_file(path)
    if path.suffix.lower() in KERNEL_FILE_SUFFIXES:
        raise KernelError("no such kernel file", spec)
    if match and not _INLINE_CHARS.fullmatch(spec):
        close = difflib.get_close_matches(match.group(1).lower(), FAMILIES, n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        raise KernelError(
            f"unknown parameterised kernel {match.group(1)!r}; {hint}"
            f"they are: {', '.join(FAMILIES)} (see 'convcli kernels')"
        )
    if _NAME.fullmatch(spec.strip()):
        raise KernelError(_unknown(spec))
    if re.search(r"[/\\]", spec) and not _INLINE_CHARS.fullmatch(spec):
        raise KernelError("no such kernel file", spec)
    return parse_matrix(spec)


def _exists(path: Path) -> bool:
    try:
        return path.exists() or path.is_symlink()
    except (OSError, ValueError):  # a name too long, or a NUL byte: not a file
        return False


def _params(family: str, body: str) -> dict[str, str]:
    given: dict[str, str] = {}
    for item in body.split(","):
        if not item.strip() and body.strip() == "":
            continue
        key, sep, value = item.partition("=")
        key = _ALIASES.get(key.strip().lower(), key.strip().lower())
        if not sep or not key:
            raise KernelError(f"{family}: expected key=value, got {item.strip()!r}")
        if key in given:
            raise KernelError(f"{family}: {key} given twice")
        given[key] = value.strip()
    return given


def parse_matrix(text: str, *, name: str = "inline") -> Kernel:
    """An inline matrix: rows split by ``;`` (or newlines), values by commas or spaces.

    >>> parse_matrix("0,-1,0; -1,5,-1; 0,-1,0").weights.sum()
    np.float64(1.0)
    """
    parts = re.split(r";|\r\n|\n|\r", text.strip())
    rows = [_row(row, f"inline kernel, row {i}") for i, row in enumerate(parts, 1)]
    return _finish(rows, name, f"inline matrix {text.strip()!r}", where="inline kernel")


def _unknown(spec: str) -> str:
    wanted = spec.strip().lower()
    close = difflib.get_close_matches(wanted, KERNELS, n=3, cutoff=0.5) or [
        f"{n}:..." for n in difflib.get_close_matches(wanted, FAMILIES, n=2, cutoff=0.5)
    ]
    hint = f"did you mean {', '.join(close)}? " if close else ""
    return (
        f"unknown kernel {spec!r}; {hint}"
        f"built-in kernels: {', '.join(KERNELS)}; with parameters: {', '.join(FAMILIES)} "
        "(see 'convcli kernels'); or a kernel file or an inline matrix like '1,2,1; 2,4,2'"
    )


# --- kernel files -----------------------------------------------------------------


def load_kernel(spec: str | os.PathLike[str]) -> Kernel:
    """A kernel from Python: a ``Path`` is always a kernel file, a string any spec.

    >>> load_kernel("gaussian:sigma=1").shape
    (7, 7)
    """
    if isinstance(spec, os.PathLike):
        return load_kernel_file(spec)
    return parse_kernel(spec)


def load_kernel_file(path: str | os.PathLike[str]) -> Kernel:
    """Read a kernel file: text, libvips ``.mat``, ``.json`` or ``.npy`` by extension.

    The file must be a regular file of at most :data:`MAX_FILE_BYTES`; it is
    checked with ``stat`` before it is opened, so a FIFO never blocks.
    """
    shown = os.fspath(path)
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise KernelError("no such kernel file", shown) from None
    except OSError as exc:
        raise KernelError(f"cannot read: {exc.strerror or exc}", shown) from None
    if not stat.S_ISREG(info.st_mode):
        raise KernelError("not a regular file", shown)
    if info.st_size > MAX_FILE_BYTES:
        raise KernelError(
            f"is {info.st_size} bytes; kernel files are limited to {MAX_FILE_BYTES} (1 MiB)",
            shown,
        )
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise KernelError(f"cannot read: {exc.strerror or exc}", shown) from None
    if len(data) > MAX_FILE_BYTES:
        raise KernelError(f"kernel files are limited to {MAX_FILE_BYTES} bytes (1 MiB)", shown)
    suffix = path.suffix.lower()
    if suffix == ".npy":
        return _from_npy(data, shown, path)
    text = _decode(data, shown)
    if suffix == ".json":
        return _from_json(text, shown, path)
    if suffix == ".mat":
        return _from_mat(text, shown, path)
    return _from_text(text, shown, path)


def _decode(data: bytes, shown: str) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise KernelError("is UTF-16 text; save it as UTF-8", shown)
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise KernelError(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x})", f"{shown}:{line}"
        ) from None


def _lines(text: str) -> list[tuple[int, str]]:
    """Numbered lines with ``#`` comments and blank lines removed; CRLF, LF or CR."""
    out = []
    for number, line in enumerate(re.split(r"\r\n|\n|\r", text), 1):
        content = line.split("#", 1)[0].strip(" \t")
        if content:
            out.append((number, content))
    return out


def _from_text(text: str, shown: str, path: Path) -> Kernel:
    rows, numbers = [], []
    for number, content in _lines(text):
        row = _row(content, f"{shown}:{number}")
        if rows and len(row) != len(rows[0]):
            raise KernelError(
                f"row has {_count(len(row), 'value')}, expected {len(rows[0])}", f"{shown}:{number}"
            )
        rows.append(row)
        numbers.append(number)
    if not rows:
        raise KernelError("empty kernel file (no numbers, only blank or comment lines)", shown)
    return _finish(rows, path.name, f"file {shown}", where=shown)


def _from_mat(text: str, shown: str, path: Path) -> Kernel:
    """libvips matrix file: ``width height [scale [offset]]``, then ``height`` rows."""
    lines = _lines(text)
    if not lines:
        raise KernelError("empty matrix file (expected 'width height [scale [offset]]')", shown)
    number, header = lines[0]
    where = f"{shown}:{number}"
    fields = _SEPARATORS.split(header)
    if not 2 <= len(fields) <= 4:
        raise KernelError(f"header must be 'width height [scale [offset]]', got {header!r}", where)
    width, height = _integer(fields[0]), _integer(fields[1])
    if width is None or height is None or width < 1 or height < 1:
        raise KernelError(f"width and height must be positive integers, got {header!r}", where)
    if max(width, height) > MAX_SIDE:
        raise KernelError(
            f"{width}x{height} is larger than the {MAX_SIDE}x{MAX_SIDE} maximum", where
        )
    scale = _value(fields[2], where) if len(fields) > 2 else 1.0
    offset = _value(fields[3], where) if len(fields) > 3 else 0.0
    if scale == 0:
        raise KernelError("scale must not be 0", where)
    rows = []
    for number, content in lines[1:]:
        row = _row(content, f"{shown}:{number}")
        if len(row) != width:
            raise KernelError(
                f"row has {_count(len(row), 'value')}, expected {width} (from the header)",
                f"{shown}:{number}",
            )
        rows.append(row)
    if len(rows) != height:
        raise KernelError(
            f"has {_count(len(rows), 'row')}, expected {height} (from the header)", shown
        )
    return _finish(
        rows, path.name, f"libvips matrix {shown}", where=shown, scale=scale, offset=offset
    )


_JSON_KEYS = ("kernel", "scale", "offset", "name")


def _from_json(text: str, shown: str, path: Path) -> Kernel:
    def refuse_constant(token: str) -> None:
        raise KernelError(f"NaN and infinity are not allowed, got {token}", shown)

    def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in pairs]
        for key in keys:
            if keys.count(key) > 1:
                raise KernelError(f"key {key!r} appears twice", shown)
        return dict(pairs)

    try:
        doc = json.loads(text, parse_constant=refuse_constant, object_pairs_hook=unique_keys)
    except json.JSONDecodeError as exc:
        raise KernelError(
            f"invalid JSON: {exc.msg} (column {exc.colno})", f"{shown}:{exc.lineno}"
        ) from None
    except (ValueError, RecursionError):
        raise KernelError("invalid JSON: too deeply nested or a number too long", shown) from None
    scale, offset, name = 1.0, 0.0, path.name
    if isinstance(doc, dict):
        unknown = [k for k in doc if k not in _JSON_KEYS]
        if unknown:
            raise KernelError(
                f"unknown key {unknown[0]!r}; expected {', '.join(_JSON_KEYS)}", shown
            )
        if "kernel" not in doc:
            raise KernelError('an object needs a "kernel" key holding the list of rows', shown)
        scale = _json_number(doc.get("scale", 1.0), "scale", shown)
        offset = _json_number(doc.get("offset", 0.0), "offset", shown)
        if scale == 0:
            raise KernelError("scale must not be 0", shown)
        if "name" in doc:
            if not isinstance(doc["name"], str) or not doc["name"].strip():
                raise KernelError('"name" must be a non-empty string', shown)
            name = doc["name"].strip()
        doc = doc["kernel"]
    if not isinstance(doc, list) or not doc or not all(isinstance(r, list) for r in doc):
        raise KernelError(
            'a kernel is a list of rows, e.g. [[1, 2, 1]] or {"kernel": [[1, 2, 1]]}', shown
        )
    rows = [
        [_json_number(v, f"row {i} value {j}", shown) for j, v in enumerate(row, 1)]
        for i, row in enumerate(doc, 1)
    ]
    return _finish(rows, name, f"JSON file {shown}", where=shown, scale=scale, offset=offset)


def _json_number(value: Any, what: str, shown: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        kind = {
            bool: "a boolean",
            str: "a string",
            list: "a list",
            dict: "an object",
            type(None): "null",
        }.get(type(value), type(value).__name__)
        extra = " (a kernel has exactly 2 dimensions)" if isinstance(value, list) else ""
        raise KernelError(f"{what} is {kind}, not a number{extra}", shown)
    if isinstance(value, int) and abs(value) > MAX_VALUE:
        raise KernelError(f"{what} is too large (the limit is 1e6 in magnitude)", shown)
    _check_magnitude(float(value), f"{what} ({value})", shown)
    return float(value)


def _from_npy(data: bytes, shown: str, path: Path) -> Kernel:
    """A 2-D array of real numbers; the header is checked before any data is read."""
    import io
    import tokenize
    import warnings

    from numpy.lib import format as npy

    stream = io.BytesIO(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # e.g. a Python 2 header: refused, not printed
            version = npy.read_magic(stream)
            if version == (1, 0):
                shape, fortran, dtype = npy.read_array_header_1_0(stream)
            elif version == (2, 0):
                shape, fortran, dtype = npy.read_array_header_2_0(stream)
            else:
                raise KernelError(f"unsupported .npy format version {version}", shown)
    except KernelError:
        raise
    except (ValueError, SyntaxError, OSError, EOFError, TypeError, Warning) as exc:
        raise KernelError(f"not a NumPy .npy file: {exc}", shown) from None
    except tokenize.TokenError as exc:  # numpy tokenizes the header dict
        raise KernelError(f"not a NumPy .npy file: {exc.args[0]}", shown) from None
    if dtype.hasobject:
        raise KernelError("holds Python objects; pickled data is never loaded", shown)
    if dtype.kind not in "iuf" or dtype.fields is not None or dtype.subdtype is not None:
        raise KernelError(f"holds {dtype} values; a kernel holds real numbers", shown)
    if len(shape) != 2:
        raise KernelError(f"holds a {len(shape)}-D array of shape {shape}; a kernel is 2-D", shown)
    if 0 in shape:
        raise KernelError(f"holds an empty array of shape {shape}", shown)
    if max(shape) > MAX_SIDE:
        raise KernelError(
            f"holds a {shape[0]}x{shape[1]} array, larger than the {MAX_SIDE}x{MAX_SIDE} maximum",
            shown,
        )
    count = shape[0] * shape[1]
    body = data[stream.tell() :]
    if len(body) < count * dtype.itemsize:
        raise KernelError("is truncated: the data is shorter than its header says", shown)
    values = np.frombuffer(body, dtype=dtype, count=count)
    values = values.reshape(shape, order="F" if fortran else "C").astype(np.float64)
    return _finish(values, path.name, f"NumPy file {shown}", where=shown)


# --- shared checks ----------------------------------------------------------------


def _finish(
    rows: Any, name: str, source: str, *, where: str, scale: float = 1.0, offset: float = 0.0
) -> Kernel:
    """Shape, finiteness and magnitude checks shared by every kind of spec."""
    if isinstance(rows, list):
        lengths = {len(r) for r in rows}
        if len(lengths) > 1:
            for i, row in enumerate(rows[1:], 2):
                if len(row) != len(rows[0]):
                    raise KernelError(
                        f"{where}: row {i} has {_count(len(row), 'value')}, expected {len(rows[0])}"
                    )
        if not rows or not rows[0]:
            raise KernelError(f"{where}: empty kernel")
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
    warnings = ()
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


def prepare(kernel: Kernel, *, normalize: bool = False, flip: bool = False) -> Kernel:
    """Kernel arithmetic applied to one kernel before it is used.

    ``normalize`` divides the weights by their sum (so a flat image keeps its
    brightness) and replaces any ``scale`` the kernel file gave; a kernel whose
    weights sum to zero cannot be normalised. ``flip`` rotates the weights by
    180 degrees, turning the engine's cross-correlation into a true convolution.

    >>> prepare(parse_kernel("1, 2, 3"), flip=True).weights.tolist()
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
