"""convcli.conv2d (a filter bank) and convcli.pool against the extended tutorial loop.

Tolerances: a map sums ``n = kh*kw*C_in`` products in another order than the
loop, so ``oracle.bank_tolerance`` (4·n·ε·max_o Σ|w_o|·max|x|, in the working
precision) applies. A max pool is exact; an average differs by the rounding
of one division and ``kh*kw`` additions (8·ε·max|x| is ample).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import convcli
from convcli.engine import BORDERS, PADDINGS, Geometry, cost

from . import oracle

steps = st.one_of(st.integers(1, 4), st.tuples(st.integers(1, 4), st.integers(1, 4)))
dilations = st.one_of(st.integers(1, 3), st.tuples(st.integers(1, 3), st.integers(1, 3)))


@st.composite
def banks(draw):
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    channels, maps = draw(st.sampled_from([1, 3])), draw(st.integers(1, 5))
    h, w = draw(st.integers(1, 20)), draw(st.integers(1, 20))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    image = rng.normal(size=(h, w, channels))
    if channels == 1 and draw(st.booleans()):
        image = image[:, :, 0]  # a 2-D image is one channel
    return image, rng.normal(size=(kh, kw, channels, maps)), rng.normal(size=maps)


@settings(max_examples=120, deadline=None)
@given(
    case=banks(),
    stride=steps,
    dilation=dilations,
    padding=st.sampled_from(PADDINGS),
    border=st.sampled_from(BORDERS),
    layout=st.sampled_from(["hwio", "oihw"]),
    float32=st.booleans(),
    with_bias=st.booleans(),
)
def test_conv2d_is_the_loop_over_channels(
    case, stride, dilation, padding, border, layout, float32, with_bias
):
    image, bank, bias = case
    bias = bias if with_bias else None
    weights = bank if layout == "hwio" else bank.transpose(3, 2, 0, 1)
    if float32:
        image = image.astype(np.float32)
    geometry = Geometry(bank.shape[:2], padding, stride, dilation)
    kw = {"stride": stride, "dilation": dilation, "padding": padding, "border": border}
    if not geometry.fits(image.shape):
        with pytest.raises(ValueError, match="leaves nothing"):
            convcli.conv2d(image, weights, layout=layout, **kw)
        return
    saved = cost.COSTS
    cost.COSTS = dataclasses.replace(saved, bank_band_bytes=256)  # several bands, even here
    try:
        got = convcli.conv2d(image, weights, bias=bias, layout=layout, threads=2, **kw)
    finally:
        cost.COSTS = saved
    expected = oracle.conv2d_reference(image, bank, bias, **kw)
    assert got.dtype == (np.float32 if float32 else np.float64)
    assert got.shape == expected.shape == (*geometry.output_shape(image.shape), bank.shape[3])
    dtype = np.float32 if float32 else np.float64
    atol = oracle.bank_tolerance(image, bank, dtype) + (
        0 if bias is None else 4 * np.finfo(dtype).eps * float(np.abs(bias).max())
    )
    np.testing.assert_allclose(got, expected, rtol=0, atol=atol)


@settings(max_examples=120, deadline=None)
@given(
    shape=st.tuples(st.integers(1, 20), st.integers(1, 20), st.integers(0, 3)),
    kind=st.sampled_from(["max", "avg"]),
    size=st.one_of(st.integers(1, 4), st.tuples(st.integers(1, 4), st.integers(1, 4))),
    stride=st.one_of(st.none(), steps),
    padding=st.sampled_from(["valid", "same"]),
    dtype=st.sampled_from(["uint8", "float32", "float64", "int16"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_pool_is_tensorflows_loop(shape, kind, size, stride, padding, dtype, seed):
    h, w, c = shape
    rng = np.random.default_rng(seed)
    image = (rng.normal(size=(h, w, c) if c else (h, w)) * 60).astype(dtype)
    geometry = Geometry(oracle.pair(size), padding, size if stride is None else stride)
    if not geometry.fits(image.shape):
        with pytest.raises(ValueError, match="leaves nothing"):
            convcli.pool(image, kind, size=size, stride=stride, padding=padding)
        return
    saved = cost.COSTS
    cost.COSTS = dataclasses.replace(saved, band_bytes=64)
    try:
        got = convcli.pool(image, kind, size=size, stride=stride, padding=padding, threads=2)
    finally:
        cost.COSTS = saved
    expected = oracle.pool_reference(image, kind, size, stride, padding)
    assert got.dtype == (np.float32 if dtype == "float32" else np.float64)
    assert got.shape == expected.shape
    if kind == "max":
        np.testing.assert_array_equal(got, expected)
    else:
        eps = np.finfo(got.dtype).eps
        atol = 8 * eps * max(float(np.abs(image.astype(np.float64)).max()), 1.0)
        np.testing.assert_allclose(got, expected, rtol=0, atol=atol)


def test_pool_same_corner_averages_only_the_image():
    image = np.ones((3, 3)) * 4
    np.testing.assert_array_equal(convcli.pool(image, "avg", padding="same"), np.full((2, 2), 4.0))
    negative = -np.ones((3, 3), dtype=np.float32)
    assert convcli.pool(negative, "max", padding="same").max() == -1


def test_a_bank_of_one_is_convolve():
    rng = np.random.default_rng(2)
    image, kernel = rng.normal(size=(15, 12)), rng.normal(size=(3, 4))
    got = convcli.conv2d(image, kernel[:, :, None, None], padding="same", stride=2)[:, :, 0]
    np.testing.assert_allclose(
        got, convcli.convolve(image, kernel, padding="same", stride=2), rtol=0, atol=1e-12
    )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"weights": np.ones((3, 3))}, "weights must be 4-D"),
        ({"weights": np.ones((3, 3, 2, 4))}, "2 input channels"),
        ({"layout": "nchw"}, "layout must be one of hwio, oihw"),
        ({"bias": [1.0, 2.0]}, "bias must have one value per map \\(4\\)"),
        ({"bias": [1.0, np.nan, 0, 0]}, "bias must be finite"),
        ({"stride": 0}, "stride must be a positive integer"),
        ({"dilation": (1, 2, 3)}, "dilation must be"),
        ({"padding": "causal"}, "padding must be one of"),
        ({"image": np.ones((2, 2, 2, 2))}, "image must be \\(H, W\\) or \\(H, W, C\\)"),
    ],
)
def test_conv2d_names_the_bad_parameter(kwargs, match):
    args = {"image": np.ones((6, 6, 3)), "weights": np.ones((3, 3, 3, 4))} | kwargs
    with pytest.raises(ValueError, match=match):
        convcli.conv2d(args.pop("image"), args.pop("weights"), **args)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"kind": "median"}, "kind must be one of max, avg"),
        ({"size": 0}, "size must be a positive integer"),
        ({"stride": (2, 0)}, "stride must be"),
        ({"padding": "full"}, "padding must be one of valid, same"),
        ({"image": np.ones((1, 1))}, "smaller than the 2x2 pool"),
    ],
)
def test_pool_names_the_bad_parameter(kwargs, match):
    args = {"image": np.ones((6, 6)), "kind": "max"} | kwargs
    with pytest.raises(ValueError, match=match):
        convcli.pool(args.pop("image"), args.pop("kind"), **args)


def test_conv2d_dtype_sets_the_working_precision():
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (9, 8, 3), dtype=np.uint8)
    bank = rng.normal(size=(3, 3, 3, 2))
    single = convcli.conv2d(image, bank, dtype=np.float32)
    assert single.dtype == np.float32
    expected = oracle.conv2d_reference(image, bank)
    np.testing.assert_allclose(
        single, expected, rtol=0, atol=oracle.bank_tolerance(image, bank, np.float32)
    )
    with pytest.raises(ValueError, match="dtype must be float32, float64 or None"):
        convcli.conv2d(image, bank, dtype=np.int16)


def test_convolve_conv2d_and_pool_refuse_a_window_larger_than_the_image_in_one_wording():
    """One message, from Geometry: rows x cols, the window, its dilated span."""
    from convcli import conv2d, convolve, pool

    image, kernel = np.ones((4, 6)), np.ones((3, 3))
    expected = (
        "image: 4x6 is smaller than the 3x3 kernel dilated to 5x7, so padding='valid' "
        "leaves nothing; use padding='same'"
    )
    for call in (
        lambda: convolve(image, kernel, dilation=(2, 3)),
        lambda: conv2d(image, kernel[:, :, None, None], dilation=(2, 3)),
    ):
        with pytest.raises(ValueError) as caught:
            call()
        assert str(caught.value) == expected
    with pytest.raises(ValueError, match=r"^image: 4x6 is smaller than the 5x5 pool, so"):
        pool(image, "max", size=5)
