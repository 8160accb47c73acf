"""Write docs/first-layer.npy: a hand-made first layer, 3x3x3x6 (hwio), for the README.

python scripts/make_bank.py docs/first-layer.npy

A trained network's first layer learns edge and colour-contrast detectors;
these six are written by hand so the README's gallery of a bank's maps needs
no downloaded model: gradients and outline of the luminance, two colour
opponents and a blur.
"""

from __future__ import annotations

import sys

import numpy as np

LUMA = np.array([0.299, 0.587, 0.114])  # ITU-R 601, as Pillow's "L"


def first_layer() -> np.ndarray:
    sobel_x = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], float)
    outline = -np.ones((3, 3))
    outline[1, 1] = 8
    centre = np.zeros((3, 3))
    centre[1, 1] = 1
    blur = np.outer([1, 2, 1], [1, 2, 1]) / 16
    maps = [
        sobel_x[:, :, None] * LUMA,  # brightens to the right
        sobel_x.T[:, :, None] * LUMA,  # brightens downwards
        outline[:, :, None] * LUMA,  # edges and spots
        centre[:, :, None] * np.array([1.0, -1.0, 0.0]),  # red over green
        centre[:, :, None] * np.array([-0.5, -0.5, 1.0]),  # blue over yellow
        blur[:, :, None] * LUMA,  # a soft gray copy
    ]
    return np.stack(maps, axis=-1).astype(np.float32)  # (3, 3, 3, 6)


if __name__ == "__main__":
    np.save(sys.argv[1] if len(sys.argv) > 1 else "docs/first-layer.npy", first_layer())
