"""convcli on a real (pseudo-)terminal: what only shows when stderr or stdout is a tty."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from .terminal import run_in_terminal

pytestmark = pytest.mark.slow


def photos(folder, count, size=(64, 48)):
    folder.mkdir()
    rng = np.random.default_rng(7)
    for i in range(count):
        pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"p{i:02d}.jpg")
    return folder


def test_json_on_stdout_keeps_every_file_while_stderr_shows_the_progress_bar(tmp_path):
    """Rich's progress bar captured stdout: a terminal got the entries, the file '[]'."""
    photos(tmp_path / "photos", 12)
    done = run_in_terminal("apply", "-k", "blur", "--json", "photos/", "out/", cwd=tmp_path)
    assert done.returncode == 0, done.screen
    report = json.loads(done.stdout)
    assert sorted(f["input"] for f in report["files"]) == [
        f"photos/p{i:02d}.jpg" for i in range(12)
    ]
    assert report["summary"]["ok"] == 12
    assert '"files"' not in done.screen  # nothing of the document reached the terminal
    assert "12 written" in done.screen


def test_the_summary_and_one_file_line_are_drawn_on_the_terminal(tmp_path):
    photos(tmp_path / "photos", 1)
    done = run_in_terminal("apply", "-k", "sharpen", "photos/p00.jpg", "o.png", cwd=tmp_path)
    assert done.returncode == 0, done.screen
    assert "✓" in done.screen and "o.png" in done.screen
    assert done.stdout == b""
    with Image.open(tmp_path / "o.png") as written:
        assert written.size == (62, 46)


def test_kernels_on_a_terminal_draws_the_table_in_colour(tmp_path):
    done = run_in_terminal("kernels", "sharpen", stdout_on_terminal=True, cwd=tmp_path)
    assert done.returncode == 0, done.screen
    assert "\x1b[" in done.screen  # coloured cells: it knew it was a terminal
    assert "normalised" in done.screen
