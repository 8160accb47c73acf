"""SIGTERM and SIGHUP end a run as Ctrl-C does: no orphans, no temporaries, 128 + signal."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from .terminal import console_script, run_in_terminal

pytestmark = pytest.mark.slow


# Enough work per image (upscaled, a wide kernel) that a run is still going
# when the signal comes, however fast the engine gets.
SLOW = ["apply", "-k", "gaussian:sigma=6", "-p", "same", "-b", "reflect", "-s", "1600x1200"]


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("signals") / "photos"
    folder.mkdir()
    rng = np.random.default_rng(9)
    for i in range(40):
        pixels = rng.integers(0, 256, (300, 400, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"p{i:02d}.jpg")
    return folder


def session_members(session: int) -> list[str]:
    """Command lines of the processes still in ``session`` (zombies excluded)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            fields = stat.rsplit(")", 1)[1].split()
            if fields[0] != "Z" and int(fields[3]) == session:
                members.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except (OSError, ValueError, IndexError):
            continue
    return members


def wait_until_gone(session: int, timeout: float = 10) -> list[str]:
    deadline = time.monotonic() + timeout
    while (left := session_members(session)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


def start(args, cwd):
    return subprocess.Popen(
        [console_script(), *map(str, args)],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "COLUMNS": "100", "NO_COLOR": "1"},
        start_new_session=True,  # its own session: whatever it leaves behind is found
    )


def wait_for_outputs(folder: Path, count: int, process, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if folder.is_dir() and len(list(folder.glob("*.png"))) >= count:
            return
        time.sleep(0.01)
    raise AssertionError(f"no {count} outputs in {folder} (exit {process.poll()})")


def check_left_behind(out: Path) -> None:
    names = sorted(p.name for p in out.iterdir())
    assert names and all(n.endswith(".png") and not n.startswith(".") for n in names), names
    for path in out.iterdir():
        with Image.open(path) as image:
            image.load()  # each finished output is whole


@pytest.mark.parametrize(
    ("signum", "jobs", "whole_group"),
    [
        (signal.SIGTERM, 2, False),  # kill -TERM $pid
        (signal.SIGTERM, 2, True),  # timeout: the whole process group
        (signal.SIGHUP, 2, True),  # the terminal hung up: every process of the group
        (signal.SIGTERM, 1, False),  # in-process run
    ],
)
def test_a_signal_ends_the_run_cleanly(tmp_path, photos, signum, jobs, whole_group):
    out = tmp_path / "out"
    args = [*SLOW, "-j", jobs, photos, out]
    process = start(args, tmp_path)
    wait_for_outputs(out, 1, process)
    if whole_group:
        os.killpg(process.pid, signum)
    else:
        os.kill(process.pid, signum)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signum, stderr.decode()
    text = stderr.decode()
    assert "Traceback" not in text and "resource_tracker" not in text, text
    assert "leaked" not in text and "Exception ignored" not in text, text
    name = signal.Signals(signum).name
    assert f"({name}): " in text and "not run" in text, text  # the usual summary
    assert stdout == b""
    assert wait_until_gone(process.pid) == []  # no worker, forkserver or tracker left
    check_left_behind(out)


def test_a_terminal_that_closes_hangs_up_the_run(tmp_path, photos):
    """The pty's master closes: SIGHUP to the foreground group, as when a window closes."""
    out = tmp_path / "out"
    done = run_in_terminal(
        *SLOW, "-j", "2", photos, out,
        cwd=tmp_path, hang_up=lambda: out.is_dir() and any(out.glob("*.png")),
    )  # fmt: skip
    assert done.returncode == 129, done.screen
    assert wait_until_gone(done.pid) == []
    check_left_behind(out)
