"""Kernel files: text (``.txt``, ``.csv`` or no extension), libvips ``.mat``, ``.json``, ``.npy``.

A kernel file is at most :data:`MAX_FILE_BYTES` of UTF-8 (with or without
BOM), checked with ``stat`` before it is opened. Every problem is a
:class:`KernelError` naming the file and, for text, the line:
``kernel.txt:3: row has 2 values, expected 3``. A float32 or float16 ``.npy``
gives float32 weights; every other source float64.
"""

from __future__ import annotations

import codecs
import os
import re
import stat
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import KernelError
from .model import MAX_SIDE, MAX_VALUE, Kernel
from .values import (
    SEPARATORS,
    check_magnitude,
    checked_kernel,
    plural,
    to_integer,
    to_row,
    to_weight,
)

MAX_FILE_BYTES = 1 << 20  # 1 MiB: far more than a 255x255 float64 .npy needs
KERNEL_FILE_SUFFIXES = (".txt", ".csv", ".mat", ".json", ".npy")


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
    rows: list[list[float]] = []
    numbers: list[int] = []
    for number, content in _lines(text):
        row = to_row(content, f"{shown}:{number}")
        if rows and len(row) != len(rows[0]):
            raise KernelError(
                f"row has {plural(len(row), 'value')}, expected {len(rows[0])}", f"{shown}:{number}"
            )
        rows.append(row)
        numbers.append(number)
    if not rows:
        raise KernelError("empty kernel file (no numbers, only blank or comment lines)", shown)
    return checked_kernel(rows, path.name, f"file {shown}", where=shown)


def _from_mat(text: str, shown: str, path: Path) -> Kernel:
    """libvips matrix file: ``width height [scale [offset]]``, then ``height`` rows."""
    lines = _lines(text)
    if not lines:
        raise KernelError("empty matrix file (expected 'width height [scale [offset]]')", shown)
    number, header = lines[0]
    where = f"{shown}:{number}"
    fields = SEPARATORS.split(header)
    if not 2 <= len(fields) <= 4:
        raise KernelError(f"header must be 'width height [scale [offset]]', got {header!r}", where)
    width, height = to_integer(fields[0]), to_integer(fields[1])
    if width is None or height is None or width < 1 or height < 1:
        raise KernelError(f"width and height must be positive integers, got {header!r}", where)
    if max(width, height) > MAX_SIDE:
        raise KernelError(
            f"{width}x{height} is larger than the {MAX_SIDE}x{MAX_SIDE} maximum", where
        )
    scale = to_weight(fields[2], where) if len(fields) > 2 else 1.0
    offset = to_weight(fields[3], where) if len(fields) > 3 else 0.0
    if scale == 0:
        raise KernelError("scale must not be 0", where)
    rows = []
    for number, content in lines[1:]:
        row = to_row(content, f"{shown}:{number}")
        if len(row) != width:
            raise KernelError(
                f"row has {plural(len(row), 'value')}, expected {width} (from the header)",
                f"{shown}:{number}",
            )
        rows.append(row)
    if len(rows) != height:
        raise KernelError(
            f"has {plural(len(rows), 'row')}, expected {height} (from the header)", shown
        )
    return checked_kernel(
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

    import json  # only for .json kernels: not at start-up

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
    return checked_kernel(rows, name, f"JSON file {shown}", where=shown, scale=scale, offset=offset)


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
    check_magnitude(float(value), f"{what} ({value})", shown)
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
    values = values.reshape(shape, order="F" if fortran else "C")
    return checked_kernel(values, path.name, f"NumPy file {shown}", where=shown)
