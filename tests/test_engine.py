"""The engine against the tutorial's loop, its own numbers, and invariants."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from convcli import BORDERS, KERNELS, convolve, output_shape
from convcli.engine import pad_widths

from .oracle import (
    add_padding_to_image,
    calculate_target_size,
    get_padding_width_per_side,
    reference,
    tolerance,
)

SHARPEN = KERNELS["sharpen"].weights


# --- the tutorial's own numbers -------------------------------------------------


def test_tutorial_target_sizes():
    image = np.zeros((224, 224))
    assert calculate_target_size(224, 3) == 222
    assert convolve(image, np.ones((3, 3))).shape == (222, 222)
    assert convolve(image, np.ones((5, 5))).shape == (220, 220)
    padded = add_padding_to_image(image, get_padding_width_per_side(3))
    assert padded.shape == (226, 226)
    assert convolve(padded, SHARPEN).shape == (224, 224)


def test_tutorial_first_window_with_sharpen_is_44():
    window = np.array([[39, 41, 41], [42, 43, 44], [45, 44, 44]], dtype=np.uint8)
    assert convolve(window, SHARPEN).tolist() == [[44.0]]


def test_tutorial_kernels_have_its_exact_values():
    assert KERNELS["sharpen"].weights.tolist() == [[0, -1, 0], [-1, 5, -1], [0, -1, 0]]
    assert KERNELS["blur"].weights.tolist() == [
        [0.0625, 0.125, 0.0625],
        [0.125, 0.25, 0.125],
        [0.0625, 0.125, 0.0625],
    ]
    assert KERNELS["outline"].weights.tolist() == [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]


def test_same_equals_tutorial_padding_then_valid():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (20, 17)).astype(np.uint8)
    for k in (3, 5):
        kernel = rng.normal(size=(k, k))
        expected = convolve(add_padding_to_image(image, get_padding_width_per_side(k)), kernel)
        np.testing.assert_allclose(convolve(image, kernel, padding="same"), expected, atol=1e-9)


# --- hand-worked cases ----------------------------------------------------------


def test_no_flip_cross_correlation_by_hand():
    image = np.arange(1, 10).reshape(3, 3)
    # Top-left weight meets the window's top-left pixel: no flip.
    assert convolve(image, [[1, 0], [0, 0]]).tolist() == [[1, 2], [4, 5]]
    assert convolve(image, [[0, 0], [0, 1]]).tolist() == [[5, 6], [8, 9]]
    assert convolve(image, [[1, 2, 3]]).tolist() == [[14], [32], [50]]


def test_even_kernel_same_pads_after_like_tensorflow():
    image = np.arange(1, 10).reshape(3, 3)
    # 2x2 kernel: (2-1)//2 = 0 rows before, 1 after, so a one-hot top-left weight
    # reproduces the image and a bottom-right one shifts it up-left with zeros.
    assert pad_widths((2, 2), "same") == ((0, 1), (0, 1))
    assert pad_widths((4, 3), "same") == ((1, 2), (1, 1))
    np.testing.assert_array_equal(convolve(image, [[1, 0], [0, 0]], padding="same"), image)
    assert convolve(image, [[0, 0], [0, 1]], padding="same").tolist() == [
        [5, 6, 0],
        [8, 9, 0],
        [0, 0, 0],
    ]


def test_full_padding_gives_the_impulse_response_as_flipped_kernel():
    impulse = np.zeros((1, 1))
    impulse[0, 0] = 1
    kernel = np.arange(6.0).reshape(2, 3)
    # Cross-correlating an impulse yields the kernel rotated by 180 degrees.
    np.testing.assert_array_equal(convolve(impulse, kernel, padding="full"), kernel[::-1, ::-1])


def test_identity_keeps_the_image_with_same_and_trims_it_with_valid():
    image = np.random.default_rng(1).integers(0, 256, (9, 7)).astype(np.uint8)
    identity = KERNELS["identity"].weights
    np.testing.assert_array_equal(convolve(image, identity, padding="same"), image)
    np.testing.assert_array_equal(convolve(image, identity), image[1:-1, 1:-1])


def test_output_shapes():
    assert output_shape((224, 224), (3, 3), "valid") == (222, 222)
    assert output_shape((10, 20), (4, 3), "same") == (10, 20)
    assert output_shape((10, 20), (4, 3), "full") == (13, 22)
    assert output_shape((2, 2), (3, 3), "valid") == (0, 0)


def test_dtype_policy():
    assert convolve(np.ones((4, 4), np.uint8), np.ones((3, 3))).dtype == np.float64
    assert convolve(np.ones((4, 4), np.float32), np.ones((3, 3))).dtype == np.float32
    assert convolve(np.ones((4, 4), bool), np.ones((3, 3))).tolist() == [[9, 9], [9, 9]]


# --- properties against the oracle ----------------------------------------------

dims = st.integers(1, 9)
kdims = st.integers(1, 5)
# Repeated values exercise the grouping of equal weights; zeros the skipping.
weights = st.one_of(
    st.sampled_from([0.0, 1.0, -1.0, 0.25, 2.0]),
    st.floats(-100, 100, allow_nan=False, width=64),
)


@st.composite
def image_and_kernel(draw, dtype=np.float64):
    kshape = (draw(kdims), draw(kdims))
    kernel = draw(hnp.arrays(np.float64, kshape, elements=weights))
    if dtype == np.uint8:
        elements = st.integers(0, 255)
    else:
        elements = st.floats(-1000, 1000, allow_nan=False, width=np.dtype(dtype).itemsize * 8)
    image = draw(hnp.arrays(dtype, (draw(dims), draw(dims)), elements=elements))
    return image, kernel


@settings(max_examples=150, deadline=None)
@given(image_and_kernel(), st.sampled_from(["same", "full"]), st.sampled_from(BORDERS))
def test_padded_modes_match_the_loop(case, padding, border):
    image, kernel = case
    expected = reference(image, kernel, padding, border)
    got = convolve(image, kernel, padding=padding, border=border)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=0, atol=tolerance(image, kernel))


@settings(max_examples=150, deadline=None)
@given(image_and_kernel(dtype=np.uint8))
def test_valid_matches_the_loop_on_uint8(case):
    image, kernel = case
    if min(output_shape(image.shape, kernel.shape, "valid")) <= 0:
        with pytest.raises(ValueError, match="use padding='same'"):
            convolve(image, kernel)
        return
    np.testing.assert_allclose(
        convolve(image, kernel), reference(image, kernel), rtol=0, atol=tolerance(image, kernel)
    )


@settings(max_examples=100, deadline=None)
@given(image_and_kernel(dtype=np.float32), st.sampled_from(["same", "full"]))
def test_float32_matches_the_loop_within_float32_tolerance(case, padding):
    image, kernel = case
    got = convolve(image, kernel, padding=padding)
    assert got.dtype == np.float32
    expected = reference(image, kernel.astype(np.float32), padding)
    np.testing.assert_allclose(got, expected, rtol=0, atol=tolerance(image, kernel, np.float32))


@settings(max_examples=50, deadline=None)
@given(image_and_kernel(), st.floats(-10, 10), st.floats(-10, 10))
def test_linearity(case, a, b):
    image, kernel = case
    other = np.roll(image, 1)
    left = convolve(a * image + b * other, kernel, padding="same")
    right = a * convolve(image, kernel, padding="same") + b * convolve(
        other, kernel, padding="same"
    )
    scale = (abs(a) + abs(b)) * tolerance(image, kernel) + 1e-9
    np.testing.assert_allclose(left, right, rtol=0, atol=16 * scale)


def test_zero_image_gives_zeros():
    assert not convolve(np.zeros((6, 5)), KERNELS["outline"].weights, padding="same").any()


# --- argument checking ----------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "kernel", "kwargs", "message"),
    [
        (np.zeros((3, 3, 3)), np.ones((3, 3)), {}, "image must be 2-D"),
        (np.zeros((4, 4)), np.ones(3), {}, "kernel must be 2-D"),
        (np.zeros((0, 4)), np.ones((1, 1)), {}, "image must not be empty"),
        (np.zeros((4, 4)), np.ones((0, 3)), {}, "kernel must not be empty"),
        (np.zeros((4, 4)), [[np.nan]], {}, "kernel must be finite"),
        (np.zeros((4, 4)), [[np.inf]], {}, "kernel must be finite"),
        (np.zeros((4, 4)), np.ones((3, 3)), {"padding": "SAME!"}, "padding must be one of"),
        (np.zeros((4, 4)), np.ones((3, 3)), {"border": "mirror"}, "border must be one of"),
        (np.zeros((2, 5)), np.ones((3, 3)), {}, "smaller than the 3x3 kernel"),
        (np.array([["a"]]), np.ones((1, 1)), {}, "image must hold real numbers"),
    ],
)
def test_invalid_arguments_name_the_parameter(image, kernel, kwargs, message):
    with pytest.raises(ValueError, match=message):
        convolve(image, kernel, **kwargs)


def test_input_is_not_modified():
    image = np.arange(25.0).reshape(5, 5)
    before = image.copy()
    convolve(image, SHARPEN, padding="same", border="reflect")
    np.testing.assert_array_equal(image, before)
