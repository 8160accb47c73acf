"""Every engine strategy against the tutorial's loop, the fused 8-bit path, and the cost model.

Tolerances (see ``convolve``'s docstring): direct and separable differ from the
loop only in summation order, so ``oracle.tolerance`` applies (4·n·ε·Σ|k|·max|x|);
FFT spreads rounding over a tile, so it gets 16·log2(N)·ε·Σ|k|·max|x|.
The band and tile sizes are shrunk here so that small images still cross
several bands, tiles and threads.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from convcli import KERNELS, engine
from convcli.cpus import usable_cpus
from convcli.engine import BORDERS, PADDINGS, choose_strategy, convolve, convolve_uint8, cost
from convcli.engine.bands import thread_count
from convcli.engine.decompose import terms as separable_terms
from convcli.imageio import to_uint8

from .oracle import reference, tolerance

STRATEGIES = ("direct", "separable", "fft")


@contextlib.contextmanager
def tiny_bands(**changes):
    """A few rows per band and 16-point FFT tiles (and any other ``changes`` to the
    cost model), restored afterwards."""
    saved = cost.COSTS
    cost.COSTS = dataclasses.replace(
        saved, band_bytes=64, direct_band_bytes=64, fft_tile=16, **changes
    )
    try:
        yield
    finally:
        cost.COSTS = saved


def fft_tolerance(image: np.ndarray, kernel: np.ndarray, dtype=np.float64) -> float:
    eps = np.finfo(dtype).eps
    n = max(image.shape) + max(kernel.shape)
    bound = float(np.abs(kernel).sum()) * max(float(np.abs(image).max(initial=0)), 1.0)
    return 16 * math.log2(max(n, 2)) * eps * bound


def allowed(strategy: str, image: np.ndarray, kernel: np.ndarray, dtype=np.float64) -> float:
    # Plus one subnormal per tap: float32 products of tiny weights round absolutely.
    floor = 2 * kernel.size * float(np.finfo(dtype).smallest_subnormal)
    if strategy == "fft":
        return fft_tolerance(image, kernel, dtype) + floor
    return tolerance(image, kernel, dtype) + floor


# Repeated values exercise the grouping of equal weights, zeros the skipping.
# Weights under 1e-30 become 0: subnormal products only test float32 casting.
weights = st.one_of(
    st.sampled_from([0.0, 1.0, -1.0, 0.25, 2.0]),
    st.floats(-100, 100, allow_nan=False, width=64).map(lambda w: w if abs(w) > 1e-30 else 0.0),
)


@st.composite
def kernels(draw):
    """Random kernels, half of them rank 1 (so the separable path is its own)."""
    kh, kw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    if draw(st.booleans()):
        column = draw(hnp.arrays(np.float64, kh, elements=weights))
        row = draw(hnp.arrays(np.float64, kw, elements=weights))
        return np.outer(column, row)
    return draw(hnp.arrays(np.float64, (kh, kw), elements=weights))


@st.composite
def images(draw, dtype=None):
    dtype = dtype or draw(st.sampled_from([np.uint8, np.float64, np.float32]))
    shape = (draw(st.integers(1, 28)), draw(st.integers(1, 28)))
    if dtype == np.uint8:
        elements = st.integers(0, 255)
    else:
        elements = st.floats(-1000, 1000, allow_nan=False, width=np.dtype(dtype).itemsize * 8)
    return draw(hnp.arrays(dtype, shape, elements=elements))


@pytest.mark.parametrize("strategy", STRATEGIES)
@settings(max_examples=60, deadline=None)
@given(
    image=images(),
    kernel=kernels(),
    padding=st.sampled_from(PADDINGS),
    border=st.sampled_from(BORDERS),
    threads=st.sampled_from([1, 2]),
)
def test_every_strategy_matches_the_loop(strategy, image, kernel, padding, border, threads):
    if min(engine.output_shape(image.shape, kernel.shape, padding)) <= 0:
        return
    dtype = np.float32 if image.dtype == np.float32 else np.float64
    with tiny_bands():
        got = convolve(
            image, kernel, padding=padding, border=border, strategy=strategy, threads=threads
        )
    expected = reference(image, kernel.astype(dtype), padding, border)
    assert got.dtype == dtype
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=0, atol=allowed(strategy, image, kernel, dtype))


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_strategies_on_a_photo_sized_image_with_threads(strategy):
    rng = np.random.default_rng(5)
    image = rng.integers(0, 256, (300, 280)).astype(np.uint8)
    kernel = np.outer([1, 4, 6, 4, 1], [1, 2, 0, -2, -1]) / 64
    expected = convolve(image, kernel, padding="same", border="reflect", strategy="direct")
    got = convolve(image, kernel, padding="same", border="reflect", strategy=strategy, threads=2)
    np.testing.assert_allclose(got, expected, rtol=0, atol=allowed(strategy, image, kernel))


def test_threads_do_not_change_a_single_bit():
    rng = np.random.default_rng(2)
    image = rng.random((97, 61)).astype(np.float32)
    with tiny_bands():
        one = convolve(image, KERNELS["emboss"].weights, padding="same", threads=1)
        many = convolve(image, KERNELS["emboss"].weights, padding="same", threads=3)
    np.testing.assert_array_equal(one, many)


# --- the fused 8-bit path -------------------------------------------------------

DYADIC = [name for name in KERNELS if name != "box"]  # weights exact in float32


@pytest.mark.parametrize("name", DYADIC)
@pytest.mark.parametrize("strategy", ["direct", "separable"])
def test_fused_uint8_is_byte_identical_for_exact_kernels(name, strategy):
    rng = np.random.default_rng(11)
    image = rng.integers(0, 256, (41, 37)).astype(np.uint8)
    kernel = KERNELS[name].weights
    for padding in ("valid", "same"):
        expected = to_uint8(convolve(image, kernel, padding=padding))
        with tiny_bands():
            got = convolve_uint8(image, kernel, padding=padding, strategy=strategy, threads=2)
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, expected)


@settings(max_examples=60, deadline=None)
@given(
    image=images(np.uint8),
    kernel=kernels(),
    padding=st.sampled_from(PADDINGS),
    border=st.sampled_from(BORDERS),
    strategy=st.sampled_from(("auto", *STRATEGIES)),
    scale=st.sampled_from([1.0, 0.5, 3.0]),
    offset=st.sampled_from([0.0, 128.0, -20.0]),
)
def test_fused_uint8_rounds_like_the_float_path(
    image, kernel, padding, border, strategy, scale, offset
):
    if min(engine.output_shape(image.shape, kernel.shape, padding)) <= 0:
        return
    exact = reference(image, kernel, padding, border) * scale + offset
    with tiny_bands():
        got = convolve_uint8(
            image, kernel, padding=padding, border=border, strategy=strategy,
            scale=scale, offset=offset,
        )  # fmt: skip
    expected = to_uint8(exact)
    # float32 work: only a value within its tolerance of a rounding boundary may differ, by 1.
    slack = abs(scale) * allowed("fft", image, kernel, np.float32) + 1e-3
    near_half = np.abs(np.abs(exact - np.floor(exact)) - 0.5) <= slack
    differ = got != expected
    assert (np.abs(got.astype(int) - expected) <= 1).all()
    assert not (differ & ~near_half).any()


def test_fused_uint8_memory_is_far_below_one_float_copy():
    # The working set is the band buffers: a few MiB per thread, whatever the image size.
    image = np.random.default_rng(0).integers(0, 256, (4096, 4096), dtype=np.uint8)
    sharpen = KERNELS["sharpen"].weights
    convolve_uint8(image, sharpen, padding="same", threads=1)  # warm up imports
    tracemalloc.start()
    try:
        result = convolve_uint8(image, sharpen, padding="same", threads=1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    extra = peak - result.nbytes
    assert extra < image.size * 4 // 8, f"{extra} bytes beyond the result"


def test_fused_uint8_checks_its_arguments():
    with pytest.raises(ValueError, match="image must be uint8"):
        convolve_uint8(np.zeros((4, 4)), np.ones((3, 3)))
    with pytest.raises(ValueError, match="scale and offset must be finite"):
        convolve_uint8(np.zeros((4, 4), np.uint8), np.ones((3, 3)), scale=float("nan"))


# --- the cost model ---------------------------------------------------------------


def test_cost_model_picks_the_expected_strategy():
    rng = np.random.default_rng(0)
    assert choose_strategy((224, 224), KERNELS["sharpen"].weights) == "direct"
    assert choose_strategy((224, 224), KERNELS["outline"].weights) == "direct"
    assert choose_strategy((1024, 1024), np.ones((15, 15))) == "separable"
    # gaussian5: NumPy's 50 passes direct lose to two 1-D passes; the compiled loop
    # adds its 25 taps in registers and wins narrowly (2048²: 7.9 ms vs 8.3).
    saved = cost.COSTS
    try:
        cost.COSTS = dataclasses.replace(saved, compiled=False)
        assert choose_strategy((1024, 1024), KERNELS["gaussian5"].weights) == "separable"
    finally:
        cost.COSTS = saved
    expected = "direct" if cost.compiled() else "separable"
    assert choose_strategy((1024, 1024), KERNELS["gaussian5"].weights) == expected
    assert choose_strategy((1024, 1024), rng.normal(size=(31, 31))) == "fft"
    # A large kernel on a tiny image: the FFT's set-up is not worth it.
    assert choose_strategy((12, 12), rng.normal(size=(5, 5)), "same") == "direct"


def test_low_rank_kernels_are_split_into_terms():
    rng = np.random.default_rng(3)
    rank2 = np.outer(rng.normal(size=9), rng.normal(size=9)) + np.outer(
        rng.normal(size=9), rng.normal(size=9)
    )
    terms = separable_terms(rank2)
    assert terms is not None and len(terms) == 2
    np.testing.assert_allclose(sum(np.outer(c, r) for c, r in terms), rank2, atol=1e-12)
    assert separable_terms(rng.normal(size=(5, 5))) is None  # full rank: no gain
    column, row = separable_terms(KERNELS["blur"].weights)[0]
    assert np.outer(column, row).tolist() == KERNELS["blur"].weights.tolist()  # exact


def test_fft_sizes_are_fast_and_large_enough():
    assert [cost.next_fast(n) for n in (1, 7, 226, 254, 1000, 1025)] == [
        1, 8, 240, 256, 1000, 1080,
    ]  # fmt: skip
    size, useful = cost.fft_tile(31, 4096)
    assert size >= 4 * 30 and useful == size - 30


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"strategy": "winograd"}, "strategy must be one of"), ({"threads": 0}, "threads must be")],
)
def test_invalid_strategy_and_threads(kwargs, message):
    with pytest.raises(ValueError, match=message):
        convolve(np.zeros((4, 4)), np.ones((3, 3)), **kwargs)


def test_threads_are_explicit_with_a_size_default():
    # No sniffing of multiprocessing: a worker process asks for threads=1 itself.
    assert thread_count(None, 1 << 24, 100) == min(usable_cpus(), 100)
    assert thread_count(None, 100, 100) == 1  # small images
    assert thread_count(3, 100, 2) == 2  # never more threads than bands
    assert thread_count(1, 1 << 24, 100) == 1


# --- long separable kernels: 1-D passes as matrix products --------------------------

long_lines = st.integers(10, 24).flatmap(
    lambda n: hnp.arrays(np.float64, n, elements=st.floats(-10, 10, allow_nan=False).filter(
        lambda w: abs(w) > 1e-3
    ), unique=True)
)  # fmt: skip


@settings(max_examples=40, deadline=None)
@given(
    image=st.integers(20, 70).flatmap(
        lambda h: hnp.arrays(np.float32, (h, 75 - h), elements=st.floats(-255, 255, width=32))
    ),
    column=long_lines,
    row=long_lines,
    padding=st.sampled_from(PADDINGS),
    border=st.sampled_from(BORDERS),
    threads=st.sampled_from([1, 2]),
)
def test_long_separable_passes_are_matrix_products_matching_the_loop(
    image, column, row, padding, border, threads
):
    kernel = np.outer(column, row)
    if min(engine.output_shape(image.shape, kernel.shape, padding)) <= 0:
        return
    # The NumPy cost model: with the compiled band loop, passes this short stay direct.
    with tiny_bands(compiled=False):
        assert cost.uses_product(column) and cost.uses_product(row)
        assert choose_strategy(image.shape, kernel, padding) != "direct"
        got = convolve(
            image, kernel, padding=padding, border=border, strategy="separable", threads=threads
        )
    expected = reference(image, kernel.astype(np.float32), padding, border)
    np.testing.assert_allclose(
        got, expected, rtol=0, atol=allowed("separable", image, kernel, np.float32)
    )


def test_matrix_products_are_not_used_on_non_finite_images():
    """0 * inf is NaN: a banded matrix would spread an infinity to every pixel of its block."""
    image = np.random.default_rng(4).random((60, 90))
    image[30, 40] = np.inf
    line = np.exp(-0.5 * np.linspace(-2, 2, 15) ** 2)
    kernel = np.outer(line, line)
    got = convolve(image, kernel, padding="same", strategy="separable")
    direct = convolve(image, kernel, padding="same", strategy="direct")
    np.testing.assert_array_equal(np.isfinite(got), np.isfinite(direct))
    assert np.isinf(got).sum() == 15 * 15
