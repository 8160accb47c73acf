"""Outputs never lose data; the safety options of the CLI; faults injected on purpose.

Tests run as root here, so permission failures are simulated with monkeypatch
rather than chmod (root would be allowed to write anyway).
"""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from convcli import ImageReadError, OutputError, load_image, save_image
from convcli import imageio as imageio_module
from convcli.cli import cli
from convcli.imageio import atomic, parse_background
from convcli.imageio.targets import check_target

from .make_corpus import NOT_AN_IMAGE

POSIX = hasattr(os, "mkfifo")


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def _listing(folder):
    return sorted(os.listdir(folder))


@pytest.fixture
def precious(tmp_path):
    """An existing output that must survive every failure."""
    path = tmp_path / "o.png"
    Image.new("L", (3, 3), 7).save(path)
    return path, path.read_bytes()


# --- the temporary file ------------------------------------------------------------


def test_temp_file_is_created_exclusively_beside_the_target(tmp_path, monkeypatch):
    seen = []
    real_open = os.open

    def spy(path, flags, mode=0o777, **kwargs):
        seen.append((os.fspath(path), flags, mode))
        return real_open(path, flags, mode, **kwargs)

    monkeypatch.setattr(os, "open", spy)
    save_image(np.zeros((2, 2)), tmp_path / "o.png")
    temps = [(p, f, m) for p, f, m in seen if p.endswith(".tmp")]
    assert len(temps) == 1
    path, flags, mode = temps[0]
    assert os.path.dirname(path) == str(tmp_path)
    assert os.path.basename(path).startswith(".o.png.")
    assert flags & os.O_CREAT and flags & os.O_EXCL
    assert mode == 0o666  # the umask decides, as for any new file: not 0600
    assert _listing(tmp_path) == ["o.png"]


def test_a_taken_temp_name_is_never_reused(tmp_path, monkeypatch):
    names = iter(["aaaaaaaa", "aaaaaaaa", "bbbbbbbb"])
    monkeypatch.setattr(atomic, "random_token", lambda: next(names))
    (tmp_path / ".o.png.aaaaaaaa.tmp").write_bytes(b"someone else's")
    save_image(np.zeros((2, 2)), tmp_path / "o.png")
    assert (tmp_path / ".o.png.aaaaaaaa.tmp").read_bytes() == b"someone else's"
    assert _listing(tmp_path) == [".o.png.aaaaaaaa.tmp", "o.png"]


def test_a_long_output_name_still_gets_a_temporary_file(tmp_path):
    name = "é" * 120 + ".png"  # 244 bytes: legal, but not with a prefix and suffix added
    path = save_image(np.zeros((2, 2)), tmp_path / name)
    assert _listing(tmp_path) == [name]
    assert path.stat().st_size > 0


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_output_permissions_follow_the_umask(tmp_path, umask):
    old = os.umask(umask)
    try:
        path = save_image(np.zeros((2, 2)), tmp_path / "o.png")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask


# --- fault injection -----------------------------------------------------------------


class _FullDisk:
    """A file object whose writes fail with ENOSPC after ``budget`` bytes."""

    def __init__(self, handle, budget):
        self._handle, self._budget = handle, budget

    def write(self, data):
        if len(data) > self._budget:
            self._handle.write(bytes(data[: self._budget]))  # a partial temp file exists
            raise OSError(errno.ENOSPC, "No space left on device")
        self._budget -= len(data)
        return self._handle.write(data)

    def __getattr__(self, name):
        return getattr(self._handle, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._handle.close()


@pytest.mark.parametrize("overwrite", [False, True])
def test_enospc_mid_write_leaves_no_temp_and_keeps_the_old_output(
    tmp_path, monkeypatch, precious, overwrite
):
    path, before = precious
    real_fdopen = os.fdopen
    monkeypatch.setattr(os, "fdopen", lambda fd, *a, **k: _FullDisk(real_fdopen(fd, *a, **k), 20))
    target = path if overwrite else tmp_path / "new.png"
    with pytest.raises(OutputError, match="No space left on device"):
        save_image(np.full((64, 64), 9.0), target, overwrite=overwrite)
    assert path.read_bytes() == before
    assert _listing(tmp_path) == ["o.png"]


def test_enospc_at_fsync_is_also_clean(tmp_path, monkeypatch, precious):
    path, before = precious

    def fsync(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(OutputError, match=r"o.png: cannot write: No space left on device"):
        save_image(np.zeros((4, 4)), path, overwrite=True)
    assert path.read_bytes() == before
    assert _listing(tmp_path) == ["o.png"]


def test_unwritable_destination_is_one_clear_error(tmp_path, monkeypatch, precious):
    path, before = precious
    real_open = os.open

    def refuse(p, flags, *args, **kwargs):
        if flags & os.O_CREAT:
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(p))
        return real_open(p, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(OutputError, match=r"o.png: cannot write here: Permission denied"):
        save_image(np.zeros((4, 4)), path, overwrite=True)
    assert path.read_bytes() == before
    assert _listing(tmp_path) == ["o.png"]


def test_rename_failure_removes_the_temp(tmp_path, monkeypatch, precious):
    path, before = precious

    def refuse(src, dst):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OutputError, match="Permission denied"):
        save_image(np.zeros((4, 4)), path, overwrite=True)
    assert path.read_bytes() == before
    assert _listing(tmp_path) == ["o.png"]


def test_ctrl_c_during_the_write_removes_the_temp(tmp_path, monkeypatch, precious):
    path, before = precious

    def interrupted(self, *args, **kwargs):
        args[0].write(b"\x89PNG partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(Image.Image, "save", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_image(np.zeros((4, 4)), path, overwrite=True)
    assert path.read_bytes() == before
    assert _listing(tmp_path) == ["o.png"]


def test_a_target_appearing_meanwhile_is_not_clobbered(tmp_path, monkeypatch):
    """Without --overwrite the final step is a hard link, which fails if the name exists."""
    target = tmp_path / "o.png"
    real_link = os.link

    def race(src, dst):
        target.write_bytes(b"arrived first")
        return real_link(src, dst)

    monkeypatch.setattr(os, "link", race)
    with pytest.raises(OutputError, match="already exists"):
        save_image(np.zeros((2, 2)), target)
    assert target.read_bytes() == b"arrived first"
    assert _listing(tmp_path) == ["o.png"]


def test_cli_reports_a_full_disk_and_exits_1(tmp_path, monkeypatch, gray_png):
    def full_disk(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", full_disk)
    out = tmp_path / "out.png"
    result = run("apply", "-k", "blur", gray_png, out)
    assert result.exit_code == 1
    assert result.stderr == f"convcli: error: {out}: cannot write: No space left on device\n"
    assert _listing(tmp_path) == ["gray.png"]


# --- an output that is an input ------------------------------------------------------


def _refused_as_input(source, target):
    with pytest.raises(OutputError, match="is the input file"):
        check_target(source, target, overwrite=True)


def test_output_resolving_to_the_input_is_refused(tmp_path, gray_png):
    _refused_as_input(gray_png, gray_png)
    _refused_as_input(gray_png, tmp_path / "." / "gray.png")
    hard = tmp_path / "hard.png"
    os.link(gray_png, hard)
    _refused_as_input(gray_png, hard)  # what a case-insensitive spelling also is: one inode
    if POSIX:
        soft = tmp_path / "soft.png"
        soft.symlink_to(gray_png)
        _refused_as_input(gray_png, soft)
        _refused_as_input(soft, gray_png)
        folder = tmp_path / "via"
        folder.symlink_to(tmp_path)
        _refused_as_input(gray_png, folder / "gray.png")


def test_case_insensitive_alias_of_the_input_is_refused(tmp_path, gray_png, monkeypatch):
    """Simulate a case-insensitive filesystem: 'GRAY.PNG' is the input's own inode."""
    real_stat = os.stat

    def folding_stat(path, *args, **kwargs):
        path = os.fspath(path)
        if os.path.basename(path) == "GRAY.PNG":
            path = os.path.join(os.path.dirname(path), "gray.png")
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", folding_stat)
    _refused_as_input(gray_png, tmp_path / "GRAY.PNG")


def test_input_written_over_through_the_cli_is_refused(tmp_path, gray_png):
    before = gray_png.read_bytes()
    hard = tmp_path / "alias.png"
    os.link(gray_png, hard)
    result = run("apply", "-k", "blur", "-f", gray_png, hard)
    assert result.exit_code == 1
    assert result.stderr == (f"convcli: error: {hard}: is the input file; choose another output\n")
    assert gray_png.read_bytes() == before


@pytest.mark.skipif(not POSIX, reason="needs symlinks")
def test_an_output_that_is_another_jobs_input_through_a_link_is_refused(tmp_path, gray_png):
    """out/gray.png is also the second input, reached through a symlink: exit 2, untouched."""
    out = tmp_path / "out"
    out.mkdir()
    victim = out / "gray.png"
    victim.write_bytes(gray_png.read_bytes())
    before = victim.read_bytes()
    link = tmp_path / "other.png"
    link.symlink_to(victim)
    result = run("apply", "-k", "blur", "-f", gray_png, link, out)
    assert result.exit_code == 2
    assert f"would overwrite the input {link}" in result.stderr
    assert victim.read_bytes() == before
    assert _listing(out) == ["gray.png"]


@pytest.mark.skipif(not POSIX, reason="needs symlinks")
def test_a_compare_picture_that_is_an_input_through_a_link_is_refused(tmp_path, gray_png):
    out = tmp_path / "out"
    out.mkdir()
    victim = out / "gray.compare.png"
    victim.write_bytes(gray_png.read_bytes())
    link = tmp_path / "other.png"
    link.symlink_to(victim)
    result = run("apply", "-k", "blur", "-f", "--compare", gray_png, link, out)
    assert result.exit_code == 2
    assert f"would overwrite the input {link}" in result.stderr
    assert victim.read_bytes() == gray_png.read_bytes()


def test_missing_destination_folder_is_named_before_decoding(tmp_path, gray_png, monkeypatch):
    monkeypatch.setattr(
        imageio_module, "load_image", lambda *a, **k: pytest.fail("decoded before checking")
    )
    out = tmp_path / "no" / "such" / "o.png"
    result = run("apply", "-k", "blur", gray_png, out)
    assert result.exit_code == 1
    assert result.stderr == (f"convcli: error: {out}: folder {str(out.parent)!r} does not exist\n")
    assert not (tmp_path / "no").exists()


@pytest.mark.skipif(not POSIX, reason="needs FIFOs")
def test_special_file_as_output_is_refused_even_with_overwrite(tmp_path, gray_png):
    fifo = tmp_path / "o.png"
    os.mkfifo(fifo)
    with pytest.raises(OutputError, match="is not a regular file"):
        check_target(gray_png, fifo, overwrite=True)


@pytest.mark.skipif(not POSIX, reason="needs symlinks")
def test_overwriting_a_symlinked_output_replaces_the_link_not_its_target(tmp_path, gray_png):
    elsewhere = tmp_path / "elsewhere.png"
    elsewhere.write_bytes(b"not mine to touch")
    link = tmp_path / "o.png"
    link.symlink_to(elsewhere)
    assert run("apply", "-k", "blur", "-f", gray_png, link).exit_code == 0
    assert elsewhere.read_bytes() == b"not mine to touch"
    assert not link.is_symlink()


# --- inputs: limits and order of checks ---------------------------------------------


def test_file_size_limit_is_checked_before_opening(tmp_path, gray_png, monkeypatch):
    real_open = os.open
    monkeypatch.setattr(
        os,
        "open",
        lambda p, *a, **k: pytest.fail("opened") if p == gray_png else real_open(p, *a, **k),
    )
    size = gray_png.stat().st_size
    with pytest.raises(ImageReadError, match=f"file is {size:,} bytes, more than the limit of 10"):
        load_image(gray_png, max_bytes=10)


def test_a_name_with_a_nul_byte_is_an_image_read_error():
    with pytest.raises(ImageReadError, match="not a valid file name"):
        load_image("a\x00b.png")


def test_an_unreadable_input_is_one_clear_error(gray_png, monkeypatch):
    real_open = os.open

    def refuse(p, flags, *args, **kwargs):
        if os.fspath(p) == str(gray_png):
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(p))
        return real_open(p, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(ImageReadError, match=r"gray.png: cannot read: Permission denied$"):
        load_image(gray_png)


def test_an_input_swapped_between_stat_and_open_is_refused(tmp_path, gray_png, monkeypatch):
    """The file opened must be the regular file that was checked (same device and inode)."""
    real_open = os.open
    other = tmp_path / "other.png"
    other.write_bytes(gray_png.read_bytes())

    def swap(p, flags, *args, **kwargs):
        if os.fspath(p) == str(gray_png):
            os.replace(other, gray_png)  # an attacker's rename, just in time
        return real_open(p, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", swap)
    with pytest.raises(ImageReadError, match="changed while being opened; try again"):
        load_image(gray_png)


@pytest.mark.skipif(not POSIX, reason="needs FIFOs")
def test_a_fifo_swapped_in_after_the_check_is_refused_without_blocking(tmp_path, monkeypatch):
    """Opened with O_NONBLOCK and checked again with fstat: a FIFO never blocks the open."""
    path = tmp_path / "x.png"
    Image.new("L", (2, 2)).save(path)
    real_open = os.open

    def swap(p, flags, *args, **kwargs):
        if os.fspath(p) == str(path):
            path.unlink()
            os.mkfifo(path)
        return real_open(p, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", swap)
    # The inode number may be reused by the FIFO; then fstat's file type catches it.
    with pytest.raises(ImageReadError, match="changed while being opened|is a FIFO"):
        load_image(path)


def test_max_pixels_is_checked_on_the_header_before_decoding(tmp_path, monkeypatch):
    path = tmp_path / "big.png"
    Image.new("L", (300, 200)).save(path)
    monkeypatch.setattr(Image.Image, "load", lambda self: pytest.fail("decoded"))
    with pytest.raises(
        ImageReadError, match=r"big.png: image is 300x200 = 60,000 pixels, more than the limit of"
    ):
        load_image(path, max_pixels=59_999)


def test_pillows_python_warnings_become_warning_lines(tmp_path, monkeypatch):
    """Whatever Pillow warns while decoding is returned as data, an empty warning skipped."""
    import warnings as pywarnings

    path = tmp_path / "p.png"
    Image.new("L", (2, 2)).save(path)
    from PIL import ImageFile

    real_load = ImageFile.ImageFile.load

    def chatty(self):
        pywarnings.warn("Possibly corrupt EXIF data.\nSecond line.", UserWarning, stacklevel=1)
        pywarnings.warn("", UserWarning, stacklevel=1)
        return real_load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", chatty)
    notes: list[str] = []
    assert load_image(path, notes=notes).shape == (2, 2)
    assert notes == ["Possibly corrupt EXIF data."]


@pytest.mark.parametrize("how", [{}, {"wide": True}])
def test_32_bit_values_out_of_16_bit_range_are_clipped_with_a_warning(tmp_path, how):
    path = tmp_path / "i.tif"
    Image.fromarray(np.array([[-5, 257, 70000]], dtype=np.int32)).save(path)
    notes: list[str] = []
    assert load_image(path, notes=notes, **how).tolist() == [[0, 1, 255]]
    assert notes == ["32-bit pixel values outside 0..65535 clipped"]


def test_every_16_bit_value_scales_exactly_as_in_float64(tmp_path):
    values = np.arange(65536, dtype=np.uint16).reshape(256, 256)
    path = tmp_path / "all.png"
    Image.fromarray(values).save(path)
    expected = np.clip(np.rint(values.astype(np.float64) / 257), 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(load_image(path), expected)


def test_pillow_never_pads_truncated_images():
    from PIL import ImageFile

    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_pillows_bomb_warning_becomes_our_decision(tmp_path):
    """Between Pillow's warning and error thresholds, --max-pixels alone decides."""
    path = tmp_path / "big.png"
    Image.new("L", (1, 1)).save(path)
    old = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = 0.5  # any image now warns in Pillow (pytest: an error)
    try:
        assert load_image(path, max_pixels=10).shape == (1, 1)
    finally:
        Image.MAX_IMAGE_PIXELS = old


# --- --background, --max-pixels, --debug, warnings ----------------------------------


@pytest.mark.parametrize(
    ("text", "rgb"),
    [("0", (0, 0, 0)), ("255", (255,) * 3), ("black", (0, 0, 0)), ("#808080", (128,) * 3)],
)
def test_background_values(text, rgb):
    assert parse_background(text) == rgb


@pytest.mark.parametrize("text", ["256", "-1", "blurple", "", "١٢٣"])
def test_bad_background_is_a_usage_error(tmp_path, gray_png, text):
    result = run("apply", "-k", "blur", "--background", text, gray_png, tmp_path / "o.png")
    assert result.exit_code == 2
    assert "Invalid value for '--background'" in result.stderr
    assert _listing(tmp_path) == ["gray.png"]


def test_background_is_what_transparency_becomes(tmp_path):
    rgba = np.zeros((3, 3, 4), np.uint8)  # fully transparent black
    path = tmp_path / "clear.png"
    Image.fromarray(rgba, "RGBA").save(path)
    for option, value in (("white", 255), ("0", 0), ("100", 100), ("#ff0000", 76)):
        out = tmp_path / f"o-{value}.png"
        result = run("apply", "-k", "identity", "-p", "same", "--background", option, path, out)
        assert result.exit_code == 0, result.output
        with Image.open(out) as image:
            assert np.asarray(image).tolist() == [[value] * 3] * 3


def test_max_pixels_option(tmp_path, gray_png):
    out = tmp_path / "o.png"
    result = run("apply", "-k", "blur", "--max-pixels", "100", gray_png, out)
    assert result.exit_code == 1
    assert result.stderr == (
        f"convcli: error: {gray_png}: image is 32x24 = 768 pixels, more than the limit of "
        "100 (--max-pixels); possibly a decompression bomb\n"
    )
    assert run("apply", "-k", "blur", "--max-pixels", "768", gray_png, out).exit_code == 0


@pytest.mark.parametrize("value", ["0", "-5", "178956971", "lots"])
def test_bad_max_pixels_is_a_usage_error(tmp_path, gray_png, value):
    result = run("apply", "-k", "blur", "--max-pixels", value, gray_png, tmp_path / "o.png")
    assert result.exit_code == 2
    assert "Invalid value for '--max-pixels'" in result.stderr


def test_size_beyond_max_pixels_is_a_usage_error(tmp_path, gray_png):
    result = run("apply", "-k", "blur", "--max-pixels", "100", "-s", "11", gray_png, tmp_path)
    assert result.exit_code == 2
    assert "11x11 is more than --max-pixels (100)" in result.stderr


def test_warnings_go_to_stderr_unless_quiet(tmp_path):
    path = tmp_path / "float.tif"
    Image.fromarray(np.array([[-1.0, 300.0]], np.float32)).save(path)
    line = f"convcli: warning: {path}: float pixel values from -1 to 300 clipped to 0..255\n"
    loud = run("apply", "-k", "identity", "-p", "same", path, tmp_path / "a.png")
    assert loud.exit_code == 0 and loud.stderr.startswith(line)
    quiet = run("apply", "-q", "-k", "identity", "-p", "same", path, tmp_path / "b.png")
    assert quiet.exit_code == 0 and quiet.stderr == ""


def test_debug_shows_the_traceback_behind_an_error(tmp_path):
    text = tmp_path / "t.png"
    text.write_text("hi")
    plain = run("apply", "-k", "blur", text, tmp_path / "o.png")
    assert "Traceback" not in plain.stderr
    debug = run("--debug", "apply", "-k", "blur", text, tmp_path / "o.png")
    assert debug.exit_code == 1
    assert "Traceback (most recent call last)" in debug.stderr
    assert debug.stderr.rstrip().endswith(
        f"convcli: error: {text}: not a supported image (PNG, JPEG, GIF, BMP, TIFF, WebP or PPM)"
    )


_BUG_IN_THE_ENGINE = (
    "import sys, convcli.imageio as io\n"
    "def boom(*a, **k): raise RuntimeError('engine exploded')\n"
    "io.load_image = boom\n"
    "from convcli.cli import main\n"
    "sys.argv = ['convcli', *sys.argv[1:]]\n"
    "main()\n"
)


@pytest.mark.parametrize("debug", [False, True])
def test_an_internal_error_is_one_line_unless_debug(tmp_path, gray_png, debug):
    args = ["--debug"] if debug else []
    command = [sys.executable, "-c", _BUG_IN_THE_ENGINE, *args, "apply", "-k", "blur"]
    done = subprocess.run(
        [*command, str(gray_png), str(tmp_path / "o.png")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last == f"convcli: error: {gray_png}: unexpected error: RuntimeError: engine exploded"
    assert ("Traceback" in done.stderr) is debug
    assert ("in boom" in done.stderr) is debug  # the traceback reaches the real cause
    assert _listing(tmp_path) == ["gray.png"]


def test_an_error_outside_any_file_is_one_line_unless_debug(monkeypatch, capsys):
    from convcli import cli as cli_module
    from convcli.cli import common

    def broken(*args, **kwargs):
        raise RuntimeError("parser exploded")

    monkeypatch.setattr(cli_module.cli, "main", broken)
    for debug in (False, True):
        monkeypatch.setattr(common, "debug", debug)
        with pytest.raises(SystemExit) as exited:
            cli_module.main()
        assert exited.value.code == 1
        err = capsys.readouterr().err
        assert err.strip().splitlines()[-1] == (
            "convcli: error: internal error: RuntimeError: parser exploded "
            "(run with --debug for the traceback)"
        )
        assert ("Traceback" in err) is debug


_CTRL_C_WHILE_PARSING = (
    "import sys, convcli.cli.params as c\n"
    "def interrupted(*a, **k): raise KeyboardInterrupt\n"
    "c.parse_kernel = interrupted\n"
    "from convcli.cli import main\n"
    "sys.argv = ['convcli', *sys.argv[1:]]\n"
    "main()\n"
)


def test_ctrl_c_while_click_parses_is_130_not_clicks_abort(tmp_path, gray_png):
    """Click alone would print 'Aborted!' and exit 1 for a Ctrl-C it catches (here: while
    it converts --kernel, outside the command, so the command's own handler is not there)."""
    command = [sys.executable, "-c", _CTRL_C_WHILE_PARSING, "apply", "-k", "blur"]
    done = subprocess.run(
        [*command, str(gray_png), str(tmp_path / "o.png")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 130
    assert "Aborted!" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == "convcli: interrupted"
    assert _listing(tmp_path) == ["gray.png"]


@pytest.mark.parametrize(
    ("args", "code"), [(["--version"], 0), (["apply"], 2), (["kernels", "nope"], 2)]
)
def test_main_keeps_clicks_exit_codes(args, code):
    done = subprocess.run(
        [sys.executable, "-m", "convcli", *args], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.skipif(not POSIX, reason="POSIX file names may hold control characters")
def test_a_file_name_cannot_forge_or_colour_error_lines(tmp_path):
    from convcli.errors import one_line

    evil = tmp_path / "x.png\nconvcli: error: all good\x1b[32m.png"
    evil.write_text("not an image")
    chatty = tmp_path / "two\nframes.gif"
    frames = [Image.new("L", (4, 4), 60 * i).convert("P") for i in range(2)]
    frames[0].save(chatty, save_all=True, append_images=frames[1:])
    result = run("apply", "-k", "blur", "-p", "same", evil, chatty, tmp_path / "out")
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith("convcli: ")]
    assert f"convcli: error: {one_line(str(evil))}: {NOT_AN_IMAGE}" in lines
    assert (
        f"convcli: warning: {one_line(str(chatty))}: has several frames; only the first is used"
        in lines
    )
    assert "\x1b" not in result.stderr
    assert len(lines) == 2  # the error and the warning
    assert not [line for line in lines if "all good" in line and "x.png" not in line]
