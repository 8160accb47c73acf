"""The optional C extension, if it was built: the one place that tries to import it.

Both the cost model (is the compiled strategy on offer?) and the compiled
strategy itself ask here, so neither has to import the other.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["API", "extension"]


API = 2  # _fused.c's API: what fused.py and sinks.py call (correlate_image, to_uint8)


def _load() -> ModuleType | None:
    try:
        module = importlib.import_module(f"{__package__}._fused")
    except ImportError:  # not built (no compiler at install time): NumPy only
        return None
    # A stale build (an in-place .so older than this code, until the next install)
    # lacks what the strategies call: NumPy only, rather than failing every image.
    return module if getattr(module, "API", None) == API else None


extension = _load()
