"""The real CLI: through Click's CliRunner, and a few times as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from convcli import KERNELS, convolve, load_image
from convcli.cli import cli
from convcli.imageio import to_uint8

from .helpers import modules_loaded, run_convcli


def run(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args])


def read_png(path) -> Image.Image:
    with Image.open(path) as image:
        image.load()
        return image


def test_apply_writes_the_engine_result_rounded_and_clipped(tmp_path, rgb_jpeg):
    out = tmp_path / "out.png"
    result = run("apply", "--kernel", "sharpen", rgb_jpeg, out)
    assert result.exit_code == 0, result.output
    image = read_png(out)
    assert (image.format, image.mode, image.size) == ("PNG", "L", (38, 28))
    expected = to_uint8(convolve(load_image(rgb_jpeg), KERNELS["sharpen"].weights))
    np.testing.assert_array_equal(np.asarray(image), expected)
    assert "sharpen" in result.stderr and str(out) in result.stderr
    assert result.stdout == ""


def test_same_padding_keeps_the_size_and_size_resizes(tmp_path, rgb_jpeg):
    out = tmp_path / "same.png"
    assert run("apply", "-k", "blur", "-p", "same", rgb_jpeg, out).exit_code == 0
    assert read_png(out).size == (40, 30)
    out = tmp_path / "small.png"
    assert run("apply", "-k", "blur", "--size", "224", rgb_jpeg, out).exit_code == 0
    assert read_png(out).size == (222, 222)
    out = tmp_path / "rect.png"
    assert run("apply", "-k", "blur", "-p", "same", "-s", "20x10", rgb_jpeg, out).exit_code == 0
    assert read_png(out).size == (20, 10)


def test_several_inputs_go_into_a_created_folder(tmp_path, rgb_jpeg, gray_png):
    dest = tmp_path / "results"
    result = run("apply", "-k", "outline", rgb_jpeg, gray_png, dest)
    assert result.exit_code == 0, result.output
    assert sorted(os.listdir(dest)) == ["gray.png", "photo.png"]
    assert "2 written, 0 skipped, 0 failed" in result.stderr


def test_one_input_into_an_existing_folder_or_trailing_slash(tmp_path, rgb_jpeg):
    (tmp_path / "d").mkdir()
    assert run("apply", "-k", "sharpen", rgb_jpeg, tmp_path / "d").exit_code == 0
    assert (tmp_path / "d" / "photo.png").is_file()
    assert run("apply", "-k", "sharpen", rgb_jpeg, f"{tmp_path / 'e'}/").exit_code == 0
    assert (tmp_path / "e" / "photo.png").is_file()


def test_quiet_prints_nothing(tmp_path, rgb_jpeg):
    result = run("apply", "-k", "sharpen", "-q", rgb_jpeg, tmp_path / "o.png")
    assert result.exit_code == 0
    assert result.output == ""


# --- errors: one line, the right exit code, no file left behind ----------------


def _only(tmp_path, *names):
    assert sorted(os.listdir(tmp_path)) == sorted(names)


def test_missing_input(tmp_path):
    result = run("apply", "-k", "sharpen", tmp_path / "nope.jpg", tmp_path / "o.png")
    assert result.exit_code == 1
    assert result.stderr == f"convcli: error: {tmp_path / 'nope.jpg'}: no such file\n"
    _only(tmp_path)


def test_not_an_image(tmp_path):
    fake = tmp_path / "fake.jpg"
    fake.write_text("not really")
    result = run("apply", "-k", "sharpen", fake, tmp_path / "o.png")
    assert result.exit_code == 1
    assert result.stderr == (
        f"convcli: error: {fake}: not a supported image (PNG, JPEG, GIF, BMP, TIFF, WebP or PPM)\n"
    )
    _only(tmp_path, "fake.jpg")


def test_unknown_kernel_is_a_usage_error_with_suggestions(tmp_path, rgb_jpeg):
    result = run("apply", "-k", "sharpn", rgb_jpeg, tmp_path / "o.png")
    assert result.exit_code == 2
    assert "unknown kernel 'sharpn'; did you mean sharpen?" in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "o.png").exists()


@pytest.mark.parametrize(
    "size", ["0", "ax3", "10xx", "-4", "70000"]
)  # (10x is a width now: issue 13)
def test_bad_size_is_a_usage_error(tmp_path, rgb_jpeg, size):
    result = run("apply", "-k", "sharpen", "--size", size, rgb_jpeg, tmp_path / "o.png")
    assert result.exit_code == 2
    assert "Invalid value for '-s' / '--size'" in result.stderr


def test_valid_result_that_would_be_empty(tmp_path):
    tiny = tmp_path / "tiny.png"
    Image.new("L", (3, 1)).save(tiny)
    result = run("apply", "-k", "sharpen", tiny, tmp_path / "o.png")
    assert result.exit_code == 1
    assert result.stderr == (
        f"convcli: error: {tiny}: image is 3x1, smaller than the 3x3 kernel: "
        "'valid' padding leaves nothing (use --padding same)\n"
    )
    _only(tmp_path, "tiny.png")
    assert run("apply", "-k", "sharpen", "-p", "same", tiny, tmp_path / "o.png").exit_code == 0


def test_existing_output_needs_overwrite(tmp_path, rgb_jpeg):
    out = tmp_path / "o.png"
    out.write_bytes(b"keep me")
    result = run("apply", "-k", "sharpen", rgb_jpeg, out)
    assert result.exit_code == 1
    assert result.stderr == (
        f"convcli: error: {out}: already exists (use --overwrite to replace it)\n"
    )
    assert out.read_bytes() == b"keep me"
    assert run("apply", "-k", "sharpen", "--overwrite", rgb_jpeg, out).exit_code == 0
    assert read_png(out).mode == "L"


def test_output_that_is_the_input_is_refused_even_with_overwrite(tmp_path, gray_png):
    before = gray_png.read_bytes()
    for flags in ([], ["-f"]):
        result = run("apply", "-k", "sharpen", *flags, gray_png, gray_png)
        assert result.exit_code == 1
        assert "is the input file" in result.stderr
    assert gray_png.read_bytes() == before


def test_one_bad_file_does_not_stop_the_others(tmp_path, rgb_jpeg):
    dest = tmp_path / "out"
    result = run("apply", "-k", "sharpen", tmp_path / "missing.png", rgb_jpeg, dest)
    assert result.exit_code == 1
    assert os.listdir(dest) == ["photo.png"]
    assert "1 written, 0 skipped, 1 failed" in result.stderr


def test_two_inputs_with_the_same_output_name(tmp_path, rgb_jpeg):
    png = tmp_path / "photo.png"
    png.write_bytes(b"")
    result = run("apply", "-k", "sharpen", rgb_jpeg, png, tmp_path / "out")
    assert result.exit_code == 2
    assert "would both be written" in result.stderr
    assert not (tmp_path / "out").exists()


# --- kernels, help, version ---------------------------------------------------------


def test_kernels_lists_every_kernel_with_its_values():
    result = run("kernels")
    assert result.exit_code == 0
    for name in KERNELS:
        assert name in result.stdout
    assert "× 1/16" in result.stdout  # blur, as exact fractions


def test_kernels_shows_one():
    result = run("kernels", "sharpen")
    assert result.exit_code == 0
    assert [line.split() for line in result.stdout.splitlines()[2:5]] == [
        ["0", "-1", "0"],
        ["-1", "5", "-1"],
        ["0", "-1", "0"],
    ]
    result = run("kernels", "blurr")
    assert result.exit_code == 2
    assert "did you mean blur" in result.stderr


@pytest.mark.parametrize("command", [[], ["apply"], ["kernels"]])
def test_every_command_has_help(command):
    result = run(*command, "--help")
    assert result.exit_code == 0
    assert "Usage:" in result.stdout
    assert len(result.stdout.splitlines()) > 5


def test_version_comes_from_package_metadata():
    from importlib.metadata import version

    assert run("--version").stdout.strip() == f"convcli, version {version('convcli')}"


# --- a real process ---------------------------------------------------------------


def test_subprocess_apply_and_exit_codes(tmp_path, rgb_jpeg):
    out = tmp_path / "o.png"
    done = run_convcli("apply", "-k", "emboss", "-p", "same", rgb_jpeg, out)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert read_png(out).size == (40, 30)
    again = run_convcli("apply", "-k", "sharpen", rgb_jpeg, out)
    assert again.returncode == 1
    assert again.stderr.startswith("convcli: error: ")
    assert "Traceback" not in again.stderr
    usage = run_convcli("apply", "-k", "nope", rgb_jpeg, out)
    assert usage.returncode == 2


def test_console_script_is_installed():
    script = os.path.join(os.path.dirname(sys.executable), "convcli")
    done = subprocess.run([script, "kernels", "identity"], capture_output=True, text=True)
    assert done.returncode == 0
    assert "identity" in done.stdout


def test_help_and_kernels_do_not_import_pillow():
    assert modules_loaded(["PIL"], run=["kernels"]) == []
    assert modules_loaded(["PIL"], run=["--help"]) == []


def test_kernel_is_required(tmp_path, rgb_jpeg):
    result = run("apply", rgb_jpeg, tmp_path / "o.png")
    assert result.exit_code == 2
    assert "Missing option '-k' / '--kernel'" in result.stderr


def test_the_core_never_imports_click_or_rich():
    core = ["convcli", "convcli.batch", "convcli.imageio", "convcli.pipeline", "convcli.visuals"]
    assert modules_loaded(["click", "rich"], imports=core) == []


def test_a_quiet_apply_never_loads_rich(tmp_path, rgb_jpeg):
    args = ["apply", "-q", "-k", "sharpen", rgb_jpeg, tmp_path / "o.png"]
    assert modules_loaded(["rich"], run=args) == []
    assert (tmp_path / "o.png").is_file()


def test_a_mistyped_command_gets_a_suggestion():
    result = run("aply", "x", "y")
    assert result.exit_code == 2
    assert (
        "No such command 'aply'. Did you mean 'apply'? Commands: apply, explain, gallery, kernels."
        in result.stderr
    )
