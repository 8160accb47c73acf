"""The one thing pyproject.toml cannot say without setuptools' experimental table:
the optional C extension (convcli/engine/_fused.c, the direct strategy's band loop).

``optional=True``: without a C compiler the install still succeeds, and
convcli/engine/fused.py falls back to the pure-NumPy strategy.
"""

import sys

from setuptools import Extension, setup

# No fused multiply-add contraction: every CPU (and every target_clones variant of
# the loop, vector or scalar) then rounds the same sums the same way, so results
# do not depend on the machine, and a strided output equals its stride-1 one.
FLAGS = [] if sys.platform == "win32" else ["-ffp-contract=off"]

setup(
    ext_modules=[
        Extension(
            "convcli.engine._fused",
            ["convcli/engine/_fused.c"],
            extra_compile_args=FLAGS,
            optional=True,
        ),
    ]
)
