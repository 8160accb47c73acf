"""apply's kernel and image options end to end: real files, CliRunner, the oracle."""

from __future__ import annotations

import os

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import example, given, settings
from hypothesis import strategies as st
from PIL import Image

from convcli import BORDERS, KERNELS, convolve, load_image
from convcli.cli import cli
from convcli.imageio import to_uint8
from convcli.kernels import parse_kernel, prepare
from convcli.pipeline import Options, filter_image, fused_8bit, map_range

from .oracle import reference, tolerance


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def read(path) -> Image.Image:
    with Image.open(path) as image:
        image.load()
        return image


def raw(tmp_path, image_path, *args) -> np.ndarray:
    """apply's float result, through a .npy output."""
    out = tmp_path / f"raw{len(os.listdir(tmp_path))}.npy"
    result = run("apply", *args, image_path, out)
    assert result.exit_code == 0, result.output
    return np.load(out, allow_pickle=False)


@pytest.fixture
def small(tmp_path):
    rng = np.random.default_rng(7)
    pixels = rng.integers(0, 256, (9, 11), dtype=np.uint8)
    path = tmp_path / "small.png"
    Image.fromarray(pixels).save(path)
    return path, pixels


# --- every spec form through the CLI ------------------------------------------------


def test_spec_forms_reach_the_engine(tmp_path, small):
    path, pixels = small
    (tmp_path / "k.txt").write_text("0 -1 0\n-1 5 -1\n0 -1 0\n")
    np.save(tmp_path / "k.npy", np.array(KERNELS["sharpen"].weights))
    expected = convolve(pixels, KERNELS["sharpen"].weights)
    for spec in ("sharpen", "0,-1,0; -1,5,-1; 0,-1,0", tmp_path / "k.txt", tmp_path / "k.npy"):
        np.testing.assert_array_equal(raw(tmp_path, path, "-k", spec), expected)
    gauss = parse_kernel("gaussian:sigma=1").weights
    got = raw(tmp_path, path, "-k", "gaussian:sigma=1", "-p", "same")
    np.testing.assert_allclose(got, convolve(pixels, gauss, padding="same"), atol=1e-12)


def test_a_float32_npy_kernel_filters_like_the_loop(tmp_path, small):
    """A float32 .npy keeps float32 weights; the result still matches the tutorial's loop.

    Compared within the float32 tolerance (the engine may work in the kernel's
    precision), against the loop run on the same float32 values in float64.
    """
    path, pixels = small
    weights = parse_kernel("gaussian:sigma=0.9,size=5").weights.astype(np.float32)
    np.save(tmp_path / "k32.npy", weights)
    assert parse_kernel(str(tmp_path / "k32.npy")).weights.dtype == np.float32
    got = raw(tmp_path, path, "-k", tmp_path / "k32.npy", "-p", "same", "--border", "reflect")
    expected = reference(pixels, weights, "same", "reflect")
    assert got.shape == pixels.shape
    np.testing.assert_allclose(got, expected, rtol=0, atol=tolerance(pixels, weights, np.float32))


def test_bad_kernel_file_is_a_usage_error_before_any_image(tmp_path):
    bad = tmp_path / "kernel.txt"
    bad.write_text("1 2 3\n4 5 6\n7 8\n")
    out = tmp_path / "o.png"
    result = run("apply", "-k", bad, tmp_path / "missing.jpg", out)
    assert result.exit_code == 2
    assert f"{bad}:3: row has 2 values, expected 3" in result.stderr
    assert "Invalid value for '-k' / '--kernel'" in result.stderr
    assert not out.exists()


def test_all_zero_kernel_warns_on_stderr(tmp_path, small):
    path, _ = small
    result = run("apply", "-k", "0,0;0,0", "--offset", "7", path, tmp_path / "o.png")
    assert result.exit_code == 0, result.output
    assert "convcli: warning: inline kernel: kernel is all zeros" in result.stderr
    assert (np.asarray(read(tmp_path / "o.png")) == 7).all()


# --- kernel arithmetic --------------------------------------------------------------------


def test_normalize_scale_offset(tmp_path, small):
    path, pixels = small
    weights = np.array([[1.0, 2, 1], [2, 4, 2], [1, 2, 1]])
    spec = "1,2,1; 2,4,2; 1,2,1"
    expected = convolve(pixels, weights / 16)
    np.testing.assert_allclose(raw(tmp_path, path, "-k", spec, "--normalize"), expected)
    np.testing.assert_allclose(raw(tmp_path, path, "-k", spec, "--scale", "16"), expected)
    np.testing.assert_allclose(raw(tmp_path, path, "-k", spec, "--scale", "1/16"), expected * 256)
    got = raw(tmp_path, path, "-k", "sobel-x", "--scale", "8", "--offset", "128")
    np.testing.assert_allclose(got, convolve(pixels, KERNELS["sobel-x"].weights) / 8 + 128)


def test_file_scale_and_offset_mean_what_the_flags_mean(tmp_path, small):
    path, _ = small
    (tmp_path / "k.mat").write_text("3 3 8 128\n-1 0 1\n-2 0 2\n-1 0 1\n")
    (tmp_path / "k.json").write_text(
        '{"kernel": [[-1,0,1],[-2,0,2],[-1,0,1]], "scale": 8, "offset": 128}'
    )
    flags = raw(tmp_path, path, "-k", "sobel-x", "--scale", "8", "--offset", "128")
    np.testing.assert_allclose(raw(tmp_path, path, "-k", tmp_path / "k.mat"), flags)
    np.testing.assert_allclose(raw(tmp_path, path, "-k", tmp_path / "k.json"), flags)


def test_normalize_refuses_zero_sum_kernels(tmp_path, small):
    path, _ = small
    result = run("apply", "-k", "outline", "--normalize", path, tmp_path / "o.png")
    assert result.exit_code == 2
    assert "cannot normalize 'outline': its weights sum to 0" in result.stderr
    assert not (tmp_path / "o.png").exists()


@pytest.mark.parametrize("value", ["0", "nan", "inf", "abc", "1_0"])
def test_scale_must_be_a_finite_nonzero_number(tmp_path, small, value):
    result = run("apply", "-k", "blur", "--scale", value, small[0], tmp_path / "o.png")
    assert result.exit_code == 2
    assert "Invalid value for '--scale'" in result.stderr


def test_flip_equals_the_oracle_with_the_rotated_kernel(tmp_path, small):
    path, pixels = small
    weights = np.arange(6.0).reshape(2, 3) - 2
    spec = "; ".join(",".join(f"{v:g}" for v in row) for row in weights)
    for padding in ("valid", "same", "full"):
        got = raw(tmp_path, path, "-k", spec, "--flip", "-p", padding)
        expected = reference(pixels, weights[::-1, ::-1], padding)
        np.testing.assert_allclose(got, expected, atol=tolerance(pixels, weights))


def test_chained_kernels_run_in_float_without_rounding(tmp_path, small):
    path, pixels = small
    blur, sharpen = KERNELS["blur"].weights, KERNELS["sharpen"].weights
    got = raw(tmp_path, path, "-k", "blur", "-k", "sharpen", "-p", "same", "--offset", "0.25")
    expected = convolve(convolve(pixels, blur, padding="same"), sharpen, padding="same") + 0.25
    np.testing.assert_allclose(got, expected, atol=1e-9)
    valid = raw(tmp_path, path, "-k", "blur", "-k", "box:size=4")
    assert valid.shape == (9 - 2 - 3, 11 - 2 - 3)
    (tmp_path / "k.mat").write_text("1 1 2 10\n1\n")  # x/2 + 10 after the first step
    chained = raw(tmp_path, path, "-k", tmp_path / "k.mat", "-k", "2", "--offset", "1")
    np.testing.assert_allclose(chained, (pixels / 2 + 10) * 2 + 1)


def test_chain_that_shrinks_to_nothing(tmp_path):
    image = tmp_path / "i.png"
    Image.new("L", (4, 4)).save(image)
    result = run(
        "apply", "-k", "sharpen", "-k", "sharpen", "-k", "sharpen", image, tmp_path / "o.png"
    )
    assert result.exit_code == 1
    assert "result of kernel 1 is 2x2, smaller than the 3x3 kernel" in result.stderr


# --- padding and borders ------------------------------------------------------------------


@pytest.mark.parametrize("border", BORDERS)
@pytest.mark.parametrize("padding", ["same", "full"])
def test_each_border_mode_matches_the_oracle_and_numpy_pad(tmp_path, small, border, padding):
    path, pixels = small
    weights = np.array([[1.0, -2, 0.5], [3, 0, -1], [0.25, 1, 2], [-1, 1, 1]])  # even rows
    spec = "; ".join(",".join(f"{v:g}" for v in row) for row in weights)
    got = raw(tmp_path, path, "-k", spec, "-p", padding, "-b", border)
    np.testing.assert_allclose(
        got, reference(pixels, weights, padding, border), atol=tolerance(pixels, weights)
    )
    # numpy.pad's semantics, spelled out: TensorFlow's split for same, k-1 for full.
    widths = ((1, 2), (1, 1)) if padding == "same" else ((3, 3), (2, 2))
    mode = "constant" if border == "zero" else border
    padded = np.pad(pixels.astype(float), widths, mode=mode)
    np.testing.assert_allclose(got, convolve(padded, weights), atol=1e-9)


def test_even_kernels_with_same_and_full_by_hand(tmp_path):
    image = tmp_path / "i.png"
    Image.fromarray(np.arange(1, 10, dtype=np.uint8).reshape(3, 3)).save(image)
    same = raw(tmp_path, image, "-k", "0,0;0,1", "-p", "same")
    assert same.tolist() == [[5, 6, 0], [8, 9, 0], [0, 0, 0]]
    full = raw(tmp_path, image, "-k", "0,0;0,1", "-p", "full")
    assert full.shape == (4, 4)
    assert full[:3, :3].tolist() == np.arange(1, 10).reshape(3, 3).tolist()
    edge = raw(tmp_path, image, "-k", "0,0;0,1", "-p", "same", "-b", "edge")
    assert edge.tolist() == [[5, 6, 6], [8, 9, 9], [8, 9, 9]]


# --- output range --------------------------------------------------------------------------


def test_range_modes_on_signed_results(tmp_path):
    image = tmp_path / "ramp.png"
    Image.fromarray(np.array([[0, 100, 0, 255, 255, 0]] * 3, dtype=np.uint8)).save(image)
    signed = convolve(load_image(image), [[-1, 1]])  # 100, -100, 255, 0, -255
    assert signed.min() < 0
    outs = {}
    for mode in ("clip", "abs", "rescale"):
        out = tmp_path / f"{mode}.png"
        result = run("apply", "-k", "-1,1", "--range", mode, image, out)
        assert result.exit_code == 0, result.output
        outs[mode] = np.asarray(read(out))
    assert outs["clip"][0].tolist() == [100, 0, 255, 0, 0]
    assert outs["abs"][0].tolist() == [100, 100, 255, 0, 255]
    assert outs["rescale"][0].tolist() == [178, 78, 255, 128, 0]
    assert (
        "values -255..255, 40.0% clipped"
        in run("apply", "-k", "-1,1", image, tmp_path / "again.png").stderr
    )


def test_map_range_reports_the_share_clipped():
    values = np.array([[-3.0, 0.4, 255.4, 255.6], [10, 20, 30, -0.5]])
    mapped, clipped = map_range(values, "clip")
    np.testing.assert_array_equal(mapped, values)  # clip leaves it to the writer
    assert clipped == 2 / 8  # -3 and 255.6; -0.5 rounds to -0 and 255.4 to 255
    assert map_range(values, "rescale")[1] == 0
    np.testing.assert_array_equal(map_range(np.full((2, 2), 7.0), "rescale")[0], 0)
    with pytest.raises(ValueError, match="range must be one of"):
        map_range(values, "wrap")


@settings(max_examples=30, deadline=None)
@example([0.0, 5e-324])  # a subnormal span: 255/span would overflow
@given(st.lists(st.floats(-1e4, 1e4), min_size=2, max_size=30))
def test_rescale_spans_the_full_range(values):
    array = np.array([values])
    mapped, _ = map_range(array, "rescale")
    assert (to_uint8(mapped) >= 0).all()
    if array.max() > array.min():
        assert to_uint8(mapped).min() == 0 and to_uint8(mapped).max() == 255


# --- colour, alpha, depth, formats ----------------------------------------------------------


def test_color_filters_each_channel(tmp_path):
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (12, 10, 3), dtype=np.uint8)
    path = tmp_path / "c.png"
    Image.fromarray(rgb).save(path)
    out = tmp_path / "o.png"
    assert run("apply", "-k", "sharpen", "--color", path, out).exit_code == 0
    written = read(out)
    assert (written.mode, written.size) == ("RGB", (8, 10))
    for c in range(3):
        expected = to_uint8(convolve(rgb[..., c], KERNELS["sharpen"].weights))
        np.testing.assert_array_equal(np.asarray(written)[..., c], expected)


@pytest.mark.parametrize("padding", ["valid", "same", "full"])
def test_color_keeps_alpha(tmp_path, padding):
    rng = np.random.default_rng(2)
    rgba = rng.integers(0, 256, (10, 12, 4), dtype=np.uint8)
    path = tmp_path / "a.png"
    Image.fromarray(rgba).save(path)
    out = tmp_path / "o.png"
    assert run("apply", "-k", "blur", "--color", "-p", padding, path, out).exit_code == 0
    written = np.asarray(read(out))
    assert read(out).mode == "RGBA"
    alpha = rgba[..., 3]
    if padding == "valid":
        np.testing.assert_array_equal(written[..., 3], alpha[1:-1, 1:-1])
    elif padding == "same":
        np.testing.assert_array_equal(written[..., 3], alpha)
    else:
        assert written.shape[:2] == (12, 14)
        np.testing.assert_array_equal(written[1:-1, 1:-1, 3], alpha)
        assert (written[0, :, 3] == 0).all()  # zero border: transparent
    expected_r = to_uint8(convolve(rgba[..., 0], KERNELS["blur"].weights, padding=padding))
    np.testing.assert_array_equal(written[..., 0], expected_r)


def test_color_keeps_alpha_through_resize(tmp_path):
    rgba = np.zeros((20, 20, 4), dtype=np.uint8)
    rgba[:, :10] = (200, 10, 10, 255)
    rgba[:, 10:] = (10, 200, 10, 0)
    path = tmp_path / "a.png"
    Image.fromarray(rgba).save(path)
    out = tmp_path / "o.png"
    assert (
        run("apply", "-k", "identity", "--color", "-p", "same", "-s", "10", path, out).exit_code
        == 0
    )
    written = np.asarray(read(out))
    assert written.shape == (10, 10, 4)
    expected_alpha = np.asarray(Image.fromarray(rgba).resize((10, 10)))[..., 3]
    np.testing.assert_array_equal(written[..., 3], expected_alpha)
    assert (written[:, :4, 3] == 255).all() and (written[:, 6:, 3] == 0).all()


def test_depth_16_round_trips_16_bit_values(tmp_path):
    values = np.array([[0, 1, 2, 257], [1000, 30000, 65534, 65535]], dtype=np.uint16)
    path = tmp_path / "deep.png"
    Image.fromarray(values).save(path)
    out = tmp_path / "o.png"
    result = run("apply", "-k", "identity", "-p", "same", "--depth", "16", path, out)
    assert result.exit_code == 0, result.output
    written = read(out)
    assert written.mode == "I;16"
    np.testing.assert_array_equal(np.asarray(written), values)
    eight = tmp_path / "eight.png"
    assert run("apply", "-k", "identity", "-p", "same", path, eight).exit_code == 0
    assert read(eight).mode == "L"
    np.testing.assert_array_equal(np.asarray(read(eight)), to_uint8(values / 257))


def test_depth_16_keeps_precision_through_a_blur(tmp_path):
    values = (np.arange(64, dtype=np.uint16) * 7).reshape(8, 8)  # steps far below 8 bits
    path = tmp_path / "deep.png"
    Image.fromarray(values).save(path)
    out = tmp_path / "o.png"
    assert run("apply", "-k", "1,1", "--scale", "2", "--depth", "16", path, out).exit_code == 0
    expected = np.rint((values[:, :-1].astype(float) + values[:, 1:]) / 2)
    np.testing.assert_allclose(np.asarray(read(out)), expected, atol=1)


def test_npy_output_is_the_engines_float_result(tmp_path, rgb_jpeg):
    out = tmp_path / "o.npy"
    assert run("apply", "-k", "sobel-x", "-p", "same", rgb_jpeg, out).exit_code == 0
    saved = np.load(out, allow_pickle=False)
    expected = convolve(load_image(rgb_jpeg), KERNELS["sobel-x"].weights, padding="same")
    assert saved.dtype == np.float64
    np.testing.assert_array_equal(saved, expected)
    assert saved.min() < 0  # before any clipping


@pytest.mark.parametrize(("suffix", "mode"), [(".tif", "L"), (".TIFF", "L"), (".webp", "RGB")])
def test_tiff_and_webp_outputs(tmp_path, small, suffix, mode):
    path, pixels = small
    out = tmp_path / f"o{suffix}"
    assert run("apply", "-k", "box", path, out).exit_code == 0
    written = read(out)
    assert written.mode == mode
    expected = to_uint8(convolve(pixels, KERNELS["box"].weights))
    np.testing.assert_array_equal(np.asarray(written.convert("L")), expected)


@pytest.mark.parametrize(
    ("name", "args", "message"),
    [
        ("o.gif", [], "unknown output format '.gif'; use .png, .jpg, .tif, .webp or .npy"),
        ("o.jpg", ["--depth", "16"], "JPEG has no 16-bit format"),
        ("o.webp", ["--depth", "16"], "WebP has no 16-bit format"),
        ("o.png", ["--depth", "16", "--color"], "16-bit output is grayscale only"),
    ],
)
def test_output_choices_that_are_usage_errors(tmp_path, small, name, args, message):
    result = run("apply", "-k", "blur", *args, small[0], tmp_path / name)
    assert result.exit_code == 2
    assert message in result.stderr
    assert not (tmp_path / name).exists()


def test_filter_image_is_the_float_path():
    options = Options.build(KERNELS["identity"], padding="same", scale=2, offset=1)
    image = np.arange(12, dtype=np.uint8).reshape(3, 4)
    np.testing.assert_array_equal(filter_image(image, options), image / 2 + 1)
    assert not fused_8bit(image, options) and fused_8bit(image, Options.build(KERNELS["blur"]))


def test_kernels_command_documents_parameters():
    result = run("kernels")
    assert result.exit_code == 0
    assert "gaussian:sigma=2,size=9" in result.stdout
    assert "default 2*ceil(3*sigma)+1" in result.stdout
    one = run("kernels", "gaussian:sigma=1")
    assert one.exit_code == 0
    assert "gaussian:sigma=1,size=7 (7x7)" in one.stdout
    assert "sigma: number, 0 < sigma <= 40, default 1" in one.stdout


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 4),
    st.integers(1, 4),
    st.sampled_from(["valid", "same", "full"]),
    st.sampled_from(BORDERS),
    st.integers(0, 2**32 - 1),
)
def test_flipped_chain_matches_the_oracle(kh, kw, padding, border, seed):
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (7, 8)).astype(np.uint8)  # big enough for two valid steps
    first, second = rng.normal(size=(kh, kw)), rng.normal(size=(kw, kh))
    chain = tuple(
        prepare(
            parse_kernel("; ".join(",".join(repr(float(v)) for v in row) for row in k)), flip=True
        )
        for k in (first, second)
    )
    options = Options.build(chain[0], then=chain[1:], padding=padding, border=border, scale=2)
    got = filter_image(image, options)
    step = reference(image, first[::-1, ::-1], padding, border)
    expected = reference(step, second[::-1, ::-1], padding, border) / 2
    np.testing.assert_allclose(got, expected, atol=1e-9 * max(1, np.abs(expected).max()))


BAD_KERNEL_FILES = {
    "ragged.txt": (b"1 2 3\n4 5\n", "ragged.txt:2: row has 2 values, expected 3"),
    "word.csv": (b"1,2\n3,x\n", "word.csv:2: 'x' is not a number"),
    "nan.json": (b"[[1, NaN]]", "nan.json: NaN and infinity are not allowed, got NaN"),
    "big.txt": (b"1 1e7\n", "big.txt:1: 1e7 is too large (the limit is 1e6 in magnitude)"),
    "empty.txt": (b"", "empty.txt: empty kernel file"),
    "header.mat": (b"3 3\n1 1 1\n", "header.mat: has 1 row, expected 3 (from the header)"),
    "latin1.txt": (b"1 2 \xe9\n", "latin1.txt:1: not UTF-8 text (byte 0xe9)"),
}


@pytest.mark.parametrize("name", sorted(BAD_KERNEL_FILES))
def test_bad_kernel_files_stop_the_run_before_any_output(tmp_path, small, name):
    content, message = BAD_KERNEL_FILES[name]
    (tmp_path / name).write_bytes(content)
    before = sorted(os.listdir(tmp_path))
    result = run("apply", "-k", tmp_path / name, small[0], tmp_path / "out" / "o.png")
    assert result.exit_code == 2
    assert f"{tmp_path}{os.sep}{message}" in result.stderr
    assert sorted(os.listdir(tmp_path)) == before  # no output, no folder, no temporary file


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.ones((2, 2, 2)), "holds a 3-D array of shape (2, 2, 2); a kernel is 2-D"),
        (np.array([[1, None]], dtype=object), "holds Python objects; pickled data is never loaded"),
    ],
)
def test_bad_npy_kernels_through_a_real_process(tmp_path, small, array, message):
    import subprocess
    import sys

    kernel = tmp_path / "k.npy"
    np.save(kernel, array, allow_pickle=True)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "convcli",
            "apply",
            "-k",
            str(kernel),
            str(small[0]),
            str(tmp_path / "o.png"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert f"{kernel}: {message}" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "o.png").exists()


def test_load_kernel_from_python(tmp_path):
    from pathlib import Path

    from convcli import load_kernel

    (tmp_path / "sharpen").write_text("0 -1 0\n-1 5 -1\n0 -1 0\n")
    assert (
        load_kernel(Path(tmp_path / "sharpen")).weights.tolist()
        == KERNELS["sharpen"].weights.tolist()
    )
    assert load_kernel("sharpen") is KERNELS["sharpen"]


def test_a_kernel_files_scale_and_offset_reach_the_png(tmp_path, small):
    path, pixels = small
    (tmp_path / "k.mat").write_text("2 2 2 10\n1 0\n0 1\n")
    out = tmp_path / "o.png"
    assert run("apply", "-k", tmp_path / "k.mat", path, out).exit_code == 0
    expected = to_uint8(convolve(pixels, [[1, 0], [0, 1]]) / 2 + 10)
    np.testing.assert_array_equal(np.asarray(read(out)), expected)
    assert not fused_8bit(pixels, Options.build(parse_kernel(str(tmp_path / "k.mat"))))
