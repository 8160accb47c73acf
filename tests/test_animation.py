"""``explain --animate``: frames, footprints and numbers, read back from real files.

Each frame's blue outlines must sit exactly on the cells Geometry says the
output cell reads (stride and dilation included), and the output grid must
show the pixels ``convcli apply`` writes.
"""

from __future__ import annotations

import dataclasses
import io

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image, ImageSequence

from convcli.animation import (
    CELL,
    MAX_FRAMES,
    TAP,
    block_for,
    cell_image,
    draw_frames,
    encode,
    gray_index,
    layout_for,
    palette_colours,
)
from convcli.cli import cli
from convcli.engine import Geometry
from convcli.explain import explain, tap_positions
from convcli.kernels import KERNELS, parse_kernel
from convcli.options import Options


def frames_of(data: bytes) -> list[np.ndarray]:
    with Image.open(io.BytesIO(data)) as image:
        return [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(image)]


def encoded(frames: list[Image.Image], fmt: str) -> bytes:
    buffer = io.BytesIO()
    encode(frames, fmt, buffer)
    return buffer.getvalue()


def palette_gray(value: float) -> int:
    """The gray a cell of ``value`` is drawn in: the nearest of 250 levels, at most 1 off."""
    gray = palette_colours()[gray_index(value)][0]
    assert abs(gray - min(255, max(0, round(value)))) <= 1
    return gray


def check_footprints(e, plane, frames: list[np.ndarray]) -> None:
    block = block_for(e)
    layout = layout_for(block)
    assert len(frames) == block.frames <= MAX_FRAMES
    cells = [(r, c) for r in block.out_rows for c in block.out_cols]
    for frame, (r, c) in zip(frames, cells, strict=True):
        taps = {
            (int(pr) - block.in_rows.start, int(pc) - block.in_cols.start)
            for pr in tap_positions(e.geometry, 0, r)
            for pc in tap_positions(e.geometry, 1, c)
        }
        for i in range(len(block.in_rows)):
            for j in range(len(block.in_cols)):
                x0, y0, _, _ = layout.input_cell(i, j)
                edge = tuple(frame[y0 + CELL // 2, x0 + 1])
                assert (edge == TAP) == ((i, j) in taps), (r, c, i, j)
        # the output cell just computed shows the written value's gray, outlined in blue
        oi, oj = r - block.out_rows.start, c - block.out_cols.start
        x0, y0, _, _ = layout.output_cell(oi, oj)
        assert tuple(frame[y0 + 1, x0 + CELL // 2]) == TAP
        gray = palette_gray(float(e.output[r, c]))
        assert tuple(frame[y0 + 4, x0 + 4]) == (gray, gray, gray), (r, c)
        # ... and its number, pixel for pixel (inside the 3-pixel outline)
        inner = (slice(3, CELL - 3), slice(3, CELL - 3))
        expected = np.asarray(cell_image(float(e.output[r, c])).convert("RGB"))[inner]
        assert np.array_equal(frame[y0 : y0 + CELL, x0 : x0 + CELL][inner], expected), (r, c)


@pytest.mark.parametrize(
    ("kernel", "padding", "border", "at"),
    [
        ("sharpen", "same", "zero", (0, 0)),
        ("sharpen", "valid", "zero", (-1, -1)),
        ("0,1; 1,0", "full", "reflect", (3, -1)),  # even kernel, full padding
        ("blur", "same", "wrap", (-1, 4)),
    ],
)
def test_each_frame_highlights_the_window_geometry_gives(kernel, padding, border, at):
    rng = np.random.default_rng(1)
    plane = rng.integers(0, 256, (15, 17), dtype=np.uint8)
    options = Options.build(parse_kernel(kernel), padding=padding, border=border)
    e = explain(plane, options, at)
    frames = draw_frames(e, plane)
    check_footprints(e, plane, frames_of(encoded(frames, "PNG")))


@pytest.mark.parametrize("stride", [1, 2, 3, (2, 1)])
@pytest.mark.parametrize("dilation", [1, 2, (1, 3)])
def test_strided_and_dilated_footprints(stride, dilation):
    """Frames follow the run's Geometry: taps ``dilation`` apart, moving by ``stride``."""
    from convcli.imageio import to_uint8
    from convcli.pipeline import render

    plane = np.random.default_rng(2).integers(0, 256, (20, 21), dtype=np.uint8)
    options = Options.build(KERNELS["sharpen"], padding="same", stride=stride, dilation=dilation)
    e = explain(plane, options, (3, -2))
    assert np.array_equal(e.output, to_uint8(render(plane, options).out))  # apply's pixels
    check_footprints(e, plane, frames_of(encoded(draw_frames(e, plane), "PNG")))
    block = block_for(e)
    g = e.geometry
    for axis, cells in enumerate((block.in_rows, block.in_cols)):  # ~12, or 3 footprints
        assert len(cells) <= max(12, g.span[axis] + 2 * g.stride[axis])
    assert e.geometry == Geometry((3, 3), "same", stride=stride, dilation=dilation)


def test_gif_decodes_to_the_drawn_frames_and_stays_small():
    plane = np.random.default_rng(3).integers(0, 256, (40, 40), dtype=np.uint8)
    e = explain(plane, Options.build(KERNELS["identity"].__class__(
        "dot", [[1]], "one tap"), padding="same"), (20, 20))  # fmt: skip
    frames = draw_frames(e, plane)
    assert len(frames) == 144  # 12x12 crop, one frame per output cell
    for fmt in ("GIF", "PNG"):
        data = encoded(frames, fmt)
        assert len(data) < 1_000_000, (fmt, len(data))
        decoded = frames_of(data)
        assert len(decoded) == len(frames)
    drawn = [np.asarray(f.convert("RGB")) for f in frames]
    for ours, gif, png in zip(drawn, frames_of(encoded(frames, "GIF")),
                              frames_of(encoded(frames, "PNG")), strict=True):  # fmt: skip
        assert np.array_equal(ours, gif) and np.array_equal(ours, png)


def test_a_large_output_is_cropped_to_the_cells_nearest_at():
    plane = np.random.default_rng(4).integers(0, 256, (224, 224), dtype=np.uint8)
    e = explain(plane, Options.build(KERNELS["sharpen"]), (100, -1))
    block = block_for(e)
    assert block.frames <= MAX_FRAMES
    assert 100 in block.out_rows and 221 in block.out_cols
    assert len(block.in_rows) <= 12 and len(block.in_cols) <= 12


def test_animate_writes_the_file_with_apply_numbers(tmp_path):
    rng = np.random.default_rng(6)
    pixels = rng.integers(0, 256, (10, 11), dtype=np.uint8)
    image = tmp_path / "in.png"
    Image.fromarray(pixels).save(image)
    runner = CliRunner()
    out = tmp_path / "applied.png"
    assert (
        runner.invoke(cli, ["apply", "-k", "outline", "-p", "same", str(image), str(out)]).exit_code
        == 0
    )
    written = np.asarray(Image.open(out))
    animation = tmp_path / "explain.png"
    args = ["explain", "-k", "outline", "-p", "same", "--at", "5,5", "--animate", str(animation)]
    result = runner.invoke(cli, [*args, str(image)])
    assert result.exit_code == 0, result.output
    e = explain(pixels, Options.build(KERNELS["outline"], padding="same"), (5, 5))
    assert np.array_equal(e.output, written)
    e = dataclasses.replace(e, output=written)  # the grid checked against apply's own file
    check_footprints(e, pixels, frames_of(animation.read_bytes()))
    # and a grid drawn from other numbers would not pass
    wrong = dataclasses.replace(e, output=(written.astype(int) + 7).clip(0, 255))
    with pytest.raises(AssertionError):
        check_footprints(wrong, pixels, frames_of(animation.read_bytes()))
    again = runner.invoke(cli, [*args, str(image)])
    assert again.exit_code == 1 and "already exists" in again.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["applied.png", "explain.png", "in.png"]


def test_the_readme_animation_is_small_and_within_the_limits():
    """docs/explain.gif (make explain-demo) is what the README shows: < 1 MB, <= 150 frames."""
    import os

    root = os.path.join(os.path.dirname(__file__), os.pardir)
    with open(os.path.join(root, "README.md"), encoding="utf-8") as readme:
        assert "](docs/explain.gif)" in readme.read()
    path = os.path.join(root, "docs", "explain.gif")
    assert os.path.getsize(path) < 1_000_000
    with Image.open(path) as gif:
        assert 1 < gif.n_frames <= MAX_FRAMES and gif.info.get("loop") == 0
