"""``convcli explain``: the value it shows is the pixel ``convcli apply`` writes.

Every comparison is against a real output file written by ``apply`` (through
CliRunner) with the same options, at the corners, the last row and column and
random positions, for every padding and border mode. Windows are checked
against the tutorial loop's padded image (tests/oracle.py).
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from convcli.cli import cli
from convcli.engine import BORDERS, PADDINGS
from convcli.explain import PositionError, UnsupportedError, explain
from convcli.kernels import KERNELS, parse_kernel
from convcli.options import Options

from .helpers import run_convcli
from .oracle import pad_border, padded, reference, strided_reference, tf_pads

TUTORIAL_CORNER = [[39, 41, 41], [42, 43, 44], [45, 44, 44]]


def invoke(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args])


def write_png(path, pixels: np.ndarray):
    Image.fromarray(pixels).save(path)
    return path


def applied(tmp_path, image, *options: object) -> np.ndarray:
    """What ``convcli apply`` writes for ``image`` with ``options``, read back."""
    target = tmp_path / f"out{len(list(tmp_path.iterdir()))}.png"
    result = invoke("apply", *options, image, target)
    assert result.exit_code == 0, result.output
    return np.asarray(Image.open(target))


def explained(image, *options: object, at: tuple[int, int]) -> dict:
    result = invoke("explain", *options, "--json", "--at", f"{at[0]},{at[1]}", image)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def positions(shape: tuple[int, ...], rng: np.random.Generator, extra: int = 4):
    h, w = shape[:2]
    yield from [(0, 0), (0, -1), (-1, 0), (-1, -1), (h // 2, w - 1), (h - 1, w // 2)]
    for _ in range(extra):
        yield int(rng.integers(0, h)), int(rng.integers(0, w))


def test_the_tutorial_window_sums_to_44():
    image = np.full((6, 7), 120, np.uint8)
    image[:3, :3] = TUTORIAL_CORNER
    e = explain(image, Options.build(KERNELS["sharpen"]))
    assert e.window.tolist() == TUTORIAL_CORNER
    assert e.products.tolist() == [[0, -41, 0], [-42, 215, -44], [0, -44, 0]]
    assert (e.total, e.value, e.output_shape, e.centre) == (44, 44, (4, 5), (1, 1))
    assert not e.padded.any()


@pytest.mark.parametrize("padding", PADDINGS)
@pytest.mark.parametrize("border", BORDERS)
def test_value_is_the_pixel_apply_writes(tmp_path, padding, border):
    rng = np.random.default_rng(hash((padding, border)) % 2**32)
    pixels = rng.integers(0, 256, (9, 12), dtype=np.uint8)
    image = write_png(tmp_path / "in.png", pixels)
    # sharpen (fused, exact), box (fused float32, not dyadic), an even 2x4 float kernel
    # with --scale/--offset (float path)
    for spec, extra in (
        ("sharpen", ()),
        ("box", ()),
        ("0.3,-1.7,2,0.25; 1,0.5,-0.5,0.1", ("--scale", "3", "--offset", "100")),
    ):
        options = ("-k", spec, "-p", padding, "-b", border, *extra)
        written = applied(tmp_path, image, *options)
        kernel = parse_kernel(spec).weights
        for at in positions(written.shape, rng):
            doc = explained(image, *options, at=at)
            r, c = doc["at"]
            assert doc["value"] == written[at], (spec, at, doc)
            assert doc["output_size"] == [written.shape[1], written.shape[0]]
            loop = padded(pixels, kernel.shape, padding, border)
            window = loop[r : r + kernel.shape[0], c : c + kernel.shape[1]]
            assert np.array_equal(doc["window"], window), (spec, at)
            assert doc["sum"] == pytest.approx(reference(pixels, kernel, padding, border)[r, c])


@pytest.mark.parametrize("padding", PADDINGS)
@pytest.mark.parametrize(
    ("stride", "dilation", "border"),
    [("2", "1", "zero"), ("3,2", "1", "reflect"), ("1", "2", "edge"), ("2", "3,2", "wrap"),
     ("2,1", "2", "symmetric")],
)  # fmt: skip
def test_strides_dilations_bias_and_relu_match_apply(tmp_path, padding, stride, dilation, border):
    rng = np.random.default_rng(abs(hash((padding, stride, dilation))) % 2**32)
    pixels = rng.integers(0, 256, (13, 16), dtype=np.uint8)
    image = write_png(tmp_path / "in.png", pixels)
    s, d = (tuple(int(v) for v in (x * 2 if "," not in x else x.split(","))[:2])
            for x in (stride, dilation))  # fmt: skip
    for spec, extra in (
        ("sharpen", ()),
        ("0.5,-1,2; 1,0.25,-0.75", ("--bias", "-20", "--activation", "relu")),
    ):
        options = ("-k", spec, "-p", padding, "-b", border, "--stride", stride,
                   "--dilation", dilation, *extra)  # fmt: skip
        written = applied(tmp_path, image, *options)
        kernel = parse_kernel(spec).weights
        loop = strided_reference(pixels, kernel, padding, border, s, d)
        assert written.shape == loop.shape
        span = (d[0] * (kernel.shape[0] - 1) + 1, d[1] * (kernel.shape[1] - 1) + 1)
        pads = tuple(
            tf_pads(n, sp, padding, st) for n, sp, st in zip(pixels.shape, span, s, strict=True)
        )
        source = pad_border(pixels, pads, border)
        for at in positions(written.shape, rng, extra=3):
            doc = explained(image, *options, at=at)
            r, c = doc["at"]
            assert doc["value"] == written[at], (spec, at, doc)
            assert doc["stride"] == list(s) and doc["dilation"] == list(d)
            assert doc["pads"] == dict(
                zip(("top", "bottom", "left", "right"), sum(pads, ()), strict=True)
            )
            window = source[
                r * s[0] : r * s[0] + span[0] : d[0], c * s[1] : c * s[1] + span[1] : d[1]
            ]
            assert np.array_equal(doc["window"], window), (spec, at)
            assert doc["sum"] == pytest.approx(loop[r, c])
            if extra:
                assert [st["name"] for st in doc["steps"]] == [
                    "bias",
                    "activation relu",
                    "range clip",
                ]
                assert doc["steps"][1]["value"] == max(0, doc["sum"] - 20)


def test_padding_cells_are_marked_with_the_pads_the_engine_uses(tmp_path):
    pixels = np.arange(30, dtype=np.uint8).reshape(5, 6)
    e = explain(pixels, Options.build(parse_kernel("1,1,1,1; 1,1,1,1"), padding="same"), (-1, -1))
    # 2x4 kernel, same: rows pad 0 before 1 after; columns 1 before 2 after (TensorFlow's split)
    assert e.pads == ((0, 1), (1, 2))
    assert e.rows == (4, 5) and e.cols == (4, 5, 6, 7)
    assert e.padded.tolist() == [[False, False, True, True], [True, True, True, True]]
    assert e.window.tolist() == [[28, 29, 0, 0], [0, 0, 0, 0]]


def test_colour_channels_on_the_fused_path_match_apply(tmp_path):
    """--color with --range clip runs apply's fused 8-bit path (float32): box is not dyadic."""
    rng = np.random.default_rng(9)
    pixels = rng.integers(0, 256, (9, 8, 3), dtype=np.uint8)
    image = write_png(tmp_path / "rgb.png", pixels)
    options = ("-k", "box", "-p", "same", "-b", "reflect", "--color")
    written = applied(tmp_path, image, *options)
    for channel, index in (("R", 0), ("G", 1), ("B", 2)):
        for at in positions(written.shape, rng, extra=3):
            doc = explained(image, *options, "--channel", channel, at=at)
            assert doc["value"] == written[(*at, index)], (channel, at)


def test_colour_channels_and_rescale_match_apply(tmp_path):
    rng = np.random.default_rng(5)
    pixels = rng.integers(0, 256, (8, 10, 3), dtype=np.uint8)
    image = write_png(tmp_path / "rgb.png", pixels)
    options = ("-k", "sobel-x", "-p", "same", "-b", "edge", "--range", "rescale", "--color")
    written = applied(tmp_path, image, *options)
    for channel, index in (("R", 0), ("G", 1), ("B", 2)):
        for at in positions(written.shape, rng, extra=2):
            doc = explained(image, *options, "--channel", channel, at=at)
            assert doc["channel"] == channel
            assert doc["value"] == written[(*at, index)], (channel, at)
            assert [s["name"] for s in doc["steps"]] == ["range rescale"]


def test_range_abs_and_kernel_file_scale_are_later_steps(tmp_path):
    rng = np.random.default_rng(8)
    pixels = rng.integers(0, 256, (7, 7), dtype=np.uint8)
    image = write_png(tmp_path / "in.png", pixels)
    kernel = tmp_path / "k.json"
    kernel.write_text(json.dumps({"kernel": [[1, 2, 1], [0, 0, 0], [-1, -2, -1]],
                                  "scale": 4, "offset": 3}))  # fmt: skip
    options = ("-k", kernel, "--range", "abs", "--offset", "-7", "--flip", "--bias", "2")
    written = applied(tmp_path, image, *options)
    for at in positions(written.shape, rng):
        doc = explained(image, *options, at=at)
        assert doc["value"] == written[at]
        names = [s["name"] for s in doc["steps"]]
        assert names == ["kernel scale", "kernel offset", "bias", "offset", "range abs"]
        values = [s["value"] for s in doc["steps"]]
        assert values[0] == pytest.approx(doc["sum"] / 4)
        assert values[1:4] == pytest.approx([values[0] + 3, values[0] + 5, values[0] - 2])
        assert doc["raw"] == abs(values[3])
        before = doc["sum"]
        for step in doc["steps"]:  # each formula, evaluated on the value before it
            formula = step["formula"].replace("|x|", "abs(x)")
            assert eval(formula, {"x": before, "abs": abs}) == pytest.approx(step["value"])
            before = step["value"]
        assert doc["weights"] == [[-1, -2, -1], [0, 0, 0], [1, 2, 1]]  # flipped


@settings(max_examples=60, deadline=None)
@given(
    h=st.integers(1, 9),
    w=st.integers(1, 9),
    kh=st.integers(1, 4),
    kw=st.integers(1, 4),
    padding=st.sampled_from(PADDINGS),
    border=st.sampled_from(BORDERS),
    stride=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    dilation=st.tuples(st.integers(1, 2), st.integers(1, 2)),
    seed=st.integers(0, 2**16),
)
def test_products_and_window_follow_the_loop(h, w, kh, kw, padding, border, stride, dilation, seed):
    """Any shape, odd or even kernels, strides and dilations: the window is the
    strided loop's, the sum the loop's, the value the pipeline's."""
    from convcli.imageio import to_uint8
    from convcli.pipeline import map_range, render

    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (h, w), dtype=np.uint8)
    kernel = parse_kernel("; ".join(",".join(f"{v:.3f}" for v in row)
                                    for row in rng.normal(size=(kh, kw))))  # fmt: skip
    options = Options.build(kernel, padding=padding, border=border, stride=stride,
                            dilation=dilation)  # fmt: skip
    out_h, out_w = options.convolutions[0].output_shape(pixels.shape)
    if min(out_h, out_w) <= 0:
        return
    at = (int(rng.integers(-out_h, out_h)), int(rng.integers(-out_w, out_w)))
    e = explain(pixels, options, at)
    r, c = e.at
    span = (dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1)
    pads = tuple(tf_pads(n, sp, padding, s) for n, sp, s in zip((h, w), span, stride, strict=True))
    assert e.pads == pads
    source = pad_border(pixels, pads, border)
    rows = slice(r * stride[0], r * stride[0] + span[0], dilation[0])
    cols = slice(c * stride[1], c * stride[1] + span[1], dilation[1])
    assert np.array_equal(e.window, source[rows, cols])
    from convcli.cli.explain_view import start_formula  # the printed "5*2 - 1 = 9"

    assert eval(start_formula(r, stride[0], pads[0][0])) == e.rows[0] == rows.start - pads[0][0]
    assert eval(start_formula(c, stride[1], pads[1][0])) == e.cols[0] == cols.start - pads[1][0]
    loop = strided_reference(pixels, kernel.weights, padding, border, stride, dilation)
    assert e.output_shape == loop.shape
    assert e.total == pytest.approx(loop[r, c], abs=1e-9)
    assert np.allclose(e.products, e.window * kernel.weights)
    assert e.total == pytest.approx(float(e.products.sum()), abs=1e-9)
    assert e.value == to_uint8(map_range(render(pixels, options).out, "clip")[0])[r, c]


def test_a_position_outside_the_output_gives_the_size(gray_png):
    result = invoke("explain", "-k", "sharpen", "--at", "22,0", gray_png)  # 24 rows -> 22
    assert result.exit_code == 2
    assert "22,0 is outside the 30x22 output" in result.output
    assert "rows 0..21" in result.output
    with pytest.raises(PositionError) as info:
        explain(np.zeros((5, 5), np.uint8), Options.build(KERNELS["blur"]), (0, -4))
    assert info.value.output_shape == (3, 3)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("-k", "blur", "-k", "sharpen"), "explain takes one kernel"),
        (("-k", "blur", "--pool", "max"), "--pool is not explained"),
        (("-k", "sobel-x", "-k", "sobel-y", "--combine", "magnitude"), "explain takes one kernel"),
        (("-k", "blur", "--combine", "max"), "--combine is not explained"),
        (("-k", "blur", "--bias", "1,2"), "bias"),
        (("-k", "blur", "--channel", "G"), "--channel needs --color"),
        (("-k", "blur", "--at", "1"), "is not a position"),
        (("-k", "blur", "--animate", "x.mp4"), "a .gif or an animated .png"),
    ],
)
def test_usage_errors(gray_png, args, message):
    result = invoke("explain", *args, gray_png)
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_chains_are_refused_by_the_core_too():
    options = Options.build(KERNELS["blur"], then=(KERNELS["sharpen"],))
    with pytest.raises(UnsupportedError, match="one kernel"):
        explain(np.zeros((6, 6), np.uint8), options)


def test_a_missing_image_is_one_error_line(tmp_path):
    result = invoke("explain", "-k", "blur", tmp_path / "nope.png")
    assert result.exit_code == 1
    assert result.output.strip().startswith("convcli: error: ")
    assert "nope.png" in result.output and "Traceback" not in result.output


def test_text_tells_the_tutorial_story(tmp_path):
    pixels = np.full((224, 224), 120, np.uint8)
    pixels[:3, :3] = TUTORIAL_CORNER
    image = write_png(tmp_path / "cat.png", pixels)
    text = invoke("explain", "-k", "sharpen", image).output
    assert "224 - 3 + 1 = 222" in text
    assert "output: 222×222" in text
    assert re.search(r"39\s+41\s+41\s+0\s+−1\s+0\s+0\s+−41\s+0", text), text
    assert "= 44" in text and "written: 44" in text
    assert "normalised" in text and "not separable" in text


def test_shape_arithmetic_evaluates_to_the_engines_sizes():
    """Each printed formula, evaluated, gives Geometry's numbers."""
    import math

    from convcli.cli.explain_shape import axis_formula, axis_terms
    from convcli.engine import Geometry

    names = {"floor": math.floor, "ceil": math.ceil, "max": max}
    checked = 0
    for n in (5, 6, 224):
        for k in (1, 2, 3, 4, 7):
            for s in (1, 2, 3):
                for d in (1, 2):
                    for padding in PADDINGS:
                        g = Geometry((k, k), padding, stride=s, dilation=d)
                        out = g.output_shape((n, n))[0]
                        if out <= 0:
                            continue
                        terms = axis_terms(g, 0, n)
                        for _, expression, value in terms:
                            assert eval(expression, names) == value, (terms, n, k, s, d)
                        values = [value for _, _, value in terms]
                        assert out in values and (d == 1 or g.span[0] in values)
                        if padding == "same":
                            assert values[-1] == sum(g.pads((n, n))[0])
                        assert f"= {out}" in axis_formula(g, 0, n, out) or f"stays {out}" in (
                            axis_formula(g, 0, n, out)
                        )
                        checked += 1
    assert checked > 200


@pytest.mark.parametrize(
    "args",
    [
        ("-k", "gaussian:sigma=2", "-p", "full", "--stride", "3,2", "--dilation", "2",
         "--at", "-1,0"),
        ("-k", "0.123,-4.567,8.9; 1e-4,-1e4,0.5", "-p", "same", "--stride", "2",
         "--bias", "-123.456", "--activation", "relu", "--scale", "7", "--offset", "-0.001",
         "--range", "rescale"),
        ("-k", "laplacian:neighbours=8", "-p", "same", "-b", "symmetric", "--dilation", "3,1"),
    ],
)  # fmt: skip
def test_text_fits_80_columns_whatever_the_options(gray_png, monkeypatch, args):
    monkeypatch.setenv("COLUMNS", "200")  # the layout itself must fit, not Rich's wrapping
    result = invoke("explain", *args, gray_png)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= 80, max(lines, key=len)
    assert any(line.startswith("   written: ") for line in lines)


def test_piped_output_is_plain_and_fits_80_columns(gray_png):
    done = run_convcli("explain", "-k", "gaussian:sigma=1", "-p", "same", "--at", "-1,0", gray_png)
    assert done.returncode == 0, done.stderr
    assert "\x1b[" not in done.stdout
    assert max(len(line) for line in done.stdout.splitlines()) <= 80
    assert "[0]" in done.stdout  # padding cells, marked


def test_ascii_when_stdout_cannot_encode(gray_png, monkeypatch):
    import os
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "convcli", "explain", "-k", "sharpen", str(gray_png)],
        capture_output=True,
        env={**os.environ, "PYTHONIOENCODING": "ascii", "COLUMNS": "80"},
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    text = done.stdout.decode("ascii")  # raises if anything non-ASCII got through
    assert "22x30" in text or "30x22" in text
    assert " x " in text


def test_help_has_examples():
    result = invoke("explain", "--help")
    assert result.exit_code == 0
    assert "Examples:" in result.output and "convcli explain -k sharpen" in result.output


def test_the_readme_transcript_is_what_explain_prints(monkeypatch):
    """The README's explain block is real output (regenerate with make explain-demo)."""
    import os
    import shlex

    monkeypatch.setenv("COLUMNS", "80")
    root = os.path.join(os.path.dirname(__file__), os.pardir)
    with open(os.path.join(root, "README.md"), encoding="utf-8") as readme:
        text = readme.read()
    block = re.search(r"```console\n\$ convcli (explain [^\n]*)\n(.*?)```", text, re.S)
    assert block, "README has no explain transcript"
    monkeypatch.chdir(root)
    result = CliRunner().invoke(cli, shlex.split(block.group(1)))
    assert result.exit_code == 0, result.output
    assert result.output == block.group(2)


def test_a_closed_pipe_exits_141_quietly(gray_png):
    """``convcli explain ... | head -1``: the reader went away, as for every command."""
    import subprocess
    import sys

    process = subprocess.Popen(
        [sys.executable, "-m", "convcli", "explain", "-k", "sharpen", str(gray_png)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    process.stdout.close()  # before anything is written
    _, err = process.communicate(timeout=60)
    assert process.returncode == 141
    assert b"Traceback" not in err


def test_banks_wide_animations_and_small_images_are_refused_plainly(tmp_path, gray_png):
    bank = tmp_path / "bank.npy"
    np.save(bank, np.ones((3, 3, 1, 4), np.float32))
    result = invoke("explain", "-k", bank, gray_png)
    assert result.exit_code == 2 and "a filter bank is not explained" in result.output
    wide = invoke("explain", "-k", "box:size=25", "--animate", tmp_path / "a.gif", gray_png)
    assert wide.exit_code == 2 and "--animate draws footprints up to 24" in wide.output
    assert not (tmp_path / "a.gif").exists()
    small = invoke("explain", "-k", "box:size=31", gray_png)  # 32x24 image, valid
    assert small.exit_code == 1
    assert small.output.startswith(f"convcli: error: {gray_png}: image is 32x24, smaller")
