"""Stride and dilation, in every strategy and border mode, against the extended loop.

The oracle (tests/oracle.py ``strided_reference``) is the tutorial's loop that
steps by the stride and reads a dilated window; ``make parity`` checks it
against ``tf.nn.conv2d``. Tolerances are test_strategies' (summation order for
direct and separable, a tile's rounding for FFT), with the dilated kernel's
size for FFT, whose tiles hold the spread-out kernel.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convcli.engine import BORDERS, PADDINGS, Geometry, choose_strategy, convolve, convolve_uint8
from convcli.imageio import to_uint8

from .oracle import strided_reference
from .test_strategies import STRATEGIES, allowed, tiny_bands

steps = st.one_of(st.integers(1, 4), st.tuples(st.integers(1, 4), st.integers(1, 4)))
dilations = st.one_of(st.integers(1, 3), st.tuples(st.integers(1, 3), st.integers(1, 3)))


@st.composite
def cases(draw):
    kh, kw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    h, w = draw(st.integers(1, 24)), draw(st.integers(1, 24))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    # Integer-valued weights in a few distinct values: direct groups them, separable
    # sees low rank, FFT is dense; all three must agree with the loop.
    kernel = rng.integers(-3, 4, (kh, kw)).astype(np.float64)
    if draw(st.booleans()):
        kernel = np.outer(rng.integers(-2, 3, kh), rng.integers(-2, 3, kw)).astype(np.float64)
    image = rng.integers(0, 256, (h, w)).astype(np.float64)
    return image, kernel


@settings(max_examples=150, deadline=None)
@given(
    case=cases(),
    stride=steps,
    dilation=dilations,
    padding=st.sampled_from(PADDINGS),
    border=st.sampled_from(BORDERS),
    strategy=st.sampled_from(("auto", *STRATEGIES)),
)
def test_every_strategy_is_the_strided_loop(case, stride, dilation, padding, border, strategy):
    image, kernel = case
    geometry = Geometry(kernel.shape, padding, stride, dilation)
    if not geometry.fits(image.shape):
        with pytest.raises(ValueError, match="leaves nothing"):
            convolve(image, kernel, padding=padding, stride=stride, dilation=dilation)
        return
    expected = strided_reference(image, kernel, padding, border, stride, dilation)
    spread = np.zeros(geometry.span)
    spread[:: geometry.dilation[0], :: geometry.dilation[1]] = kernel
    with tiny_bands():
        got = convolve(
            image,
            kernel,
            padding=padding,
            border=border,
            stride=stride,
            dilation=dilation,
            strategy=strategy,
            threads=2,
        )
    assert got.shape == expected.shape == geometry.output_shape(image.shape)
    np.testing.assert_allclose(got, expected, rtol=0, atol=allowed(strategy, image, spread))


@settings(max_examples=40, deadline=None)
@given(case=cases(), stride=steps, dilation=dilations, strategy=st.sampled_from(STRATEGIES))
def test_float32_and_uint8_paths_keep_the_stride(case, stride, dilation, strategy):
    image, kernel = case
    geometry = Geometry(kernel.shape, "same", stride, dilation)
    expected = strided_reference(image, kernel, "same", "edge", stride, dilation)
    spread = np.zeros(geometry.span)
    spread[:: geometry.dilation[0], :: geometry.dilation[1]] = kernel
    kw = {"padding": "same", "border": "edge", "stride": stride, "dilation": dilation}
    with tiny_bands():
        single = convolve(image.astype(np.float32), kernel, strategy=strategy, **kw)
        eight = convolve_uint8(image.astype(np.uint8), kernel, strategy=strategy, **kw)
    assert single.dtype == np.float32
    np.testing.assert_allclose(
        single, expected, rtol=0, atol=allowed(strategy, image, spread, np.float32)
    )
    # Integer weights on 8-bit pixels: the float32 sums are exact, so rounding agrees.
    np.testing.assert_array_equal(eight, to_uint8(expected))


def test_long_separable_passes_use_matrix_products_with_stride():
    rng = np.random.default_rng(5)
    image = rng.normal(size=(70, 90))
    kernel = np.outer(rng.normal(size=15), rng.normal(size=13))  # 11+ taps: banded GEMM
    for stride, dilation in (((2, 3), (1, 2)), (3, (2, 1)), (1, 1)):
        expected = strided_reference(image, kernel, "same", "reflect", stride, dilation)
        with tiny_bands():
            got = convolve(
                image,
                kernel,
                padding="same",
                border="reflect",
                stride=stride,
                dilation=dilation,
                strategy="separable",
            )
        np.testing.assert_allclose(got, expected, rtol=0, atol=allowed("separable", image, kernel))


def test_the_issues_shapes():
    image = np.zeros((6, 6))
    assert convolve(image, np.ones((3, 3)), padding="same", stride=2).shape == (3, 3)
    assert Geometry((7, 7), "same", 2).pads((224, 224)) == ((2, 3), (2, 3))
    assert convolve(np.zeros((224, 224)), np.ones((7, 7)), padding="same", stride=2).shape == (
        112,
        112,
    )


def test_stride_makes_direct_cheaper_and_fft_dearer():
    kernel = np.random.default_rng(0).normal(size=(21, 21))
    assert choose_strategy((1024, 1024), kernel) == "fft"
    # At stride 4 the FFT still computes every stride-1 output; direct only 1/16 of them.
    assert choose_strategy((1024, 1024), kernel, stride=4) == "direct"


@pytest.mark.parametrize(
    ("name", "value"),
    [("stride", 0), ("stride", (1, 0)), ("dilation", -1), ("stride", 1.5), ("dilation", (1, 2, 3))],
)
def test_bad_stride_or_dilation_names_the_parameter(name, value):
    with pytest.raises(ValueError, match=name):
        convolve(np.ones((5, 5)), np.ones((3, 3)), **{name: value})


def test_dilated_kernel_too_big_for_valid_says_so():
    with pytest.raises(ValueError, match="dilated to 5x5"):
        convolve(np.ones((4, 4)), np.ones((3, 3)), dilation=2)
