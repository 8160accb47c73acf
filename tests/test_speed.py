"""The fast paths of the pipeline: fused 8-bit dispatch (gray and colour), PNG settings,
start-up imports."""

from __future__ import annotations

import io

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image, ImageOps

from convcli import KERNELS, convolve, load_image
from convcli.cli import cli
from convcli.engine import ClipStats, convolve_uint8
from convcli.imageio import png_settings, save_image, to_uint8
from convcli.pipeline import Options, fused_8bit, process

from .helpers import modules_loaded


def photo(height: int = 120, width: int = 160, seed: int = 0) -> np.ndarray:
    """Smooth shapes, texture and noise: compresses like a photo, unlike pure noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width] / max(height, width)
    base = 120 + 60 * np.sin(6 * x + 3 * rng.random()) * np.cos(4 * y) + 40 * np.sin(25 * x * y)
    return np.clip(base + rng.normal(0, 4, (height, width)), 0, 255).astype(np.uint8)


# --- fused 8-bit path -----------------------------------------------------------


@pytest.mark.parametrize("name", list(KERNELS))
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_fused_path_writes_what_the_float_path_writes_for_every_builtin(tmp_path, name, padding):
    source = tmp_path / "in.png"
    Image.fromarray(photo(), "L").save(source)
    options = Options.build(KERNELS[name], padding=padding)
    image = load_image(source)
    assert fused_8bit(image, options)
    fused = process(source, tmp_path / "fused.png", options)
    slow = process(source, tmp_path / "float.npy", options)  # .npy: the float path
    raw = np.load(tmp_path / "float.npy")
    np.testing.assert_array_equal(load_image(tmp_path / "fused.png"), to_uint8(raw))
    assert (fused.raw_min, fused.raw_max) == pytest.approx((raw.min(), raw.max()), abs=1e-3)
    assert fused.clipped == pytest.approx(float(((np.rint(raw) < 0) | (np.rint(raw) > 255)).mean()))
    assert fused.output_size == slow.output_size


@pytest.mark.parametrize(
    "change",
    [
        {"output_range": "abs"},
        {"depth": 16},
        {"scale": 2.0},
        {"offset": 1.0},
        {"then": (KERNELS["blur"],)},
    ],
)
def test_any_pixel_option_takes_the_float_path(change):
    image = photo()
    assert fused_8bit(image, Options.build(KERNELS["blur"]))
    assert not fused_8bit(image, Options.build(KERNELS["blur"], **change))


def colour_photo() -> np.ndarray:
    return np.dstack([photo(seed=1), photo(seed=2)[:, ::-1], 255 - photo(seed=3)])


@pytest.mark.parametrize("name", list(KERNELS))
def test_colour_takes_the_fused_path_and_writes_what_the_float_path_writes(tmp_path, name):
    """--color is fused too (per channel, uint8 in and out): same bytes, same report."""
    source = tmp_path / "in.png"
    Image.fromarray(colour_photo(), "RGB").save(source)
    options = Options.build(KERNELS[name], padding="same", color=True)
    image = load_image(source, color=True)
    assert image.shape[2] == 3 and fused_8bit(image, options)
    fused = process(source, tmp_path / "fused.png", options)
    process(source, tmp_path / "float.npy", options)  # .npy: the float path
    raw = np.load(tmp_path / "float.npy")
    with Image.open(tmp_path / "fused.png") as written:
        assert written.mode == "RGB"
        np.testing.assert_array_equal(np.asarray(written), to_uint8(raw))
    assert (fused.raw_min, fused.raw_max) == pytest.approx((raw.min(), raw.max()), abs=1e-3)
    # A pixel counts as clipped once, whichever channel clipped (as map_range counts).
    outside = ((np.rint(raw) < 0) | (np.rint(raw) > 255)).any(axis=-1)
    assert fused.clipped == pytest.approx(float(outside.mean()))


def test_colour_with_alpha_keeps_alpha_on_the_fused_path(tmp_path):
    rgba = np.dstack([colour_photo(), np.tile(np.arange(160, dtype=np.uint8), (120, 1))])
    source = tmp_path / "in.png"
    Image.fromarray(rgba, "RGBA").save(source)
    options = Options.build(KERNELS["sharpen"], padding="valid", color=True)
    process(source, tmp_path / "out.png", options)
    with Image.open(tmp_path / "out.png") as written:
        assert written.mode == "RGBA"
        got = np.asarray(written)
    expected = [to_uint8(convolve(rgba[..., c], KERNELS["sharpen"].weights)) for c in range(3)]
    np.testing.assert_array_equal(got[..., :3], np.dstack(expected))
    np.testing.assert_array_equal(got[..., 3], rgba[1:-1, 1:-1, 3])  # cropped as 'valid' is


def test_convolve_uint8_filters_each_channel_as_its_own_image():
    pixels = colour_photo()
    stats = ClipStats()
    got = convolve_uint8(pixels, KERNELS["outline"].weights, padding="same", stats=stats)
    planes = [convolve_uint8(pixels[..., c], KERNELS["outline"].weights, padding="same")
              for c in range(3)]  # fmt: skip
    np.testing.assert_array_equal(got, np.dstack(planes))
    raw = np.dstack([convolve(pixels[..., c], KERNELS["outline"].weights, padding="same")
                     for c in range(3)])  # fmt: skip
    outside = ((np.rint(raw) < 0) | (np.rint(raw) > 255)).any(axis=-1)
    assert stats.pixels == 120 * 160 and stats.clipped == int(outside.sum()) > 0
    assert (stats.minimum, stats.maximum) == pytest.approx((raw.min(), raw.max()), abs=1e-3)


def test_colour_fused_memory_is_the_result_and_a_mask_not_float_channels():
    """The issue's 694 MB came from float64 channels; now the extra memory is the
    clipped-pixel mask (1 byte a pixel) and band buffers. Bound: a quarter of one
    float32 channel beyond result + mask (one float32 channel alone would be 4x)."""
    import tracemalloc

    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (1500, 2000, 3), dtype=np.uint8)
    sharpen = KERNELS["sharpen"].weights
    convolve_uint8(pixels[:50], sharpen, padding="same", threads=1)  # warm up imports
    tracemalloc.start()
    try:
        result = convolve_uint8(pixels, sharpen, padding="same", threads=1, stats=ClipStats())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    mask = pixels.shape[0] * pixels.shape[1]
    extra = peak - result.nbytes - mask
    assert extra < mask * 4 // 4, f"{extra} bytes beyond the result and the mask"


def test_only_8_bit_gray_into_an_8_bit_image_is_fused():
    options = Options.build(KERNELS["blur"], overwrite=True, png_compression=9)
    assert fused_8bit(photo(), options)
    assert not fused_8bit(photo(), options, "NPY")
    assert not fused_8bit(photo().astype(np.uint16), options)
    assert not fused_8bit(np.dstack([photo()] * 3), options)


# --- PNG encoder settings -------------------------------------------------------


def _png_bytes(pixels: np.ndarray, **settings) -> int:
    buffer = io.BytesIO()
    Image.fromarray(pixels, "L").save(buffer, format="PNG", **settings)
    return buffer.tell()


def test_default_png_strategy_is_as_small_as_pillows_default():
    pixels = to_uint8(convolve(photo(240, 320), KERNELS["sharpen"].weights, padding="same"))
    ours, pillow = _png_bytes(pixels, **png_settings()), _png_bytes(pixels)
    assert ours <= pillow * 1.01, (ours, pillow)


def test_png_compression_levels_round_trip(tmp_path):
    pixels = photo()
    sizes = {}
    for level in (None, 0, 1, 9):
        path = save_image(pixels, tmp_path / f"{level}.png", compression=level)
        with Image.open(path) as image:
            assert image.mode == "L"
            np.testing.assert_array_equal(np.asarray(image), pixels)
        sizes[level] = path.stat().st_size
    assert sizes[0] > sizes[1] >= sizes[9]
    with pytest.raises(ValueError, match="compression must be"):
        save_image(pixels, tmp_path / "bad.png", compression=10)


def test_cli_png_compression_option(tmp_path, rgb_jpeg):
    runner = CliRunner()
    for level in ("0", "9"):
        out = tmp_path / f"{level}.png"
        result = runner.invoke(
            cli,
            ["apply", "-q", "-k", "sharpen", "--png-compression", level, str(rgb_jpeg), str(out)],
        )
        assert result.exit_code == 0, result.output
        np.testing.assert_array_equal(
            load_image(out), to_uint8(convolve(load_image(rgb_jpeg), KERNELS["sharpen"].weights))
        )
    assert (tmp_path / "0.png").stat().st_size > (tmp_path / "9.png").stat().st_size
    bad = runner.invoke(
        cli,
        [
            "apply",
            "-k",
            "sharpen",
            "--png-compression",
            "10",
            str(rgb_jpeg),
            str(tmp_path / "x.png"),
        ],
    )
    assert bad.exit_code == 2
    assert "--png-compression" in bad.output


# --- JPEG decoding --------------------------------------------------------------


def test_jpeg_draft_grayscale_is_not_pixel_identical_so_the_loader_decodes_fully(tmp_path):
    """Pillow's draft('L') takes libjpeg's luma; ImageOps.grayscale weighs the decoded RGB.

    They differ by a few levels on saturated colours, so the loader must not use
    draft: it decodes fully and converts, exactly as the tutorial's path does.
    """
    rng = np.random.default_rng(0)
    colours = Image.fromarray(rng.integers(0, 256, (30, 40, 3), dtype=np.uint8), "RGB")
    path = tmp_path / "colours.jpg"
    colours.resize((320, 240), Image.Resampling.BICUBIC).save(path, quality=90)
    with Image.open(path) as image:
        full = np.asarray(ImageOps.grayscale(image))
    with Image.open(path) as image:
        image.draft("L", image.size)
        drafted = np.asarray(image.convert("L"))
    np.testing.assert_array_equal(load_image(path), full)
    if np.array_equal(drafted, full):
        pytest.skip("this libjpeg's draft('L') matches ImageOps.grayscale: draft could be used")
    assert np.abs(drafted.astype(int) - full).max() <= 8


# --- start-up -------------------------------------------------------------------


def test_apply_imports_nothing_heavy(tmp_path, rgb_jpeg):
    """A run loads numpy and Pillow, never scipy, torch, OpenCV or numpy.ma."""
    heavy = ["scipy", "torch", "cv2", "matplotlib", "numpy.ma", "importlib.metadata"]
    args = ["apply", "-q", "-k", "sharpen", rgb_jpeg, tmp_path / "o.png"]
    assert modules_loaded(heavy, run=args) == []
