"""Regenerate sample_images/ deterministically (no third-party photos).

python scripts/make_samples.py sample_images
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw


def scene(width: int = 320, height: int = 240) -> Image.Image:
    """A photo-like RGB scene: sky gradient, sun, hills, textured ground."""
    rng = np.random.default_rng(2024)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    sky = np.stack([90 + 80 * y / height, 140 + 60 * y / height, 230 - 30 * y / height], -1)
    ground = np.stack([60 + 40 * np.sin(x / 7) ** 2, 120 + 30 * np.cos(y / 5), 50 + 0 * x], -1)
    ground += rng.normal(0, 12, ground.shape)
    horizon = height * 0.55 + 18 * np.sin(x / 45) + 8 * np.sin(x / 13)
    rgb = np.where((y > horizon)[..., None], ground, sky)
    sun = (x - width * 0.75) ** 2 + (y - height * 0.22) ** 2 < (height * 0.09) ** 2
    rgb[sun] = (255, 230, 120)
    image = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 90, 110, 170), fill=(150, 60, 40), outline=(30, 20, 20), width=3)
    draw.polygon([(35, 92), (75, 55), (115, 92)], fill=(90, 30, 30))
    draw.rectangle((65, 130, 85, 170), fill=(60, 40, 20))
    return image


def checkerboard(size: int = 256, square: int = 32) -> Image.Image:
    y, x = np.mgrid[0:size, 0:size]
    board = ((x // square + y // square) % 2 * 255).astype(np.uint8)
    return Image.fromarray(board, "L")


def shapes(width: int = 300, height: int = 160) -> Image.Image:
    """Text-like strokes on a transparent background (RGBA)."""
    image = Image.new("RGBA", (width, height), (255, 0, 0, 0))  # hidden red under alpha 0
    draw = ImageDraw.Draw(image)
    draw.text((20, 20), "convcli 3x3", fill=(20, 20, 20, 255), font_size=40)
    draw.ellipse((20, 80, 90, 150), outline=(0, 90, 200, 255), width=6)
    draw.rectangle((120, 85, 190, 150), fill=(0, 160, 60, 180))
    draw.line((210, 150, 280, 80), fill=(0, 0, 0, 255), width=5)
    return image


def main(folder: str) -> None:
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    scene().save(out / "scene.jpg", quality=90)
    checkerboard().save(out / "checkerboard.png")
    shapes().save(out / "shapes.png")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "sample_images")
