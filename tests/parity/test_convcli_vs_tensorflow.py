"""convcli's own numbers against TensorFlow's, on random float32 inputs.

The same grid as test_oracle_vs_tensorflow (valid and same, strides 1-3,
dilations 1-2, odd and even kernels), through the public API: convolve for
one 2-D kernel, conv2d for banks (with bias, then ReLU for Keras's
``activation="relu"``), pool for MaxPool2D and AveragePooling2D. convcli
works in float32 for a float32 image, as TensorFlow does, so the tolerance is
:func:`oracle.bank_tolerance` in float32 (4·n·eps32·max Σ|w|·max|x|).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import convcli

from .. import oracle
from . import tf_reference as tf_ref

PADDINGS = ("valid", "same")
STRIDES = (1, 2, 3, (2, 1))
DILATIONS = (1, 2, (1, 2))
KERNELS = ((3, 3), (4, 2), (7, 7))


def _inputs(seed, image_shape, bank_shape):
    rng = np.random.default_rng(seed)
    image = rng.normal(size=image_shape).astype(np.float32)
    return image, rng.normal(size=bank_shape).astype(np.float32), rng.normal(size=bank_shape[3])


@pytest.mark.parametrize(
    ("padding", "stride", "dilation", "kernel"),
    list(itertools.product(PADDINGS, STRIDES, DILATIONS, KERNELS)),
)
def test_convolve_and_conv2d_are_tf_nn_conv2d(padding, stride, dilation, kernel):
    image, weights, _ = _inputs(1, (29, 31, 3), (*kernel, 3, 8))
    kw = {"stride": stride, "dilation": dilation, "padding": padding}
    expected = tf_ref.nn_conv2d(image, weights, **kw)
    got = convcli.conv2d(image, weights, **kw)
    assert got.dtype == np.float32
    np.testing.assert_allclose(
        got, expected, rtol=0, atol=oracle.bank_tolerance(image, weights, np.float32)
    )
    one = tf_ref.nn_conv2d(image[:, :, 0], weights[:, :, :1, :1], **kw)[:, :, 0]
    for strategy in ("direct", "separable", "fft"):
        got = convcli.engine.convolve(image[:, :, 0], weights[:, :, 0, 0], strategy=strategy, **kw)
        np.testing.assert_allclose(
            got, one, rtol=0, atol=16 * oracle.tolerance(image, weights[:, :, 0, 0], np.float32)
        )


@pytest.mark.parametrize(("padding", "stride"), list(itertools.product(PADDINGS, (1, 2, 3))))
@pytest.mark.parametrize("layout", ["hwio", "oihw"])
def test_conv2d_with_bias_and_relu_is_keras_conv2d(padding, stride, layout):
    image, weights, bias = _inputs(2, (40, 33, 3), (3, 3, 3, 16))
    expected = tf_ref.keras_conv2d(
        image, weights, bias, stride=stride, padding=padding, activation="relu"
    )
    given = weights if layout == "hwio" else weights.transpose(3, 2, 0, 1)
    got = np.maximum(
        convcli.conv2d(image, given, bias=bias, stride=stride, padding=padding, layout=layout), 0
    )
    np.testing.assert_allclose(
        got, expected, rtol=0, atol=oracle.bank_tolerance(image, weights, np.float32) + 1e-6
    )


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize(
    ("size", "stride", "padding"),
    [(2, None, "valid"), (2, None, "same"), (3, 2, "valid"), (3, 2, "same"), (3, 1, "same"),
     ((2, 3), (1, 2), "same"), (3, 3, "same")],
)  # fmt: skip
def test_pool_is_keras_pooling(kind, size, stride, padding):
    image = np.random.default_rng(4).normal(size=(37, 30, 5)).astype(np.float32)
    expected = tf_ref.keras_pool(image, kind, size=size, stride=stride, padding=padding)
    got = convcli.pool(image, kind, size=size, stride=stride, padding=padding)
    assert got.shape == expected.shape and got.dtype == np.float32
    atol = 0 if kind == "max" else 8 * np.finfo(np.float32).eps * float(np.abs(image).max())
    np.testing.assert_allclose(got, expected, rtol=0, atol=atol)
