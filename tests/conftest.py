from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import settings
from PIL import Image

# CI (CI=true) replays a fixed set of examples, so a red build is reproducible
# and never a coin toss; local `make test` and `make fuzz` keep exploring.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

# tests/parity/ needs TensorFlow (pip install -e '.[parity]'): `make parity` runs it,
# `make test` does not.
collect_ignore = [] if os.environ.get("CONVCLI_PARITY") else ["parity"]


@pytest.fixture(autouse=True)
def _plain_terminal(monkeypatch):
    """Deterministic Rich output: fixed width, no colour."""
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("FORCE_COLOR", raising=False)


@pytest.fixture
def gradient() -> np.ndarray:
    """A small 8-bit grayscale image with structure in both directions."""
    y, x = np.mgrid[0:24, 0:32]
    return ((x * 7 + y * 3) % 256).astype(np.uint8)


@pytest.fixture
def gray_png(tmp_path, gradient):
    path = tmp_path / "gray.png"
    Image.fromarray(gradient, "L").save(path)
    return path


@pytest.fixture
def rgb_jpeg(tmp_path):
    rng = np.random.default_rng(3)
    path = tmp_path / "photo.jpg"
    Image.fromarray(rng.integers(0, 256, (30, 40, 3), dtype=np.uint8), "RGB").save(path)
    return path
