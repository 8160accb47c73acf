"""The loader and writer on real files in every mode Pillow hands us."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image, ImageOps

from convcli import ImageReadError, OutputError, load_image, save_image

RNG = np.random.default_rng(7)


def _rgb() -> Image.Image:
    return Image.fromarray(RNG.integers(0, 256, (12, 10, 3), dtype=np.uint8), "RGB")


def test_rgb_l_and_cmyk_match_imageops_grayscale(tmp_path):
    for mode, ext in (("RGB", "png"), ("L", "png"), ("CMYK", "tif"), ("RGB", "jpg")):
        image = _rgb().convert(mode)
        path = tmp_path / f"{mode}.{ext}"
        image.save(path)
        with Image.open(path) as reopened:
            expected = np.asarray(ImageOps.grayscale(reopened))
        loaded = load_image(path)
        assert loaded.dtype == np.uint8 and loaded.shape == (12, 10)
        np.testing.assert_array_equal(loaded, expected, err_msg=mode)


@pytest.mark.parametrize("mode", ["1", "L", "LA", "P", "RGB", "RGBA", "CMYK", "I;16", "I", "F"])
def test_every_mode_loads_as_8_bit_grayscale(tmp_path, mode):
    image = _rgb().convert(mode) if mode not in ("I;16", "I", "F") else None
    if mode == "I;16":
        image = Image.fromarray(RNG.integers(0, 65536, (12, 10), dtype=np.uint16))
    elif mode == "I":
        image = Image.fromarray(RNG.integers(0, 65536, (12, 10)).astype(np.int32))
    elif mode == "F":
        image = Image.fromarray(RNG.uniform(-20, 300, (12, 10)).astype(np.float32))
    assert image.mode == mode
    path = tmp_path / ("img.tif" if mode in ("I", "F", "CMYK") else "img.png")
    image.save(path)
    loaded = load_image(path)
    assert loaded.dtype == np.uint8
    assert loaded.shape == (12, 10)


def test_16_bit_is_scaled_not_clipped(tmp_path):
    values = np.array([[0, 257, 32896], [65535, 514, 1000]], dtype=np.uint16)
    path = tmp_path / "deep.png"
    Image.fromarray(values).save(path)
    assert load_image(path).tolist() == [[0, 1, 128], [255, 2, 4]]


def test_float_is_rounded_and_clipped(tmp_path):
    path = tmp_path / "float.tif"
    Image.fromarray(np.array([[-5.0, 0.4, 127.6], [255.2, 300.0, 12.5]], np.float32)).save(path)
    assert load_image(path).tolist() == [[0, 0, 128], [255, 255, 12]]


def test_transparent_pixels_become_white_not_their_hidden_colour(tmp_path):
    rgba = np.zeros((2, 2, 4), dtype=np.uint8)
    rgba[..., 0] = 255  # pure red everywhere...
    rgba[0, 0, 3] = 0  # ...hidden under full transparency here
    rgba[0, 1, 3] = 255  # opaque red
    rgba[1, :, 3] = 128  # half see-through red over white
    path = tmp_path / "alpha.png"
    Image.fromarray(rgba, "RGBA").save(path)
    loaded = load_image(path)
    red = np.asarray(ImageOps.grayscale(Image.new("RGB", (1, 1), (255, 0, 0))))[0, 0]
    assert loaded[0, 0] == 255
    assert loaded[0, 1] == red
    assert red < loaded[1, 0] < 255


def test_palette_transparency_is_flattened(tmp_path):
    image = Image.new("P", (3, 1))
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    image.putpixel((0, 0), 1)
    image.putpixel((1, 0), 1)
    image.info["transparency"] = 1
    path = tmp_path / "pal.png"
    image.save(path, transparency=1)
    assert load_image(path).tolist() == [[255, 255, 0]]


def test_exif_orientation_is_applied(tmp_path):
    array = np.zeros((4, 6), dtype=np.uint8)
    array[0, 0] = 255  # a white corner, top-left as stored
    image = Image.fromarray(array, "L").convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    path = tmp_path / "rotated.jpg"
    image.save(path, exif=exif, quality=100)
    loaded = load_image(path)
    assert loaded.shape == (6, 4)
    assert loaded[0, -1] > 200  # the corner is now top-right
    assert loaded[0, 0] < 50


def test_resize_happens_after_grayscale_like_the_tutorial(rgb_jpeg):
    loaded = load_image(rgb_jpeg, size=(16, 8))
    with Image.open(rgb_jpeg) as image:
        expected = np.asarray(ImageOps.grayscale(image).resize((16, 8)))
    assert loaded.shape == (8, 16)
    np.testing.assert_array_equal(loaded, expected)


def test_missing_directory_and_non_image_inputs(tmp_path):
    with pytest.raises(ImageReadError, match="nope.png: no such file"):
        load_image(tmp_path / "nope.png")
    with pytest.raises(ImageReadError, match="is a folder, not an image file"):
        load_image(tmp_path)
    text = tmp_path / "notes.png"
    text.write_text("hello")
    with pytest.raises(ImageReadError, match=r"notes.png: not a supported image \(PNG, JPEG"):
        load_image(text)


def test_truncated_file_is_an_error(tmp_path, rgb_jpeg):
    cut = tmp_path / "cut.png"
    with Image.open(rgb_jpeg) as image:
        image.save(cut)
    cut.write_bytes(cut.read_bytes()[:200])
    with pytest.raises(
        ImageReadError, match=r"cut.png: truncated image data \(image file is truncated"
    ):
        load_image(cut)


# --- writer ---------------------------------------------------------------------


def test_save_rounds_clips_and_writes_8_bit_png(tmp_path):
    path = save_image(np.array([[-3.0, 0.5, 1.5], [254.5, 255.4, 999.0]]), tmp_path / "o.png")
    with Image.open(path) as image:
        assert image.format == "PNG" and image.mode == "L"
        assert np.asarray(image).tolist() == [[0, 0, 2], [254, 255, 255]]


def test_save_refuses_to_overwrite_and_leaves_no_temp_file(tmp_path):
    target = tmp_path / "o.png"
    target.write_bytes(b"precious")
    with pytest.raises(OutputError, match="o.png: already exists"):
        save_image(np.zeros((2, 2)), target)
    assert target.read_bytes() == b"precious"
    assert os.listdir(tmp_path) == ["o.png"]
    save_image(np.zeros((2, 2)), target, overwrite=True)
    with Image.open(target) as image:
        assert image.size == (2, 2)
    assert os.listdir(tmp_path) == ["o.png"]


def test_save_into_a_missing_folder_is_an_error(tmp_path):
    with pytest.raises(OutputError, match="does not exist"):
        save_image(np.zeros((2, 2)), tmp_path / "no" / "o.png")


def test_failed_write_leaves_nothing_behind(tmp_path, monkeypatch):
    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", full_disk)
    with pytest.raises(OutputError, match="No space left on device"):
        save_image(np.zeros((2, 2)), tmp_path / "o.png")
    assert os.listdir(tmp_path) == []


def test_output_has_ordinary_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        path = save_image(np.zeros((2, 2)), tmp_path / "o.png")
    finally:
        os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o644
