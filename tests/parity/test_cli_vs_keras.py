"""The issue's "done when", end to end: apply writes what a Keras model computes.

``Conv2D(64, 3, activation="relu")`` + ``MaxPool2D()`` with random weights
(``get_weights()`` saved as conv1.npy and b.npy), run by Keras on the very
pixels convcli loads from a JPEG, against
``convcli apply -k conv1.npy --bias b.npy --activation relu --pool max``
to a .npy (float32, :func:`oracle.bank_tolerance`) and to a folder of PNGs
(each map rounded to 8 bits: at most one level off where float32 rounding
crosses a half).
"""

from __future__ import annotations

import numpy as np
from click.testing import CliRunner
from PIL import Image

from convcli import load_image
from convcli.cli import cli
from convcli.imageio import to_uint8

from .. import oracle


def test_apply_writes_keras_conv2d_relu_maxpool(tmp_path):
    import keras

    rng = np.random.default_rng(21)
    photo = tmp_path / "photo.jpg"
    Image.fromarray(rng.integers(0, 256, (47, 61, 3), dtype=np.uint8), "RGB").save(photo)
    pixels = load_image(photo, color=True).astype(np.float32)
    model = keras.Sequential(
        [keras.Input(pixels.shape), keras.layers.Conv2D(64, 3, activation="relu"),
         keras.layers.MaxPool2D()]
    )  # fmt: skip
    weights, bias = model.layers[0].get_weights()
    model.layers[0].set_weights([weights, rng.normal(size=64).astype(np.float32) * 10])
    weights, bias = model.layers[0].get_weights()
    np.save(tmp_path / "conv1.npy", weights)
    np.save(tmp_path / "b.npy", bias)
    expected = np.asarray(model(pixels[None]))[0]

    args = ["apply", "-k", tmp_path / "conv1.npy", "--bias", tmp_path / "b.npy"]
    args += ["--activation", "relu", "--pool", "max"]
    for out in ("maps.npy", "maps/"):
        result = CliRunner().invoke(cli, [str(a) for a in (*args, photo, f"{tmp_path}/{out}")])
        assert result.exit_code == 0, result.output
    got = np.load(tmp_path / "maps.npy")
    assert got.shape == expected.shape == (22, 29, 64)
    atol = oracle.bank_tolerance(pixels, weights, np.float32) + 1e-5 * np.abs(bias).max()
    np.testing.assert_allclose(got, expected, rtol=0, atol=atol)
    for m in (0, 17, 63):
        with Image.open(tmp_path / "maps" / f"photo-{m:02d}.png") as written:
            diff = np.asarray(written).astype(int) - to_uint8(expected[:, :, m]).astype(int)
        assert np.abs(diff).max() <= 1
