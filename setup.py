"""The one thing pyproject.toml cannot say without setuptools' experimental table:
the optional C extension (convcli/engine/_fused.c, the direct strategy's band loop).

``optional=True``: without a C compiler the install still succeeds, and
convcli/engine/fused.py falls back to the pure-NumPy strategy.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension("convcli.engine._fused", ["convcli/engine/_fused.c"], optional=True),
    ]
)
