"""``--kernel`` specs: :func:`parse_kernel`, the inline matrix syntax and did-you-mean.

A spec is one of (tried in this order):

* a built-in name, ``sharpen`` (case-insensitive);
* a parameterised built-in, ``gaussian:sigma=2,size=9`` (see :data:`FAMILIES`);
* a kernel file by path (see :mod:`convcli.kernels.files`);
* an inline matrix, ``'0,-1,0; -1,5,-1; 0,-1,0'``.

Every problem is a :class:`KernelError`; an unknown name suggests the closest
known ones.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..errors import KernelError
from .builtins import KERNELS
from .model import Kernel
from .values import checked_kernel, to_row

_ALIASES = {"neighbors": "neighbours"}  # parameter names also accepted in this spelling

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
    # Not for a built-in name (most runs): one image pays no start-up for these.
    from .families import FAMILIES
    from .files import KERNEL_FILE_SUFFIXES, load_kernel_file

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
        import difflib  # only for a typo

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
    rows = [to_row(row, f"inline kernel, row {i}") for i, row in enumerate(parts, 1)]
    return checked_kernel(rows, name, f"inline matrix {text.strip()!r}", where="inline kernel")


def _unknown(spec: str) -> str:
    import difflib  # only for a typo

    from .families import FAMILIES

    wanted = spec.strip().lower()
    close = difflib.get_close_matches(wanted, KERNELS, n=3, cutoff=0.5) or [
        f"{n}:..." for n in difflib.get_close_matches(wanted, FAMILIES, n=2, cutoff=0.5)
    ]
    # A name cut short (`gauss`) means every name it begins, families too (alone: defaults).
    names = dict.fromkeys([*KERNELS, *FAMILIES])
    prefixed = sorted((n for n in names if n.startswith(wanted) and wanted), key=len)
    close = list(dict.fromkeys([*prefixed, *close]))[:3]
    hint = f"did you mean {', '.join(close)}? " if close else ""
    return (
        f"unknown kernel {spec!r}; {hint}"
        f"built-in kernels: {', '.join(KERNELS)}; with parameters: {', '.join(FAMILIES)} "
        "(see 'convcli kernels'); or a kernel file or an inline matrix like '1,2,1; 2,4,2'"
    )


def load_kernel(spec: str | os.PathLike[str]) -> Kernel:
    """A kernel from Python: a ``Path`` is always a kernel file, a string any spec.

    >>> load_kernel("gaussian:sigma=1").shape
    (7, 7)
    """
    if isinstance(spec, os.PathLike):
        from .files import load_kernel_file

        return load_kernel_file(spec)
    return parse_kernel(spec)
