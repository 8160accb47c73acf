"""The optional C extension, if it was built: the one place that tries to import it.

Both the cost model (is the compiled strategy on offer?) and the compiled
strategy itself ask here, so neither has to import the other.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["extension"]


def _load() -> ModuleType | None:
    try:
        return importlib.import_module(f"{__package__}._fused")
    except ImportError:  # not built (no compiler at install time): NumPy only
        return None


extension = _load()
