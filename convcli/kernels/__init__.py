"""Kernels: the built-in catalogue, parameterised families, ``--kernel`` specs and kernel files.

Every way of naming a kernel ends in a :class:`Kernel` (a name, read-only
weights, a description, where it comes from, and a file's scale/offset):

* :mod:`.model`: :class:`Kernel`, the limits (:data:`MAX_SIDE`,
  :data:`MAX_VALUE`), :func:`prepare` (normalise, flip) and :func:`separate`;
* :mod:`.builtins`: :data:`KERNELS`, the fixed catalogue;
* :mod:`.families`: :data:`FAMILIES`, kernels built from parameters;
* :mod:`.values`: the strict number syntax and the checks every weight passes;
* :mod:`.files`: :func:`load_kernel_file`, the text, ``.mat``, ``.json`` and
  ``.npy`` readers;
* :mod:`.syntax`: :func:`parse_kernel`, which tries a spec as each of the above.

The modules depend on each other in that order (none on a later one), so
there is no import cycle; no module here prints or imports click or rich.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import exports

if TYPE_CHECKING:
    from .builtins import KERNELS
    from .families import FAMILIES, Family, Parameter
    from .files import KERNEL_FILE_SUFFIXES, MAX_FILE_BYTES, load_kernel_file
    from .model import MAX_SIDE, MAX_VALUE, Kernel, prepare, separate
    from .syntax import load_kernel, parse_kernel, parse_matrix
    from .values import parse_number

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
    "parse_matrix",
    "parse_number",
    "prepare",
    "separate",
]

# Each name's module is imported on first use (convcli.lazy): a built-in kernel by name
# loads neither the families nor the file readers.
__getattr__ = exports(
    __name__,
    {
        "KERNELS": ".builtins",
        **dict.fromkeys(["FAMILIES", "Family", "Parameter"], ".families"),
        **dict.fromkeys(["KERNEL_FILE_SUFFIXES", "MAX_FILE_BYTES", "load_kernel_file"], ".files"),
        **dict.fromkeys(["MAX_SIDE", "MAX_VALUE", "Kernel", "prepare", "separate"], ".model"),
        **dict.fromkeys(["load_kernel", "parse_kernel", "parse_matrix"], ".syntax"),
        "parse_number": ".values",
    },
)
