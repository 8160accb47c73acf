"""The compiled band loop (engine/_fused.c) against the pure-NumPy direct strategy.

Both compute the same sums in another order (NumPy adds the taps of equal
weights first, then multiplies; the C loop multiplies and adds tap by tap,
never fused into one rounding: setup.py builds it with -ffp-contract=off), so they agree within
``oracle.tolerance`` (4·n·ε·Σ|k|·max|x| in the working dtype), and both within
it of the tutorial's loop. For integer images and integer kernels every
product and sum is exact, so they agree bit for bit. ``CostModel.compiled =
False`` selects the NumPy path, as everywhere else.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from convcli import KERNELS
from convcli.engine import BORDERS, PADDINGS, convolve, convolve_uint8, cost, fused
from convcli.engine.direct import Direct
from convcli.engine.sinks import ClipStats, Uint8Sink

from .oracle import tolerance

built = fused._fused is not None
compiler = shutil.which("cc") or shutil.which("gcc")


@contextlib.contextmanager
def model(**changes):
    saved = cost.COSTS
    cost.COSTS = dataclasses.replace(saved, **changes)
    try:
        yield
    finally:
        cost.COSTS = saved


def both(image, kernel, **options):
    """(compiled, NumPy) results, with small bands so images cross several."""
    with model(band_bytes=256, direct_band_bytes=256):
        compiled = convolve(image, kernel, strategy="direct", **options)
        with model(compiled=False):
            numpy = convolve(image, kernel, strategy="direct", **options)
    return compiled, numpy


def test_the_extension_is_built_where_a_compiler_is():
    """`pip install -e .` (make test's install) builds it; without a compiler it is optional."""
    if compiler is None:
        pytest.skip("no C compiler on this machine: the engine runs pure NumPy")
    assert built and fused.available()
    with model(compiled=False):
        assert not fused.available()


needs_build = pytest.mark.skipif(not built, reason="the C extension is not built")


@needs_build
@settings(max_examples=150, deadline=None)
@given(
    image=st.tuples(st.integers(1, 40), st.integers(1, 90)).flatmap(
        lambda shape: st.one_of(
            hnp.arrays(
                st.sampled_from([np.float32, np.float64]),
                shape,
                elements=st.floats(-1000, 1000, allow_nan=False, width=32),
            ),
            hnp.arrays(np.uint8, shape),  # read as bytes by the loop, converted in registers
        )
    ),
    kernel=st.tuples(st.integers(1, 6), st.integers(1, 6)).flatmap(
        lambda shape: hnp.arrays(
            np.float64,
            shape,
            elements=st.one_of(st.sampled_from([0.0, 1.0, -1.0]), st.floats(-10, 10)),
        )
    ),
    padding=st.sampled_from(PADDINGS),
    border=st.sampled_from(BORDERS),
    stride=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    dilation=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    threads=st.sampled_from([1, 2]),
)
def test_compiled_and_numpy_direct_agree(image, kernel, padding, border, stride, dilation, threads):
    options = {"padding": padding, "border": border, "stride": stride, "dilation": dilation}
    span = [d * (k - 1) + 1 for d, k in zip(dilation, kernel.shape, strict=True)]
    if padding == "valid" and (image.shape[0] < span[0] or image.shape[1] < span[1]):
        return
    compiled, numpy = both(image, kernel, threads=threads, **options)
    assert (
        compiled.dtype == numpy.dtype == (np.float32 if image.dtype == np.float32 else np.float64)
    )
    if image.dtype == np.uint8 and np.array_equal(kernel, np.round(kernel)):
        np.testing.assert_array_equal(compiled, numpy)  # integers: every sum is exact
    np.testing.assert_allclose(
        compiled, numpy, rtol=0, atol=2 * tolerance(image, kernel, compiled.dtype)
    )


@needs_build
@pytest.mark.parametrize("name", list(KERNELS))
def test_integer_images_and_kernels_agree_bit_for_bit(name):
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (70, 130)).astype(np.float32)
    weights = KERNELS[name].weights * 256  # built-ins are in sixteenths or 1/256ths
    if not np.array_equal(weights, np.round(weights)):
        pytest.skip(f"{name} has non-dyadic weights")
    compiled, numpy = both(image, weights, padding="same")
    np.testing.assert_array_equal(compiled, numpy)


@needs_build
def test_fused_8bit_path_is_the_same_either_way():
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (300, 301), dtype=np.uint8)
    for name in ("sharpen", "blur", "outline", "emboss", "gaussian5"):
        weights = KERNELS[name].weights
        compiled = convolve_uint8(image, weights, padding="same", strategy="direct")
        with model(compiled=False):
            numpy = convolve_uint8(image, weights, padding="same", strategy="direct")
        np.testing.assert_array_equal(compiled, numpy)


@needs_build
def test_non_finite_pixels_spoil_the_same_outputs_either_way():
    image = np.random.default_rng(2).random((50, 60)).astype(np.float32)
    image[10, 10], image[30, 40], image[45, 5] = np.nan, np.inf, -np.inf
    kernel = np.array([[1.0, 0.0, -2.0], [0.5, 3.0, 0.0]])
    compiled, numpy = both(image, kernel, padding="same")
    np.testing.assert_array_equal(np.isnan(compiled), np.isnan(numpy))
    np.testing.assert_array_equal(np.isposinf(compiled), np.isposinf(numpy))
    finite = np.isfinite(numpy)
    clean = np.where(np.isfinite(image), image, 0)
    np.testing.assert_allclose(
        compiled[finite], numpy[finite], atol=tolerance(clean, kernel, np.float32)
    )


@needs_build
def test_strategy_picks_the_compiled_loop_only_for_contiguous_columns():
    kernel = np.ones((3, 3))
    dtype = np.dtype(np.float32)
    assert isinstance(fused.direct(kernel, dtype), fused.Compiled)
    assert isinstance(fused.direct(kernel, dtype, stride=(1, 2)), fused.Compiled)
    assert isinstance(fused.direct(kernel, np.dtype(np.float16)), Direct)
    with model(compiled=False):
        assert isinstance(fused.direct(kernel, dtype), Direct)
    # A band whose columns are strided (a view of a caller's array) goes to NumPy.
    plan = fused.direct(kernel, dtype)
    src = np.arange(2 * 8 * 12, dtype=np.float32).reshape(8, 24)[:, ::2]
    dst = np.empty((6, 10), np.float32)
    plan.band(src, dst, {})
    np.testing.assert_allclose(dst, convolve(np.ascontiguousarray(src), kernel))


@needs_build
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8])
@pytest.mark.parametrize("padding", PADDINGS)
@pytest.mark.parametrize("border", ["zero", "reflect", "wrap"])
def test_a_strided_result_is_exactly_every_stride_th_output(dtype, padding, border):
    """Strided or not, each output is the same sum in the same order: bit for bit,
    borders (read through the column map) and vector-wide interiors alike."""
    rng = np.random.default_rng(3)
    image = (rng.random((61, 83)) * 255).astype(dtype)
    kernel = rng.normal(size=(3, 4))
    for stride in ((2, 2), (1, 2), (1, 3), (3, 1)):
        # 'valid' keeps the stride-1 grid's origin at any stride; 'same'/'full' pad by
        # the stride, so compare on a pre-padded image with 'valid' there.
        source = (
            image
            if padding == "valid"
            else np.pad(image, 5, mode={"zero": "constant"}.get(border, border))
        )
        full = convolve(source, kernel, strategy="direct")
        strided = convolve(source, kernel, strategy="direct", stride=stride)
        np.testing.assert_array_equal(strided, full[:: stride[0], :: stride[1]])
        # Read in place through the maps (borders included) against the reader's padded
        # copy, which a view with strided columns gets: the same bits.
        wide = np.zeros((image.shape[0], 2 * image.shape[1]), dtype)
        wide[:, ::2] = image
        options = {"padding": padding, "border": border, "stride": stride, "strategy": "direct"}
        with model(band_bytes=256):
            np.testing.assert_array_equal(
                convolve(image, kernel, **options), convolve(wide[:, ::2], kernel, **options)
            )


@needs_build
def test_the_loop_reads_the_image_itself_and_falls_back_to_a_padded_copy(monkeypatch):
    """A plain 2-D image (working dtype or uint8, contiguous columns) is read in
    place through the reader's maps; any other goes through the reader's copy."""
    calls = []
    image_band = fused.Compiled.image_band

    def spy(self, *args):
        calls.append(read := image_band(self, *args))
        return read

    monkeypatch.setattr(fused.Compiled, "image_band", spy)
    rng = np.random.default_rng(4)
    image = rng.random((40, 70)).astype(np.float32)
    kernel = rng.normal(size=(3, 3))
    for source in (image, (image * 255).astype(np.uint8), image.astype(np.float16)):
        calls.clear()
        convolve(source, kernel, padding="same", strategy="direct")
        assert calls and all(calls) == (source.dtype != np.float16)
    calls.clear()
    strided = convolve(image[:, ::2], kernel, padding="same", strategy="direct")
    assert calls and not any(calls)
    np.testing.assert_array_equal(
        strided, convolve(np.ascontiguousarray(image[:, ::2]), kernel, padding="same")
    )


@needs_build
def test_the_extension_refuses_what_would_read_or_write_out_of_bounds():
    correlate = fused._fused.correlate
    src = np.zeros((4, 4), np.float32)
    dst = np.zeros((2, 2), np.float32)
    taps = np.array([0], np.int64)
    weight = np.ones(1, np.float32)
    correlate(src, dst, taps, taps, weight, 1, 1)  # fine
    with pytest.raises(ValueError, match="outside"):
        correlate(src, dst, np.array([3], np.int64), taps, weight, 1, 1)
    with pytest.raises(ValueError, match="outside"):
        correlate(src, dst, taps, taps, weight, 4, 1)  # (2 - 1) * 4 + 0 >= 4 rows
    with pytest.raises(TypeError, match="float32 or float64"):
        correlate(src, dst.astype(np.float64), taps, taps, weight, 1, 1)
    with pytest.raises(ValueError, match="contiguous"):
        correlate(src[:, ::2], np.zeros((2, 1), np.float32), taps, taps, weight, 1, 1)
    with pytest.raises(ValueError, match="one int64"):
        correlate(src, dst, taps, taps, np.ones(2, np.float32), 1, 1)
    with pytest.raises(TypeError):
        correlate(src, dst.view(np.uint32), taps, taps, weight, 1, 1)
    read_only = np.zeros((2, 2), np.float32)
    read_only.flags.writeable = False
    with pytest.raises((ValueError, BufferError)):
        correlate(src, read_only, taps, taps, weight, 1, 1)


@needs_build
def test_the_image_reader_refuses_maps_that_would_read_out_of_bounds():
    correlate_image = fused._fused.correlate_image
    image = np.zeros((4, 5), np.float32)
    dst = np.zeros((2, 2), np.float32)
    rows, cols = np.arange(4, dtype=np.int64), np.arange(5, dtype=np.int64)
    taps = np.array([0], np.int64)
    weight = np.ones(1, np.float32)
    correlate_image(image, dst, rows, cols, 0, 5, taps, taps, weight, 1, 1)  # fine
    correlate_image(image.astype(np.uint8), dst, rows, cols, 0, 5, taps, taps, weight, 1, 1)
    with pytest.raises(ValueError, match="row_map points outside"):
        correlate_image(image, dst, rows + 1, cols, 0, 5, taps, taps, weight, 1, 1)
    with pytest.raises(ValueError, match="col_map points outside"):
        correlate_image(image, dst, rows, cols - 2, 2, 5, taps, taps, weight, 1, 1)
    with pytest.raises(ValueError, match="col_map points outside"):
        correlate_image(image, dst, rows, cols + 3, 0, 2, taps, taps, weight, 1, 1)
    with pytest.raises(ValueError, match="run lo:hi reads outside"):
        correlate_image(image, dst, rows, cols + 1, 0, 5, taps, taps, weight, 1, 1)
    with pytest.raises(ValueError, match="lie in col_map"):
        correlate_image(image, dst, rows, cols, 0, 6, taps, taps, weight, 1, 1)
    with pytest.raises(ValueError, match="outside the maps"):
        correlate_image(image, dst, rows[:1], cols, 0, 5, taps, taps, weight, 1, 1)
    with pytest.raises(TypeError, match="float32 or float64"):
        correlate_image(image, dst.astype(np.uint8), rows, cols, 0, 5, taps, taps, weight, 1, 1)
    with pytest.raises(TypeError, match="float32 or float64"):
        correlate_image(image.astype(np.int16), dst, rows, cols, 0, 5, taps, taps, weight, 1, 1)
    # A padded row or column (-1) reads as zero: the sum of a one-tap kernel is the pixel.
    image[:] = np.arange(20).reshape(4, 5)
    padded_rows = np.array([-1, 0, 1, 2, 3, -1], np.int64)
    padded_cols = np.array([-1, 0, 1, 2, 3, 4, -1], np.int64)
    out = np.full((6, 7), np.nan, np.float32)
    correlate_image(image, out, padded_rows, padded_cols, 1, 6, taps, taps, weight, 1, 1)
    np.testing.assert_array_equal(out, np.pad(image, 1))


def _write(band, scale, offset, stats, mask=None, channels=0):
    """One Uint8Sink.write of ``band``: (bytes, stats, mask) as the sink leaves them."""
    out = np.zeros((*band.shape, channels) if channels else band.shape, np.uint8)
    into = out[..., 0] if channels else out
    sink = Uint8Sink(into, np.float32(scale), np.float32(offset), stats, mask)
    sink.write(0, band.copy())
    return out, stats, mask


@needs_build
@settings(max_examples=200, deadline=None)
@given(
    band=st.tuples(st.integers(1, 5), st.integers(1, 40)).flatmap(
        lambda shape: hnp.arrays(
            np.float32,
            shape,
            elements=st.one_of(
                st.floats(-1e6, 1e6, width=32),
                st.integers(-3, 260).map(lambda n: n + 0.5),  # ties round to even
                st.floats(-1, 256, width=32),
            ),
        )
    ),
    scale=st.sampled_from([1.0, 0.5, -1.0, 3.0]),
    offset=st.sampled_from([0.0, 128.0, -0.5]),
    colour=st.booleans(),
)
def test_the_compiled_8bit_writer_gives_numpys_bytes_and_stats(band, scale, offset, colour):
    """Scale, offset, round half to even, clip, count: each rounded as NumPy's float32
    step, so the same bytes, range and clipped pixels (or marks, for colour)."""
    results = []
    for compiled in (True, False):
        with model(compiled=compiled):
            mask = np.zeros(band.shape, bool) if colour else None
            results.append(_write(band, scale, offset, ClipStats(), mask, 3 if colour else 0))
    (out, stats, mask), (expected, want, want_mask) = results
    np.testing.assert_array_equal(out, expected)
    stats._close(mask)
    want._close(want_mask)
    assert (stats.minimum, stats.maximum, stats.clipped, stats.pixels) == (
        want.minimum,
        want.maximum,
        want.clipped,
        want.pixels,
    )


@needs_build
def test_the_compiled_8bit_writer_stores_nan_as_zero_and_infinities_clipped():
    band = np.array([[np.nan, np.inf, -np.inf, 254.5, 255.5, -0.5]], np.float32)
    out = np.zeros(band.shape, np.uint8)
    low, high, clipped = fused._fused.to_uint8(band, out, 1.0, 0.0, None)
    np.testing.assert_array_equal(out, [[0, 255, 0, 254, 255, 0]])
    # inf, -inf and 255.5 (256) clip; NaN is not counted, as in NumPy; -0.5 rounds to -0.
    assert np.isnan(low) and np.isnan(high) and clipped == 3
    with pytest.raises(TypeError, match="float32"):
        fused._fused.to_uint8(band.astype(np.float64), out, 1.0, 0.0, None)
    with pytest.raises(ValueError, match="one shape"):
        fused._fused.to_uint8(band, out[:, :3], 1.0, 0.0, None)


def test_a_stale_build_counts_as_absent(monkeypatch):
    """An in-place .so older than the code (no API constant, or another one) would fail
    every image with an AttributeError: the engine runs NumPy instead."""
    import types

    from convcli.engine import native

    for api in (None, native.API - 1):
        stale = types.ModuleType("convcli.engine._fused")
        if api is not None:
            stale.API = api
        monkeypatch.setattr(native.importlib, "import_module", lambda name, m=stale: m)
        assert native._load() is None
    current = types.ModuleType("convcli.engine._fused")
    current.API = native.API
    monkeypatch.setattr(native.importlib, "import_module", lambda name: current)
    assert native._load() is current
