"""Geometry against TensorFlow's worked cases and a brute-force definition.

The brute force counts windows one by one: an output position exists when
its whole (dilated) window lies inside the padded axis; ``same`` wants
``ceil(n / s)`` outputs and takes the least total padding that gives them,
half of it (rounded down) before. No arithmetic is shared with the module.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from convcli.engine import (
    BORDERS,
    PADDINGS,
    Geometry,
    cost,
    output_shape,
    pad_widths,
    sample_centres,
)
from convcli.engine.bands import run_bands
from convcli.engine.direct import Direct
from convcli.engine.reader import PaddedReader
from convcli.engine.sinks import ArraySink
from convcli.visuals import result_offset

from .oracle import reference


def windows(length: int, span: int, stride: int) -> list[int]:
    """Start of every window that fits inside ``length`` padded pixels."""
    return [i * stride for i in range(length + 1) if i * stride + span <= length]


def brute_axis(n: int, k: int, padding: str, s: int, d: int) -> tuple[int, int, int]:
    """``(before, after, out)`` for one axis, by counting windows."""
    span = len(range(0, d * (k - 1) + 1))  # taps 0, d, 2d, ... (k-1)d: first to last
    if padding == "valid":
        return 0, 0, len(windows(n, span, s))
    if padding == "full":
        return span - 1, span - 1, len(windows(n + 2 * (span - 1), span, s))
    want = len([i for i in range(n) if i * s < n])  # one output per stride step inside
    total = 0
    while len(windows(n + total, span, s)) < want:
        total += 1
    return total // 2, total - total // 2, want


def test_tensorflow_worked_cases():
    g = Geometry((3, 3), "same", stride=2)
    assert g.output_shape((6, 6)) == (3, 3)
    assert g.pads((6, 6)) == ((0, 1), (0, 1))
    g = Geometry((7, 7), "same", stride=2)
    assert g.output_shape((224, 224)) == (112, 112)
    assert g.pads((224, 224)) == ((2, 3), (2, 3))


def test_stride_and_dilation_are_pairs_and_checked():
    g = Geometry((3, 5), "valid", stride=(2, 1), dilation=3)
    assert (g.stride, g.dilation, g.span) == ((2, 1), (3, 3), (7, 13))
    for bad in ({"stride": 0}, {"dilation": (1, 0)}, {"stride": (1, 2, 3)}):
        with pytest.raises(ValueError, match="must be a positive integer"):
            Geometry((3, 3), **bad)
    with pytest.raises(ValueError, match="padding must be one of"):
        Geometry((3, 3), "causal")


@settings(max_examples=300, deadline=None)
@given(
    n=st.tuples(st.integers(1, 40), st.integers(1, 40)),
    k=st.tuples(st.integers(1, 9), st.integers(1, 9)),
    padding=st.sampled_from(PADDINGS),
    s=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    d=st.tuples(st.integers(1, 3), st.integers(1, 3)),
)
def test_geometry_matches_the_brute_force_definition(n, k, padding, s, d):
    g = Geometry(k, padding, stride=s, dilation=d)
    axes = [brute_axis(n[a], k[a], padding, s[a], d[a]) for a in (0, 1)]
    expected_out = (axes[0][2], axes[1][2])
    if min(expected_out) > 0 or padding != "valid":
        assert g.output_shape(n) == expected_out
    else:  # valid and too small: empty (the formula may go below zero)
        assert min(g.output_shape(n)) <= 0
    assert g.fits(n) == (min(expected_out) > 0)
    assert g.pads(n) == ((axes[0][0], axes[0][1]), (axes[1][0], axes[1][1]))
    if g.fits(n):
        oh = expected_out[0]
        r0 = oh // 3
        r1 = max(r0 + 1, oh - oh // 4)
        touched = [i * s[0] + t * d[0] for i in range(r0, r1) for t in range(k[0])]
        assert g.input_rows(r0, r1) == (min(touched), max(touched) + 1)
        # Output (0, 0) is centred on the anchor tap of the first window.
        dy = (k[0] - 1) // 2 * d[0] - axes[0][0]
        dx = (k[1] - 1) // 2 * d[1] - axes[1][0]
        assert g.offset(n) == (dy, dx)


@settings(max_examples=100, deadline=None)
@given(
    n=st.tuples(st.integers(1, 30), st.integers(1, 30)),
    k=st.tuples(st.integers(1, 8), st.integers(1, 8)),
    padding=st.sampled_from(PADDINGS),
)
def test_stride_one_wrappers_keep_their_formulas(n, k, padding):
    widths = pad_widths(k, padding)
    for (b, a), size in zip(widths, k, strict=True):
        if padding == "valid":
            assert (b, a) == (0, 0)
        elif padding == "same":
            assert (b, a) == ((size - 1) // 2, size - 1 - (size - 1) // 2)
        else:
            assert (b, a) == (size - 1, size - 1)
    assert output_shape(n, k, padding) == tuple(
        m + b + a - size + 1 for m, size, (b, a) in zip(n, k, widths, strict=True)
    )
    assert result_offset(k, padding) == Geometry(k, padding).offset(n)


@settings(max_examples=100, deadline=None)
@given(
    image=st.tuples(st.integers(1, 12), st.integers(1, 12)).flatmap(
        lambda shape: hnp.arrays(np.uint8, shape, elements=st.integers(0, 255))
    ),
    k=st.tuples(st.integers(1, 6), st.integers(1, 6)),
    padding=st.sampled_from(PADDINGS),
    border=st.sampled_from(BORDERS),
)
def test_sample_centres_is_the_one_hot_convolution(image, k, padding, border):
    geometry = Geometry(k, padding)
    if not geometry.fits(image.shape):
        return
    one_hot = np.zeros(k)
    one_hot[geometry.anchor] = 1
    got = sample_centres(image, geometry, border)
    assert got.dtype == image.dtype
    np.testing.assert_array_equal(got, reference(image, one_hot, padding, border))


def test_sample_centres_strides_and_carries_channels():
    image = np.arange(7 * 8 * 2).reshape(7, 8, 2)
    got = sample_centres(image, Geometry((3, 3), "valid", stride=2))
    np.testing.assert_array_equal(got, image[1:6:2, 1:7:2])


def test_the_runner_reads_a_memmap_and_fills_a_memmap(tmp_path, monkeypatch):
    # Small bands, so the 40 rows cross several bands on two threads.
    monkeypatch.setattr(cost, "COSTS", dataclasses.replace(cost.COSTS, direct_band_bytes=64))
    rng = np.random.default_rng(1)
    pixels = rng.random((40, 33))
    source = np.lib.format.open_memmap(tmp_path / "in.npy", "w+", np.float64, pixels.shape)
    source[...] = pixels
    kernel = rng.normal(size=(4, 3))
    geometry = Geometry(kernel.shape, "same")
    shape = geometry.output_shape(pixels.shape)
    out = np.lib.format.open_memmap(tmp_path / "out.npy", "w+", np.float64, shape)
    reader = PaddedReader(source, geometry.pads(pixels.shape), "reflect", np.dtype(np.float64))
    run_bands(reader, Direct(kernel, out.dtype), geometry, shape, ArraySink(out), 2, out.dtype)
    out.flush()
    # 12 products per pixel of values under 1: float64 reordering errors ~1e-15.
    expected = reference(pixels, kernel, "same", "reflect")
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), expected, rtol=0, atol=1e-12)
