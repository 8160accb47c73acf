"""The extended oracle on arrays worked by hand, and against the tutorial's own loop.

The oracle is the definition everything else is checked against, so it gets
its own small checks (``make parity`` also checks it against TensorFlow).
"""

from __future__ import annotations

import numpy as np
import pytest

from . import oracle


@pytest.mark.parametrize(
    ("n", "span", "stride", "padding", "outputs", "pads"),
    [
        (6, 3, 2, "same", 3, (0, 1)),  # the example: stride moves the padding
        (224, 7, 2, "same", 112, (2, 3)),  # ResNet's first layer
        (5, 3, 1, "same", 5, (1, 1)),
        (6, 4, 1, "same", 6, (1, 2)),  # even kernel: the extra row after
        (7, 5, 2, "valid", 2, (0, 0)),
        (7, 3, 2, "full", 5, (2, 2)),
        (4, 1, 3, "same", 2, (0, 0)),  # pad never negative
    ],
)
def test_geometry_by_hand(n, span, stride, padding, outputs, pads):
    assert oracle.tf_pads(n, span, padding, stride) == pads
    assert oracle.count_positions(n + sum(pads), span, stride) == outputs


def test_stride_one_is_the_tutorial_loop():
    rng = np.random.default_rng(0)
    img, kernel = rng.normal(size=(9, 7)), rng.normal(size=(3, 2))
    for padding in ("valid", "same", "full"):
        for border in ("zero", "reflect", "wrap"):
            np.testing.assert_array_equal(
                oracle.strided_reference(img, kernel, padding, border),
                oracle.reference(img, kernel, padding, border),
            )


def test_stride_and_dilation_by_hand():
    img = np.arange(36.0).reshape(6, 6)
    # A dilated 2x2 kernel reads (i, j), (i, j+2), (i+2, j), (i+2, j+2).
    kernel = np.array([[1.0, 0.0], [0.0, -1.0]])
    got = oracle.strided_reference(img, kernel, stride=2, dilation=2)
    # span 3: rows 0 and 2 fit (floor((6 - 3) / 2) + 1 = 2); each value is img[i, j] - img[i+2, j+2]
    np.testing.assert_array_equal(got, np.full((2, 2), -14.0))
    # same, stride 2 on 6: 3 outputs, pad 0 before and 1 after: the last window hangs over
    same = oracle.strided_reference(img, np.ones((3, 3)), "same", stride=2)
    assert same.shape == (3, 3)
    assert same[0, 0] == img[:3, :3].sum()
    assert same[2, 2] == img[4:, 4:].sum()


def test_bank_sums_channels_and_adds_bias():
    rng = np.random.default_rng(1)
    img, bank = rng.normal(size=(5, 6, 3)), rng.normal(size=(2, 2, 3, 4))
    bias = np.array([1.0, -2.0, 0.5, 0.0])
    got = oracle.conv2d_reference(img, bank, bias)
    assert got.shape == (4, 5, 4)
    one = sum(oracle.reference(img[:, :, c], bank[:, :, c, 2]) for c in range(3)) + 0.5
    np.testing.assert_allclose(got[:, :, 2], one, rtol=0, atol=1e-12)
    oihw = bank.transpose(3, 2, 0, 1)
    np.testing.assert_array_equal(oracle.conv2d_reference(img, oihw, bias, layout="oihw"), got)


def test_pooling_by_hand():
    img = np.array([[1.0, 5.0, 2.0], [3.0, -1.0, 4.0], [0.0, 7.0, 9.0]])
    np.testing.assert_array_equal(oracle.pool_reference(img, "max"), [[5.0]])
    # same: ceil(3 / 2) = 2 outputs, padding only after; padded cells are not counted
    np.testing.assert_array_equal(
        oracle.pool_reference(img, "max", padding="same"), [[5, 4], [7, 9]]
    )
    np.testing.assert_array_equal(
        oracle.pool_reference(img, "avg", padding="same"), [[2.0, 3.0], [3.5, 9.0]]
    )
    negative = -np.ones((3, 3))
    assert oracle.pool_reference(negative, "max", padding="same")[1, 1] == -1  # never the pad's 0


def test_negative_to_zero_is_relu():
    got = oracle.negative_to_zero(np.array([-1.5, 0.0, 2.0]))
    np.testing.assert_array_equal(got, [0.0, 0.0, 2.0])
