from __future__ import annotations

import numpy as np
import pytest
from PIL import Image


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
