"""Pictures of results: --compare, the gallery sheet, and how they are laid out.

Sheets have a tinted background and tinted labels, so a pixel is gray exactly
when it belongs to a (grayscale) picture. ``gray_boxes`` finds the pictures in a
written PNG from that alone, without trusting the layout code.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from convcli import KERNELS, load_image
from convcli.cli import cli
from convcli.cli.kernel_view import grid, properties
from convcli.visuals import AREA, BACKGROUND, Box, Panel, compare, contact_sheet, result_offset


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def read(path) -> np.ndarray:
    with Image.open(path) as image:
        image.load()
        return np.asarray(image)


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """``[start, stop)`` of each run of True."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], flags.astype(np.int8), [0]])))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def gray_boxes(rgb: np.ndarray) -> list[Box]:
    """Bounding boxes of the gray regions, row by row: the pictures of a sheet."""
    gray = (rgb[..., 0] == rgb[..., 1]) & (rgb[..., 1] == rgb[..., 2])
    boxes = []
    for top, bottom in _runs(gray.any(axis=1)):
        band = gray[top:bottom]
        for left, right in _runs(band.any(axis=0)):
            rows = np.flatnonzero(band[:, left:right].any(axis=1))
            box = Box(left, top + int(rows[0]), right - left, int(rows[-1] - rows[0]) + 1)
            assert box.crop(gray).all(), f"picture {box} is not a full rectangle"
            boxes.append(box)
    return boxes


def picture(rgb: np.ndarray, box: Box) -> np.ndarray:
    return box.crop(rgb)[..., 0]


# --- apply --compare ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kernel", "padding"), [("sharpen", "valid"), ("gaussian5", "valid"), ("emboss", "same")]
)
def test_compare_halves_are_the_loaded_input_and_the_written_output(
    tmp_path, rgb_jpeg, kernel, padding
):
    out = tmp_path / "out.png"
    result = run(
        "apply", "-k", kernel, "-p", padding, "--size", "48x36", "--compare", rgb_jpeg, out
    )
    assert result.exit_code == 0, result.output
    sheet = read(tmp_path / "out.compare.png")
    assert sheet.ndim == 3 and sheet.shape[2] == 3
    left, right = gray_boxes(sheet)
    np.testing.assert_array_equal(picture(sheet, left), load_image(rgb_jpeg, (48, 36)))
    np.testing.assert_array_equal(picture(sheet, right), read(out))
    # side by side, a thin gap apart; a valid result sits over the pixels it came from
    assert left.top == right.top - result_offset(KERNELS[kernel].shape, padding)[0]
    assert 0 < right.left - left.right < 40


def test_compare_of_a_kernel_chain_places_the_result_by_every_step(tmp_path, gray_png):
    out = tmp_path / "out.png"
    result = run("apply", "-k", "blur", "-k", "gaussian5", "--compare", gray_png, out)
    assert result.exit_code == 0, result.output
    sheet = read(tmp_path / "out.compare.png")
    left, right = gray_boxes(sheet)
    assert (right.top - left.top, right.width, right.height) == (3, 32 - 6, 24 - 6)
    np.testing.assert_array_equal(picture(sheet, right), read(out))


def test_compare_places_a_dilated_result_over_the_pixels_it_is_centred_on(tmp_path, gray_png):
    """blur dilated by 2 spans 5x5: a valid result is centred 2 pixels in, not 1
    (the offset follows the geometry, not the kernel's shape alone)."""
    out = tmp_path / "out.png"
    result = run("apply", "-k", "blur", "--dilation", "2", "--compare", gray_png, out)
    assert result.exit_code == 0, result.output
    sheet = read(tmp_path / "out.compare.png")
    left, right = gray_boxes(sheet)
    assert (right.top - left.top, right.width, right.height) == (2, 32 - 4, 24 - 4)
    np.testing.assert_array_equal(picture(sheet, right), read(out))


def test_compare_in_colour_shows_the_colour_input_and_output(tmp_path, rgb_jpeg):
    gray, colour = tmp_path / "gray.png", tmp_path / "colour.png"
    assert run("apply", "-k", "emboss", "--compare", rgb_jpeg, gray).exit_code == 0
    result = run("apply", "-k", "emboss", "--color", "--compare", rgb_jpeg, colour)
    assert result.exit_code == 0, result.output
    left, right = gray_boxes(read(tmp_path / "gray.compare.png"))  # the same layout
    sheet = read(tmp_path / "colour.compare.png")
    np.testing.assert_array_equal(left.crop(sheet), load_image(rgb_jpeg, color=True))
    np.testing.assert_array_equal(right.crop(sheet), read(colour))


def test_compare_in_colour_leaves_alpha_out_of_the_picture(tmp_path):
    rng = np.random.default_rng(11)
    rgba = tmp_path / "rgba.png"
    Image.fromarray(rng.integers(0, 256, (20, 24, 4), dtype=np.uint8), "RGBA").save(rgba)
    out = tmp_path / "out.png"
    result = run("apply", "-k", "box", "-p", "same", "--color", "--compare", rgba, out)
    assert result.exit_code == 0, result.output
    written = read(out)
    assert written.shape == (20, 24, 4)
    sheet = read(tmp_path / "out.compare.png")
    assert sheet.shape[2] == 3
    assert any(
        np.array_equal(sheet[y : y + 20, x : x + 24], written[..., :3])
        for y in range(sheet.shape[0] - 19)
        for x in range(sheet.shape[1] - 23)
    )


def test_compare_shows_the_lost_border_of_valid_as_an_amber_frame(tmp_path, gray_png):
    out = tmp_path / "edges.png"
    assert run("apply", "-k", "gaussian5", "--compare", gray_png, out).exit_code == 0
    sheet = read(tmp_path / "edges.compare.png")
    left, right = gray_boxes(sheet)
    assert (right.width, right.height) == (left.width - 4, left.height - 4)
    frame = Box(right.left - 2, right.top - 2, right.width + 4, right.height + 4).crop(sheet)
    for edge in (frame[:2], frame[-2:], frame[:, :2], frame[:, -2:]):
        assert (edge == AREA).all()
    assert (Box(left.left - 1, left.top, 1, left.height).crop(sheet) == BACKGROUND).all()


def test_compare_in_a_batch_goes_beside_each_output(tmp_path, rgb_jpeg, gray_png):
    dest = tmp_path / "results"
    result = run("apply", "-k", "blur", "--compare", rgb_jpeg, gray_png, dest)
    assert result.exit_code == 0, result.output
    assert sorted(os.listdir(dest)) == [
        "gray.compare.png",
        "gray.png",
        "photo.compare.png",
        "photo.png",
    ]


def test_compare_files_never_collide_with_other_jobs(tmp_path, rgb_jpeg, gray_png):
    twin = tmp_path / "photo.compare.jpg"
    twin.write_bytes(rgb_jpeg.read_bytes())
    dest = tmp_path / "out"
    result = run("apply", "-k", "blur", "--compare", rgb_jpeg, twin, dest)
    assert result.exit_code == 2
    assert f"the --compare picture of {rgb_jpeg} would overwrite the output of {twin}" in (
        result.stderr
    )
    assert not dest.exists()
    # rerun into the source folder: last run's compare picture is now an input
    last = tmp_path / "gray.compare.png"
    last.write_bytes(gray_png.read_bytes())
    result = run("apply", "-k", "blur", "-f", "--compare", gray_png, last, tmp_path)
    assert result.exit_code == 2
    assert f"the --compare picture of {gray_png} would overwrite the " in result.stderr
    assert last.read_bytes() == gray_png.read_bytes()
    named = tmp_path / "gray-out.compare.png"
    named.write_bytes(gray_png.read_bytes())
    result = run(
        "apply", "-k", "blur", "-f", "--compare", "--name", "{stem}-out.png",
        gray_png, named, tmp_path,
    )  # fmt: skip
    assert result.exit_code == 2
    assert f"the --compare picture of {gray_png} would overwrite the input {named}" in (
        result.stderr
    )
    assert sorted(os.listdir(tmp_path)) == sorted(
        ["gray.png", "gray.compare.png", "gray-out.compare.png", "photo.jpg", "photo.compare.jpg"]
    )


def test_existing_compare_file_is_refused_before_any_work(tmp_path, rgb_jpeg):
    (tmp_path / "out.compare.png").write_bytes(b"keep me")
    result = run("apply", "-k", "blur", "--compare", rgb_jpeg, tmp_path / "out.png")
    assert result.exit_code == 1
    assert result.stderr == (
        f"convcli: error: {tmp_path / 'out.compare.png'}: "
        "already exists (use --overwrite to replace it)\n"
    )
    assert not (tmp_path / "out.png").exists()
    assert (tmp_path / "out.compare.png").read_bytes() == b"keep me"
    assert (
        run("apply", "-k", "blur", "-f", "--compare", rgb_jpeg, tmp_path / "out.png").exit_code == 0
    )
    assert read(tmp_path / "out.compare.png").ndim == 3


def test_without_compare_no_extra_file(tmp_path, rgb_jpeg):
    assert run("apply", "-k", "blur", rgb_jpeg, tmp_path / "out.png").exit_code == 0
    assert sorted(os.listdir(tmp_path)) == ["out.png", "photo.jpg"]


# --- gallery ------------------------------------------------------------------------


def test_every_gallery_tile_is_what_apply_writes(tmp_path, rgb_jpeg):
    out = tmp_path / "gallery.png"
    result = run("gallery", rgb_jpeg, out)
    assert result.exit_code == 0, result.output
    sheet = read(out)
    boxes = gray_boxes(sheet)
    assert len(boxes) == 1 + len(KERNELS)
    np.testing.assert_array_equal(picture(sheet, boxes[0]), load_image(rgb_jpeg))
    for name, box in zip(KERNELS, boxes[1:], strict=True):
        applied = tmp_path / f"{name}.png"
        assert run("apply", "-k", name, "-p", "same", rgb_jpeg, applied).exit_code == 0
        np.testing.assert_array_equal(picture(sheet, box), read(applied), err_msg=name)


def test_gallery_with_chosen_kernels_valid_padding_and_size(tmp_path, rgb_jpeg):
    out = tmp_path / "g.png"
    kernels = ["gaussian5", "sobel-x", "identity"]
    args = [x for k in kernels for x in ("-k", k)]
    result = run("gallery", *args, "--padding", "valid", "--size", "36x28", rgb_jpeg, out)
    assert result.exit_code == 0, result.output
    sheet = read(out)
    boxes = gray_boxes(sheet)
    assert [(b.width, b.height) for b in boxes] == [(36, 28), (32, 24), (34, 26), (34, 26)]
    for name, box in zip(kernels, boxes[1:], strict=True):
        applied = tmp_path / f"{name}.png"
        assert run("apply", "-k", name, "-s", "36x28", rgb_jpeg, applied).exit_code == 0
        np.testing.assert_array_equal(picture(sheet, box), read(applied), err_msg=name)


@pytest.mark.parametrize(
    "settings",
    [
        ["--range", "abs", "--border", "edge"],
        ["-p", "full", "--border", "reflect"],
        ["-p", "valid", "--range", "rescale"],
    ],
)
def test_gallery_tiles_follow_apply_settings(tmp_path, rgb_jpeg, settings):
    out = tmp_path / "g.png"
    kernels = ["sobel-x", "gaussian5", "1/4,1/2,1/4"]
    args = [x for k in kernels for x in ("-k", k)]
    result = run("gallery", *args, *settings, rgb_jpeg, out)
    assert result.exit_code == 0, result.output
    sheet = read(out)
    boxes = gray_boxes(sheet)
    assert len(boxes) == 4
    for index, (spec, box) in enumerate(zip(kernels, boxes[1:], strict=True)):
        applied = tmp_path / f"{index}.png"
        done = run("apply", "-k", spec, "-p", "same", *settings, rgb_jpeg, applied)
        assert done.exit_code == 0, done.output
        np.testing.assert_array_equal(picture(sheet, box), read(applied), err_msg=spec)


def test_gallery_in_colour_tiles_are_what_apply_color_writes(tmp_path, rgb_jpeg):
    gray, colour = tmp_path / "gray.png", tmp_path / "colour.png"
    assert run("gallery", "-k", "sharpen", "-k", "box", rgb_jpeg, gray).exit_code == 0
    result = run("gallery", "--color", "-k", "sharpen", "-k", "box", rgb_jpeg, colour)
    assert result.exit_code == 0, result.output
    boxes = gray_boxes(read(gray))  # the same layout
    sheet = read(colour)
    np.testing.assert_array_equal(boxes[0].crop(sheet), load_image(rgb_jpeg, color=True))
    for name, box in zip(["sharpen", "box"], boxes[1:], strict=True):
        applied = tmp_path / f"{name}.png"
        assert run("apply", "-k", name, "-p", "same", "--color", rgb_jpeg, applied).exit_code == 0
        np.testing.assert_array_equal(box.crop(sheet), read(applied), err_msg=name)


def test_gallery_combine_draws_the_combination_apply_writes(tmp_path, gray_png):
    """--combine applies the 2-D kernels side by side in one tile, as apply does
    (each kernel alone has nothing to combine)."""
    out, applied = tmp_path / "g.png", tmp_path / "mag.png"
    args = ["-k", "sobel-x", "-k", "sobel-y", "--combine", "magnitude"]
    result = run("gallery", *args, gray_png, out)
    assert result.exit_code == 0, result.output
    assert "and 1 tile (same, magnitude)" in result.output
    assert run("apply", *args, "-p", "same", gray_png, applied).exit_code == 0
    _, tile = gray_boxes(read(out))  # the original, then the one tile
    np.testing.assert_array_equal(picture(read(out), tile), read(applied))


def test_gallery_colour_maps_are_each_kernels_colour_result(tmp_path, rgb_jpeg):
    """With --color, side-by-side maps are (H, W, maps, 3): a tile is a map in colour."""
    gray, colour = tmp_path / "gray.png", tmp_path / "colour.png"
    args = ["-k", "sharpen", "-k", "box", "--combine", "maps"]
    assert run("gallery", *args, rgb_jpeg, gray).exit_code == 0  # the same layout
    result = run("gallery", "--color", *args, rgb_jpeg, colour)
    assert result.exit_code == 0, result.output
    sheet = read(colour)
    for name, box in zip(["sharpen", "box"], gray_boxes(read(gray))[1:], strict=True):
        applied = tmp_path / f"{name}.png"
        assert run("apply", "-k", name, "-p", "same", "--color", rgb_jpeg, applied).exit_code == 0
        np.testing.assert_array_equal(box.crop(sheet), read(applied), err_msg=name)


def test_a_bank_reads_transparency_flattened_in_apply_and_gallery(tmp_path):
    """A bank reads RGB with transparency flattened over --background, as gray images
    are read: a hidden colour never shows, and a map has no alpha (a one-map bank on
    an RGBA image wrote an (H, W, 2) array: 'unexpected error')."""
    rgba = np.zeros((12, 16, 4), np.uint8)
    rgba[..., 0] = 255  # red everywhere...
    rgba[:, 8:, 3] = 255  # ...visible on the right half only
    Image.fromarray(rgba, "RGBA").save(tmp_path / "half.png")
    red = np.zeros((1, 1, 3, 2), np.float32)
    red[0, 0, 0, :] = 1  # both maps: the red channel
    np.save(tmp_path / "red.npy", red)
    np.save(tmp_path / "red1.npy", red[..., :1])
    result = run("apply", "-k", tmp_path / "red.npy", "--background", "black",
                 tmp_path / "half.png", tmp_path / "maps.npy")  # fmt: skip
    assert result.exit_code == 0, result.output
    maps = np.load(tmp_path / "maps.npy")
    assert (maps[:, :8] == 0).all() and (maps[:, 8:] == 255).all()
    out = tmp_path / "one.png"
    result = run("apply", "-k", tmp_path / "red1.npy", tmp_path / "half.png", out)
    assert result.exit_code == 0, result.output
    written = read(out)
    assert written.shape == (12, 16) and (written == 255).all()  # over white: 255 too
    sheet = tmp_path / "g.png"
    result = run("gallery", "-k", tmp_path / "red1.npy", tmp_path / "half.png", sheet)
    assert result.exit_code == 0, result.output
    (tile,) = gray_boxes(read(sheet))  # the original is red: not gray
    np.testing.assert_array_equal(picture(read(sheet), tile), written)


@pytest.mark.parametrize("columns", [1, 2, 3, 5, 9])
def test_gallery_layout_follows_columns(tmp_path, gray_png, columns):
    out = tmp_path / "g.png"
    kernels = ["blur", "sharpen", "outline", "emboss"]  # + the original: 5 tiles
    args = [x for k in kernels for x in ("-k", k)]
    assert run("gallery", *args, "--columns", columns, gray_png, out).exit_code == 0
    boxes = gray_boxes(read(out))
    assert len(boxes) == 5
    lefts = sorted({b.left for b in boxes})
    tops = sorted({b.top for b in boxes})
    assert len(lefts) == min(columns, 5)
    assert len(tops) == -(-5 // columns)
    for index, box in enumerate(boxes):  # row by row, the original first
        row, column = divmod(index, min(columns, 5))
        assert (box.top, box.left) == (tops[row], lefts[column])


def test_gallery_shrinks_a_large_image_to_fit_as_apply_size_would(tmp_path):
    big = tmp_path / "big.png"
    rng = np.random.default_rng(5)
    Image.fromarray(rng.integers(0, 256, (300, 640), dtype=np.uint8), "L").save(big)
    out = tmp_path / "g.png"
    result = run("gallery", "-k", "blur", big, out)
    assert result.exit_code == 0, result.output
    sheet = read(out)
    original, blurred = gray_boxes(sheet)
    assert (original.width, original.height) == (512, 240)
    applied = tmp_path / "blur.png"
    assert run("apply", "-k", "blur", "-p", "same", "-s", "512x240", big, applied).exit_code == 0
    np.testing.assert_array_equal(picture(sheet, blurred), read(applied))
    assert run("gallery", "-k", "blur", "-s", "640x300", big, tmp_path / "full.png").exit_code == 0
    assert gray_boxes(read(tmp_path / "full.png"))[0].width == 640


def test_gallery_errors_are_one_line_and_leave_nothing(tmp_path, rgb_jpeg):
    missing = tmp_path / "nope.jpg"
    result = run("gallery", missing, tmp_path / "g.png")
    assert result.exit_code == 1
    assert result.stderr == f"convcli: error: {missing}: no such file\n"
    tiny = tmp_path / "tiny.png"
    Image.new("L", (4, 4)).save(tiny)
    result = run("gallery", "-p", "valid", tiny, tmp_path / "g.png")
    assert result.exit_code == 1
    assert "smaller than the 5x5 kernel" in result.stderr
    assert sorted(os.listdir(tmp_path)) == ["photo.jpg", "tiny.png"]
    (tmp_path / "g.png").write_bytes(b"keep me")
    result = run("gallery", rgb_jpeg, tmp_path / "g.png")
    assert result.exit_code == 1
    assert "already exists (use --overwrite to replace it)" in result.stderr
    assert (tmp_path / "g.png").read_bytes() == b"keep me"
    assert run("gallery", "-f", rgb_jpeg, tmp_path / "g.png").exit_code == 0
    result = run("gallery", tiny, tiny, "-f")
    assert result.exit_code == 1
    assert "is the input file" in result.stderr
    assert run("gallery", "-k", "nope", rgb_jpeg, tmp_path / "h.png").exit_code == 2
    result = run("gallery", rgb_jpeg, tmp_path / "h.jpg")
    assert result.exit_code == 2
    assert "a gallery is a PNG; name it .png" in result.stderr
    assert not (tmp_path / "h.jpg").exists()
    assert run("gallery", "--columns", "0", rgb_jpeg, tmp_path / "h.png").exit_code == 2


def test_gallery_has_help_and_is_listed():
    result = run("gallery", "--help")
    assert result.exit_code == 0
    for option in ("--kernel", "--padding", "--border", "--range", "--columns", "--size"):
        assert option in result.stdout
    assert "gallery  Write a contact sheet of IMAGE under every kernel." in run("--help").stdout
    assert "--compare" in run("apply", "--help").stdout


def test_gallery_names_with_brackets_and_warnings_reach_stderr(tmp_path):
    odd = tmp_path / "[bold]x.tif"
    values = np.linspace(-50, 400, 20 * 16, dtype=np.float32).reshape(16, 20)
    Image.fromarray(values, "F").save(odd)
    out = tmp_path / "[red]g.png"
    result = run("gallery", "-k", "blur", odd, out)
    assert result.exit_code == 0, result.output
    assert f"✓ {out} (" in result.stderr and str(odd) in result.stderr
    assert f"convcli: warning: {odd}: " in result.stderr


def test_gallery_as_a_real_process(tmp_path, rgb_jpeg):
    out = tmp_path / "g.png"
    env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "convcli", "gallery", "-k", "outline", "-c", "2", rgb_jpeg, out],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert len(gray_boxes(read(out))) == 2


# --- the layout itself ---------------------------------------------------------------


def _panels() -> list[Panel]:
    rng = np.random.default_rng(7)
    big = rng.integers(0, 256, (30, 20), dtype=np.uint8)
    return [
        Panel(big, "original"),
        Panel(big[1:-1, 1:-1], "a label much wider than its picture", origin=(1, 1)),
        Panel(big[2:-2, 2:-2], "five", origin=(2, 2)),
        Panel(np.zeros((3, 3), np.uint8), "tiny, black"),
        Panel(np.full((32, 22), 255, np.uint8), "full: reaches out", origin=(-1, -1)),
    ]


@pytest.mark.parametrize("columns", [1, 2, 4])
def test_labels_never_overlap_pictures_and_hold_all_the_ink(columns):
    panels = _panels()
    sheet = contact_sheet(panels, columns=columns)
    image = sheet.image
    for box, area, panel in zip(sheet.pictures, sheet.areas, panels, strict=True):
        np.testing.assert_array_equal(picture(image, box), panel.picture)
        assert area.left <= box.left and box.right <= area.right
        assert area.top <= box.top and box.bottom <= area.bottom
        for label in sheet.labels:
            assert not area.overlaps(label)
    for index, label in enumerate(sheet.labels):
        assert (label.crop(image) != BACKGROUND).any(), "every label is drawn"
        for other in sheet.labels[index + 1 :]:
            assert not label.overlaps(other)
    ink = (image != BACKGROUND).any(axis=2)
    for box in (*sheet.areas, *sheet.labels):
        ink[box.top : box.bottom, box.left : box.right] = False
    assert not ink.any(), "something was drawn outside every picture and label"
    assert gray_boxes(image) == list(sheet.pictures)


def test_pictures_keep_their_relative_origins():
    one_row = contact_sheet(_panels(), columns=5).pictures
    one_column = contact_sheet(_panels(), columns=1).pictures
    for index, shift in [(1, 1), (2, 2), (4, -1)]:
        assert one_row[index].top - one_row[0].top == shift
        assert one_column[index].left - one_column[0].left == shift


def test_compare_is_a_two_column_sheet():
    before = np.arange(48, dtype=np.uint8).reshape(6, 8)
    sheet = compare(before, before[1:-1, 1:-1], labels=("in", "out"), offset=(1, 1))
    assert sheet.columns == 2
    left, right = sheet.pictures
    assert right.top == left.top + 1 and left.right < right.left


@pytest.mark.parametrize(
    ("panels", "columns", "message"),
    [
        ([], 2, "panels must not be empty"),
        ([Panel(np.zeros((2, 2)), "x")], 1, "must be uint8"),
        ([Panel(np.zeros((2, 2, 4), np.uint8), "x")], 1, r"\(H, W\) or \(H, W, 3\)"),
        ([Panel(np.zeros((2, 2), np.uint8), "x")], 0, "columns must be at least 1"),
    ],
)
def test_contact_sheet_validates(panels, columns, message):
    with pytest.raises(ValueError, match=message):
        contact_sheet(panels, columns=columns)


# --- kernels in the terminal ------------------------------------------------------------


def _expected_rows(weights: np.ndarray) -> tuple[list[list[str]], str]:
    """The grid's numbers as the tutorial writes them, and the factored-out fraction."""
    for denominator in (1, 9, 16, 256):
        scaled = weights * denominator
        if np.allclose(scaled, np.rint(scaled)):
            rows = [[str(int(v)) for v in row] for row in np.rint(scaled)]
            return rows, "" if denominator == 1 else f"× 1/{denominator}"
    raise AssertionError("no small denominator")


def _table_blocks(stdout: str) -> list[tuple[str, list[list[str]]]]:
    """Each table row (both tables): its kernel name and its cells, line by line."""
    blocks: list[tuple[str, list[list[str]]]] = []
    current: list[list[str]] = []
    for line in stdout.splitlines():
        if line.startswith("│"):
            current.append([cell.strip() for cell in line.strip("│").split("│")])
            if len(current) == 1:
                blocks.append((current[0][0], current))
        else:
            current = []
    return blocks


def test_kernels_lists_every_matrix_value_by_value():
    result = run("kernels")
    assert result.exit_code == 0, result.output
    blocks = _table_blocks(result.stdout)[: len(KERNELS)]
    assert [name for name, _ in blocks] == list(KERNELS)
    for (name, block), kernel in zip(blocks, KERNELS.values(), strict=True):
        rows, fraction = _expected_rows(kernel.weights)
        shown = [cells[1].split() for cells in block]
        assert shown[: len(rows)] == rows, name
        if fraction:
            assert block[len(rows)][1] == fraction, name


def test_kernels_lists_parameterised_kernels_with_parameters_and_defaults():
    from convcli.kernels import FAMILIES

    result = run("kernels")
    assert result.exit_code == 0, result.output
    blocks = _table_blocks(result.stdout)[len(KERNELS) :]
    assert [name for name, _ in blocks] == list(FAMILIES)
    for (name, block), family in zip(blocks, FAMILIES.values(), strict=True):
        assert block[1][0] == family.example, name
        parameters = " ".join(cells[1] for cells in block)
        for parameter in family.params:
            assert f"{parameter.name}: " in parameters, (name, parameter.name)
        defaults = [cells[2] for cells in block]
        assert defaults[0].startswith(family.make({}).name + " ("), name
        assert defaults[1].split(" ")[0] in ("normalised", "zero-sum", "neither"), name


def test_kernels_draws_a_parameterised_kernel_value_by_value():
    from convcli import parse_kernel

    result = run("kernels", "gaussian:sigma=0.8,size=5")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    weights = parse_kernel("gaussian:sigma=0.8,size=5").weights
    expected = [[f"{v:.3g}" for v in row] for row in weights]
    rows = [line.split() for line in lines]
    start = rows.index(expected[0])
    assert rows[start : start + 5] == expected
    assert any(line.startswith("  sigma: number") for line in lines)
    assert any(line.startswith("separable: [0.0") for line in lines)


@pytest.mark.parametrize(
    ("name", "kind", "split"),
    [
        ("blur", "normalised", "separable: [1 2 1]ᵀ [1 2 1]/16"),
        ("gaussian5", "normalised", "separable: [1 4 6 4 1]ᵀ [1 4 6 4 1]/256"),
        ("sobel-x", "zero-sum", "separable: [1 2 1]ᵀ [-1 0 1]"),
        ("outline", "zero-sum", "not separable"),
        ("sharpen", "normalised", "not separable"),
    ],
)
def test_kernels_says_what_the_weights_sum_to_and_if_separable(name, kind, split):
    result = run("kernels", name)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    rows, fraction = _expected_rows(KERNELS[name].weights)
    assert [line.split() for line in lines[2 : 2 + len(rows)]] == rows
    assert any(line.startswith(f"{kind} (") for line in lines)
    assert any(line.startswith(split) for line in lines)
    if fraction:
        assert fraction in lines


def test_a_kernel_that_is_neither_normalised_nor_zero_sum():
    kind, split = (line.plain for line in properties(np.ones((2, 2))))
    assert kind == "neither normalised nor zero-sum (sums to 4)"
    assert split == "separable: [1 1]ᵀ [1 1]"
    kind, _ = (line.plain for line in properties(np.array([[0.1, 0.2], [0.3, np.pi]])))
    assert kind == "neither normalised nor zero-sum (sums to 3.74159)"


def test_a_float32_kernel_is_judged_at_its_own_precision(tmp_path):
    """float32 rounding (1e-7) is not a kernel that fails to sum to 1 or 0."""
    from convcli import parse_kernel

    unsharp = parse_kernel("unsharp:sigma=1.5,amount=0.8").weights.astype(np.float32)
    assert abs(float(unsharp.sum()) - 1) > 1e-9  # float32 rounding shows in the sum
    kind, _ = (line.plain for line in properties(unsharp))
    assert kind.startswith("normalised")
    edge = np.array([[0.1, -0.3], [0.7, -0.5]], dtype=np.float32)
    assert float(edge.sum()) != 0
    kind, _ = (line.plain for line in properties(edge))
    assert kind.startswith("zero-sum")
    # and through the command, from a float32 .npy
    np.save(tmp_path / "unsharp.npy", unsharp)
    result = run("kernels", tmp_path / "unsharp.npy")
    assert result.exit_code == 0, result.output
    assert "normalised (sums to 1: brightness kept)" in result.stdout
    kind, _ = (line.plain for line in properties(np.array([[0.5, 0.5 + 1e-7]])))
    assert kind.startswith("neither")  # float64 weights keep the strict tolerance


def test_weights_are_coloured_by_sign_and_shaded_by_strength():
    from io import StringIO

    from rich.console import Console

    out = StringIO()
    console = Console(file=out, force_terminal=True, color_system="256", no_color=False)
    console.print(grid(KERNELS["emboss"].weights))
    ansi = out.getvalue()
    for code, meaning in [(196, "-2 bright red"), (124, "-1 mid red"), (21, "2 bright blue")]:
        assert f"48;5;{code}m" in ansi, meaning
    assert "48;5;19m" in ansi  # 1: mid blue
    plain = grid(KERNELS["gaussian5"].weights).plain.splitlines()
    assert plain[-1] == "× 1/256" and plain[2].split() == ["6", "24", "36", "24", "6"]


def test_readme_gallery_is_up_to_date():
    """docs/gallery.png shows every built-in kernel as apply computes it today."""
    from pathlib import Path

    from convcli import convolve
    from convcli.imageio import to_uint8

    root = Path(__file__).resolve().parent.parent
    stale = "docs/gallery.png is stale: run 'make gallery' and commit it"
    boxes = gray_boxes(sheet := read(root / "docs" / "gallery.png"))
    assert len(boxes) == 1 + len(KERNELS), stale
    image = load_image(root / "sample_images" / "scene.jpg", (256, 192))
    np.testing.assert_array_equal(picture(sheet, boxes[0]), image, err_msg=stale)
    for kernel, box in zip(KERNELS.values(), boxes[1:], strict=True):
        expected = to_uint8(convolve(image, kernel.weights, padding="same"))
        np.testing.assert_array_equal(picture(sheet, box), expected, err_msg=stale)
    assert "](docs/gallery.png)" in (root / "README.md").read_text(encoding="utf-8")


def test_a_matrix_too_large_to_draw_is_summarised():
    assert grid(np.full((16, 3), 0.5)).plain == ("16x3: too large to draw; weights from 0.5 to 0.5")
    assert len(grid(np.ones((15, 15))).plain.splitlines()) == 15
    wrapped = grid(np.full((2, 14), np.pi / 1000), max_width=80).plain.splitlines()
    assert wrapped[0] == "columns 1-7 of 14:" and wrapped[3] == "columns 8-14 of 14:"
    assert grid(np.ones((65, 3)), max_width=80).plain.startswith("65x3: too")
    assert len(grid(np.full((2, 14), np.pi / 1000), max_width=130).plain.splitlines()) == 2
