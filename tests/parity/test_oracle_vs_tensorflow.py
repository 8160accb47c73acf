"""The oracle (tests/oracle.py, the tutorial's loop extended) against TensorFlow itself.

``make test`` checks convcli against the oracle; this checks that the oracle
is TensorFlow's definition, so the chain holds: convcli == oracle == TF.

Tolerance (float32, TensorFlow's working precision): a map sums
``n = kh*kw*C_in`` products, and any two summation orders of the same float32
products differ by at most about ``n * eps32 * sum|w| * max|x|``; we allow
4x that (:func:`oracle.bank_tolerance` with ``float32``). Pooling's max is
exact; an average differs by a few float32 roundings of the window's sum.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from .. import oracle
from . import tf_reference as tf_ref

PADDINGS = ("valid", "same")
STRIDES = (1, 2, 3, (1, 2), (3, 1))
DILATIONS = (1, 2, (2, 1))
KERNELS = ((3, 3), (2, 4), (5, 1))


def _inputs(seed, shape, bank):
    rng = np.random.default_rng(seed)
    image = rng.normal(size=shape).astype(np.float32)
    weights = rng.normal(size=bank).astype(np.float32)
    bias = rng.normal(size=bank[3]).astype(np.float32)
    return image, weights, bias


@pytest.mark.parametrize(
    ("padding", "stride", "dilation", "kernel"),
    list(itertools.product(PADDINGS, STRIDES, DILATIONS, KERNELS)),
)
def test_loop_is_tf_nn_conv2d(padding, stride, dilation, kernel):
    image, weights, _ = _inputs(1, (13, 16, 3), (*kernel, 3, 4))
    expected = tf_ref.nn_conv2d(image, weights, stride=stride, dilation=dilation, padding=padding)
    got = oracle.conv2d_reference(image, weights, stride=stride, dilation=dilation, padding=padding)
    assert got.shape == expected.shape
    np.testing.assert_allclose(
        got, expected, rtol=0, atol=oracle.bank_tolerance(image, weights, np.float32)
    )


@pytest.mark.parametrize(("padding", "stride"), list(itertools.product(PADDINGS, (1, 2, 3))))
def test_loop_is_keras_conv2d_with_bias_and_relu(padding, stride):
    image, weights, bias = _inputs(2, (17, 12, 1), (3, 3, 1, 5))
    expected = tf_ref.keras_conv2d(
        image, weights, bias, stride=stride, padding=padding, activation="relu"
    )
    got = oracle.negative_to_zero(
        oracle.conv2d_reference(image, weights, bias, stride=stride, padding=padding)
    )
    np.testing.assert_allclose(
        got, expected, rtol=0, atol=oracle.bank_tolerance(image, weights, np.float32)
    )


def test_oihw_is_the_same_bank_transposed():
    image, weights, _ = _inputs(3, (9, 11, 3), (3, 2, 3, 2))
    torch_layout = weights.transpose(3, 2, 0, 1)
    expected = tf_ref.nn_conv2d(image, weights, padding="same")
    got = oracle.conv2d_reference(image, torch_layout, padding="same", layout="oihw")
    np.testing.assert_allclose(
        got, expected, rtol=0, atol=oracle.bank_tolerance(image, weights, np.float32)
    )


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize(
    ("size", "stride", "padding"),
    [
        (2, None, "valid"),
        (2, None, "same"),
        (3, 2, "valid"),
        (3, 2, "same"),
        (3, 1, "same"),
        ((2, 3), (1, 2), "same"),
        (3, 3, "same"),
    ],
)
def test_loop_is_keras_pooling(kind, size, stride, padding):
    image = np.random.default_rng(4).normal(size=(11, 14, 2)).astype(np.float32)
    expected = tf_ref.keras_pool(image, kind, size=size, stride=stride, padding=padding)
    got = oracle.pool_reference(image, kind, size, stride, padding)
    assert got.shape == expected.shape
    atol = 0 if kind == "max" else 8 * np.finfo(np.float32).eps * np.abs(image).max()
    np.testing.assert_allclose(got, expected, rtol=0, atol=atol)
