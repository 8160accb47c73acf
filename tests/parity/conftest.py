"""TensorFlow, imported once and quietly, for the parity tests (``make parity``).

TensorFlow and Keras emit deprecation warnings of their own on import, which
``filterwarnings = error`` would turn into failures that say nothing about
convcli; they are silenced for the import only.
"""

from __future__ import annotations

import os
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import keras  # noqa: F401
    import tensorflow  # noqa: F401
