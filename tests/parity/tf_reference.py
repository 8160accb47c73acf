"""TensorFlow's own layers, called the way a Keras model would call them.

Each function takes and returns NumPy arrays in convcli's shapes: an image
``(H, W)`` or ``(H, W, C)``, a bank ``(kh, kw, C_in, C_out)``; TensorFlow's
batch axis is added and removed here.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf


def batch(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image, dtype=np.float32)
    return (image[:, :, None] if image.ndim == 2 else image)[None]


def nn_conv2d(image, weights, *, stride=1, dilation=1, padding="valid") -> np.ndarray:
    """``tf.nn.conv2d``: the op itself (cross-correlation, NHWC, HWIO filters)."""
    out = tf.nn.conv2d(
        batch(image),
        np.asarray(weights, dtype=np.float32),
        strides=stride,
        padding=padding.upper(),
        dilations=dilation,
    )
    return out.numpy()[0]


def keras_conv2d(
    image, weights, bias, *, stride=1, dilation=1, padding="valid", activation=None
) -> np.ndarray:
    """``keras.layers.Conv2D`` with these weights and bias (``set_weights``)."""
    import keras

    weights = np.asarray(weights, dtype=np.float32)
    layer = keras.layers.Conv2D(
        weights.shape[3],
        weights.shape[:2],
        strides=stride,
        padding=padding,
        dilation_rate=dilation,
        activation=activation,
    )
    x = batch(image)
    layer.build(x.shape)
    layer.set_weights([weights, np.asarray(bias, dtype=np.float32)])
    return np.asarray(layer(x))[0]


def keras_pool(image, kind, *, size=2, stride=None, padding="valid") -> np.ndarray:
    """``keras.layers.MaxPool2D`` or ``AveragePooling2D``."""
    import keras

    layer_type = keras.layers.MaxPool2D if kind == "max" else keras.layers.AveragePooling2D
    layer = layer_type(pool_size=size, strides=stride, padding=padding)
    return np.asarray(layer(batch(image)))[0]


def nn_max_pool(image, *, size=2, stride=None, padding="valid") -> np.ndarray:
    """``tf.nn.max_pool2d``, the op the benchmarks time."""
    out = tf.nn.max_pool2d(batch(image), size, size if stride is None else stride, padding.upper())
    return out.numpy()[0]
