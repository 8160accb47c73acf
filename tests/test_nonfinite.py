"""No strategy changes the answer: non-finite pixels and byte order.

An FFT tile mixes every pixel into every output of the tile, so one NaN or
infinity would spoil the whole tile; the SVD factors of a separable kernel
put tiny non-zero weights where the kernel has zeros (``1e-17 * inf`` is
inf). So a non-finite image is always computed directly, under ``auto`` and
under a forced strategy. The reference is the direct strategy, exactly
(``assert_array_equal`` treats NaN as equal to NaN): direct skips zero taps,
so a NaN under a zero weight stays out of the sum. Where the kernel has no
zero weight the tutorial's loop (which multiplies every tap) must agree on
which outputs are finite, and on the finite values within the usual tolerance.
"""

from __future__ import annotations

import contextlib
import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from convcli.engine import choose_strategy, convolve, cost

from .oracle import reference, tolerance

STRATEGIES = ("auto", "direct", "separable", "fft")


@contextlib.contextmanager
def tiny_tiles():
    """Small bands and 16-point FFT tiles, so small images cross many of them."""
    saved = cost.COSTS
    cost.COSTS = dataclasses.replace(saved, band_bytes=64, direct_band_bytes=64, fft_tile=16)
    try:
        yield
    finally:
        cost.COSTS = saved


def test_one_nan_spoils_only_the_windows_over_it_under_auto():
    """The issue's case: 600², one NaN, a dense 31x31 kernel (which auto would send to FFT)."""
    rng = np.random.default_rng(0)
    image = rng.random((600, 600))
    image[300, 300] = np.nan
    kernel = rng.normal(size=(31, 31))
    assert choose_strategy(image.shape, kernel, "same") == "fft"  # for a finite image
    got = convolve(image, kernel, padding="same")
    assert int(np.isnan(got).sum()) == 31 * 31
    np.testing.assert_array_equal(got, convolve(image, kernel, padding="same", strategy="direct"))


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_strategy_gives_directs_answer_on_non_finite_images(strategy, value, dtype):
    rng = np.random.default_rng(1)
    image = (rng.random((70, 90)) * 255).astype(dtype)
    image[10, 20] = value
    image[50, 60] = value
    line = np.exp(-0.5 * np.linspace(-2, 2, 15) ** 2)
    for kernel in (np.outer(line, line), rng.normal(size=(9, 13))):  # rank 1 and dense
        with tiny_tiles():
            got = convolve(image, kernel, padding="same", strategy=strategy)
            expected = convolve(image, kernel, padding="same", strategy="direct")
        assert got.dtype == dtype
        np.testing.assert_array_equal(got, expected)
        # Two spoilt pixels, each in kh*kw windows (none of the weights is zero).
        assert int((~np.isfinite(got)).sum()) == 2 * kernel.size


# Images of small integers with NaN and infinities sprinkled in; kernels without
# zero weights, so the tutorial's loop (which multiplies every tap) is comparable.
pixels = st.one_of(
    st.integers(-50, 50).map(float),
    st.sampled_from([np.nan, np.inf, -np.inf]),
)
nonzero = st.one_of(st.floats(0.5, 4), st.floats(-4, -0.5))


@settings(max_examples=60, deadline=None)
@given(
    image=hnp.arrays(
        np.float64, st.tuples(st.integers(3, 12), st.integers(3, 12)), elements=pixels
    ),
    kernel=hnp.arrays(
        np.float64, st.tuples(st.integers(1, 4), st.integers(1, 4)), elements=nonzero
    ),
    padding=st.sampled_from(["valid", "same", "full"]),
    strategy=st.sampled_from(STRATEGIES),
)
def test_non_finite_results_match_the_tutorials_loop(image, kernel, padding, strategy):
    if padding == "valid" and (
        image.shape[0] < kernel.shape[0] or image.shape[1] < kernel.shape[1]
    ):
        return
    with tiny_tiles():
        got = convolve(image, kernel, padding=padding, strategy=strategy)
    with np.errstate(invalid="ignore"):
        expected = reference(image, kernel, padding)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    np.testing.assert_array_equal(np.isposinf(got), np.isposinf(expected))
    np.testing.assert_array_equal(np.isneginf(got), np.isneginf(expected))
    finite = np.isfinite(expected)
    clean = np.where(np.isfinite(image), image, 0)
    np.testing.assert_allclose(got[finite], expected[finite], rtol=0, atol=tolerance(clean, kernel))


def test_a_nan_under_a_zero_weight_is_skipped_by_every_strategy():
    """Direct skips zero taps; the others must not bring the NaN back."""
    image = np.ones((40, 40))
    image[20, 20] = np.nan
    kernel = np.zeros((5, 5))
    kernel[0, 0] = 1.0  # one tap: every other weight is zero
    results = [convolve(image, kernel, padding="same", strategy=s) for s in STRATEGIES]
    for result in results:
        np.testing.assert_array_equal(result, results[1])
    assert int(np.isnan(results[0]).sum()) == 1


# --- byte order -------------------------------------------------------------------


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("order", ["<", ">"])
def test_float32_in_either_byte_order_keeps_float32(strategy, order):
    rng = np.random.default_rng(2)
    native = (rng.random((64, 80)) * 255).astype(np.float32)
    swapped = native.astype(f"{order}f4")
    kernel = rng.normal(size=(5, 5))
    with tiny_tiles():
        got = convolve(swapped, kernel, padding="same", strategy=strategy)
        expected = convolve(native, kernel, padding="same", strategy=strategy)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, expected)  # the same float32 work, bit for bit


def test_big_endian_float64_and_integers_keep_float64():
    image = np.arange(48, dtype=">f8").reshape(6, 8)
    assert convolve(image, np.ones((3, 3))).dtype == np.float64
    assert convolve(image.astype(">i2"), np.ones((3, 3))).dtype == np.float64
    np.testing.assert_array_equal(
        convolve(image, np.ones((3, 3))), convolve(image.astype("<f8"), np.ones((3, 3)))
    )
