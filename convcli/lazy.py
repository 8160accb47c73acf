"""A package's public names, each imported from its module on first use (PEP 562).

Start-up is what a one-image run feels most: ``convcli apply -k sharpen a.jpg
b.png`` must not pay for the filter banks, the kernel families or the pooling
code it never touches just because ``convcli.engine`` or ``convcli.kernels``
re-exports them. A package lists where each name lives; the first
``from package import name`` imports that module, later ones find an
ordinary attribute. (Type checkers read the same names from the package's
``TYPE_CHECKING`` imports; ``tests/test_startup.py`` checks both agree.)
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def exports(package: str, homes: Mapping[str, str]) -> Callable[[str], Any]:
    """The module ``__getattr__`` for ``package``: ``homes`` maps each public name
    to its module, relative to the package (``{"KERNELS": ".builtins"}``)."""
    namespace = sys.modules[package].__dict__

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home, package), name)
        namespace[name] = value  # once loaded, an ordinary attribute
        return value

    return __getattr__
