"""The one separability rule, shared by ``convcli kernels`` and the engine.

Rank is judged against the precision the weights came in: singular values up
to ``σ₀ · max(kh, kw) · ε(dtype)`` are rounding noise.
"""

from __future__ import annotations

import numpy as np
import pytest

from convcli import KERNELS, convolve, parse_kernel
from convcli.engine import choose_strategy, decompose
from convcli.kernels import separate

from .oracle import reference, tolerance


def gaussian32(size: int = 31, sigma: float = 5.0) -> np.ndarray:
    """``g @ g.T`` of a float32 Gaussian, as ``cv2.getGaussianKernel(31, 5)`` in float32 gives."""
    x = np.arange(size) - (size - 1) / 2
    line = np.exp(-(x**2) / (2 * sigma**2))
    line = (line / line.sum()).astype(np.float32)
    return line[:, None] @ line[None, :]


def test_a_float32_gaussian_is_separable_by_its_own_precision():
    kernel = gaussian32()
    assert kernel.dtype == np.float32
    column, row = decompose.separate(kernel)
    np.testing.assert_allclose(np.outer(column, row), kernel, rtol=0, atol=1e-8)
    assert len(decompose.terms(kernel)) == 1
    assert choose_strategy((4096, 4096), kernel) == "separable"
    # The same values judged as float64 carry float32 rounding (~1e-8) as real rank.
    assert decompose.separate(kernel.astype(np.float64)) is None
    assert choose_strategy((4096, 4096), kernel.astype(np.float64)) == "fft"


def test_the_engine_and_convcli_kernels_agree_on_noisy_kernels():
    rng = np.random.default_rng(7)
    weights = parse_kernel("gaussian:sigma=2").weights
    for noise in (0.0, 1e-17, 1e-13, 1e-6):
        noisy = weights + noise * rng.standard_normal(weights.shape)
        assert (separate(noisy) is None) == (decompose.terms(noisy) is None), noise
    assert separate(weights) is not None
    assert separate(weights + 1e-13 * rng.standard_normal(weights.shape)) is None


@pytest.mark.parametrize("name", ["blur", "gaussian5", "sobel-x", "box"])
def test_rank_one_parts_of_built_ins(name):
    weights = KERNELS[name].weights
    column, row = decompose.separate(weights)
    np.testing.assert_allclose(np.outer(column, row), weights, rtol=0, atol=1e-15)
    assert decompose.rank(weights) == 1


def test_terms_refuse_what_gives_no_gain():
    assert decompose.terms(np.zeros((3, 3))) is None  # nothing to separate
    assert decompose.separate(np.zeros((3, 3))) is None
    assert decompose.terms(np.array([[1.0, 2.0, 3.0]])) is None  # already 1-D
    assert decompose.separate(np.array([[1.0, 2.0, 3.0]])) is not None
    assert decompose.terms(np.eye(3)) is None  # full rank
    assert decompose.epsilon(np.dtype(np.float16)) == float(np.finfo(np.float16).eps)
    assert decompose.epsilon(np.dtype(np.int32)) == float(np.finfo(np.float64).eps)


def test_a_float32_kernel_through_the_separable_path_matches_the_loop():
    rng = np.random.default_rng(3)
    image = rng.random((70, 90)).astype(np.float32) * 255
    kernel = gaussian32()
    got = convolve(image, kernel, padding="same", strategy="separable")
    expected = reference(image, kernel, "same")
    # Dropped terms are below 31·ε32·σ₀, far inside the float32 sum's own tolerance.
    np.testing.assert_allclose(got, expected, rtol=0, atol=tolerance(image, kernel, np.float32))
