"""`-` for stdin and stdout, JPEG output, and what a colour-managed output keeps."""

from __future__ import annotations

import io
import os
import subprocess

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from convcli.cli import cli

from .terminal import console_script


def convcli(*args, stdin=b"", cwd=None):
    return subprocess.run(
        [console_script(), *map(str, args)],
        input=stdin,
        capture_output=True,
        cwd=cwd,
        timeout=60,
        env={**os.environ, "COLUMNS": "100", "NO_COLOR": "1"},
    )


@pytest.fixture
def photo(tmp_path):
    rng = np.random.default_rng(4)
    path = tmp_path / "photo.jpg"
    Image.fromarray(rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)).save(path)
    return path


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.mark.slow
def test_a_pipeline_from_stdin_to_stdout(tmp_path, photo):
    """`cat photo.jpg | convcli apply -k sharpen - - > sharp.png`."""
    done = convcli("apply", "-k", "sharpen", "-", "-", stdin=photo.read_bytes(), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    piped = decoded(done.stdout)
    assert (piped.format, piped.mode, piped.size) == ("PNG", "L", (38, 28))
    by_file = convcli("apply", "-k", "sharpen", photo, tmp_path / "f.png")
    assert by_file.returncode == 0
    with Image.open(tmp_path / "f.png") as written:
        np.testing.assert_array_equal(np.asarray(piped), np.asarray(written))
    assert sorted(os.listdir(tmp_path)) == ["f.png", "photo.jpg"]  # no ./- anywhere


@pytest.mark.slow
@pytest.mark.parametrize(("name", "fmt"), [("jpg", "JPEG"), ("tif", "TIFF"), ("webp", "WEBP")])
def test_format_names_what_stdout_gets(tmp_path, photo, name, fmt):
    done = convcli("apply", "-k", "blur", "--format", name, photo, "-", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert decoded(done.stdout).format == fmt


@pytest.mark.slow
def test_npy_to_stdout_is_the_float_result(tmp_path, photo):
    done = convcli("apply", "-k", "sobel-x", "--format", "npy", photo, "-", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    raw = np.load(io.BytesIO(done.stdout), allow_pickle=False)
    assert raw.shape == (28, 38) and raw.min() < 0


@pytest.mark.slow
def test_a_failure_writes_nothing_to_stdout(tmp_path):
    done = convcli("apply", "-k", "blur", "-", "-", stdin=b"not an image", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stdout == b""
    assert done.stderr.decode().strip() == (
        "convcli: error: <stdin>: not a supported image (PNG, JPEG, GIF, BMP, TIFF, WebP or PPM)"
    )
    tiny = Image.new("L", (2, 2))
    buffer = io.BytesIO()
    tiny.save(buffer, "PNG")
    small = convcli("apply", "-k", "gaussian5", "-", "-", stdin=buffer.getvalue(), cwd=tmp_path)
    assert small.returncode == 1 and small.stdout == b""  # too small for valid: no bytes
    empty = convcli("apply", "-k", "blur", "-", "out.png", stdin=b"", cwd=tmp_path)
    assert empty.returncode == 1 and not (tmp_path / "out.png").exists()
    assert "empty input (0 bytes)" in empty.stderr.decode()


@pytest.mark.slow
def test_stdin_obeys_the_pixel_limit(tmp_path):
    buffer = io.BytesIO()
    Image.new("L", (300, 300)).save(buffer, "PNG")
    done = convcli("apply", "-k", "blur", "--max-pixels", "1000", "-", "-",
                   stdin=buffer.getvalue(), cwd=tmp_path)  # fmt: skip
    assert done.returncode == 1 and done.stdout == b""
    assert "more than the limit of 1,000 (--max-pixels)" in done.stderr.decode()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["a.png", "b.png", "-"], "'-' (stdout) takes one image; several inputs need"),
        (["-", "b.png", "out/"], "'-' (stdin) holds one image: it must be the only input"),
        (["--json", "a.png", "-"], "--json and an image cannot share stdout"),
        (["--compare", "a.png", "-"], "--compare writes a second picture; not with '-'"),
        (["folder", "-"], "'folder' is a folder: give an OUTPUT folder"),
        (["-", "out/"], "with '-' (stdin) OUTPUT must be a file name (or '-')"),
        (["--format", "jpg", "a.png", "o.png"], "--format names the format of '-' (stdout)"),
    ],
)
def test_what_cannot_work_with_a_dash_is_a_usage_error(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    Image.new("L", (8, 8)).save(tmp_path / "a.png")
    (tmp_path / "folder").mkdir()
    result = CliRunner().invoke(cli, ["apply", "-k", "blur", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_a_file_called_dash_is_reached_as_dot_slash(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Image.new("L", (8, 8), 100).save(tmp_path / "-", format="PNG")
    result = CliRunner().invoke(cli, ["apply", "-k", "blur", "./-", "./-.out.png"])
    assert result.exit_code == 0, result.output
    with Image.open(tmp_path / "-.out.png") as written:
        assert written.size == (6, 6)


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_jpeg_output_with_quality(tmp_path, photo):
    """The first thing an ImageMagick user types: photo.jpg -> photo-sharp.jpg."""
    low, high = tmp_path / "low.jpg", tmp_path / "high.jpeg"
    assert invoke("apply", "-k", "sharpen", "--quality", "20", photo, low).exit_code == 0
    assert invoke("apply", "-k", "sharpen", "-p", "same", "--color", photo, high).exit_code == 0
    with Image.open(low) as a, Image.open(high) as b:
        assert (a.format, a.mode, a.size) == ("JPEG", "L", (38, 28))
        assert (b.format, b.mode, b.size) == ("JPEG", "RGB", (40, 30))
    bad = invoke("apply", "-k", "blur", "--quality", "0", photo, tmp_path / "x.jpg")
    assert bad.exit_code == 2


def test_color_keeps_the_icc_profile_and_dpi_and_tiff_is_compressed(tmp_path):
    from PIL import ImageCms

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    source = tmp_path / "in.png"
    rng = np.random.default_rng(2)
    picture = Image.fromarray(rng.integers(0, 256, (20, 24, 3), dtype=np.uint8))
    picture.save(source, icc_profile=profile, dpi=(300, 300))
    for suffix, keeps_dpi in [(".png", True), (".tif", True), (".jpg", True), (".webp", False)]:
        out = tmp_path / f"out{suffix}"
        result = invoke("apply", "-k", "blur", "--color", source, out)
        assert result.exit_code == 0, result.output
        with Image.open(out) as written:
            assert written.info.get("icc_profile") == profile, suffix
            if keeps_dpi:
                assert tuple(round(float(v)) for v in written.info["dpi"]) == (300, 300), suffix
            if suffix == ".tif":
                assert written.info.get("compression") == "tiff_adobe_deflate"
    gray = tmp_path / "gray.tif"
    assert invoke("apply", "-k", "blur", source, gray).exit_code == 0
    with Image.open(gray) as written:
        assert written.info.get("compression") == "tiff_adobe_deflate"
        assert "icc_profile" not in written.info  # an RGB profile does not describe gray
