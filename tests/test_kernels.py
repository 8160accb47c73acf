from __future__ import annotations

import numpy as np
import pytest

from convcli import KERNELS, KernelError, parse_kernel
from convcli.kernels import separate

REQUIRED = {"identity", "sharpen", "blur", "outline", "box", "gaussian5", "laplacian",
            "sobel-x", "sobel-y", "emboss"}  # fmt: skip


def test_catalogue_has_the_documented_kernels():
    assert set(KERNELS) >= REQUIRED
    for name, kernel in KERNELS.items():
        assert kernel.name == name
        assert kernel.weights.ndim == 2 and kernel.weights.size
        assert np.isfinite(kernel.weights).all()
        assert kernel.description and kernel.source


def test_weights_are_read_only():
    with pytest.raises(ValueError, match="read-only"):
        KERNELS["sharpen"].weights[0, 0] = 3


@pytest.mark.parametrize("name", ["blur", "box", "gaussian5"])
def test_smoothing_kernels_sum_to_one(name):
    assert KERNELS[name].weights.sum() == pytest.approx(1.0, abs=1e-15)


@pytest.mark.parametrize("name", ["outline", "laplacian", "sobel-x", "sobel-y"])
def test_edge_kernels_sum_to_zero(name):
    assert KERNELS[name].weights.sum() == 0


def test_sobel_x_is_bright_where_the_image_brightens_to_the_right():
    from convcli import convolve

    ramp = np.tile(np.arange(5.0), (5, 1))
    assert (convolve(ramp, KERNELS["sobel-x"].weights) > 0).all()
    assert (convolve(ramp, KERNELS["sobel-y"].weights) == 0).all()


def test_parse_is_case_and_space_insensitive():
    assert parse_kernel(" Sharpen ") is KERNELS["sharpen"]


def test_unknown_name_suggests_close_ones():
    with pytest.raises(KernelError, match=r"unknown kernel 'sharpn'; did you mean sharpen\?"):
        parse_kernel("sharpn")
    with pytest.raises(KernelError, match="built-in kernels: identity, sharpen"):
        parse_kernel("zzz")


@pytest.mark.parametrize(
    ("name", "separable"),
    [("blur", True), ("box", True), ("gaussian5", True), ("sobel-x", True), ("identity", True),
     ("sharpen", False), ("outline", False), ("laplacian", False), ("emboss", False)],
)  # fmt: skip
def test_separate_finds_rank_one_kernels(name, separable):
    weights = KERNELS[name].weights
    parts = separate(weights)
    assert (parts is not None) == separable
    if parts:
        np.testing.assert_allclose(np.outer(*parts), weights, atol=1e-12)


def test_separate_handles_rows_columns_and_zeros():
    assert separate(np.zeros((3, 3))) is None
    column, row = separate(np.array([[1.0, 2.0, 3.0]]))
    np.testing.assert_allclose(np.outer(column, row), [[1, 2, 3]])
