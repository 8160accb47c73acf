"""convcli against a real Dask cluster: ``dask scheduler`` and ``dask worker`` processes.

Everything runs as a user would run it: the cluster's processes and convcli
itself are subprocesses, on 127.0.0.1. The faults are real too: a worker
SIGKILLed mid-run, the scheduler SIGKILLed mid-run, an address nobody
listens on and one that never answers, Ctrl-C and SIGTERM. Each test bounds
every wait and stops what it started (see tests/dask_cluster.py).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

pytest.importorskip("distributed", reason="the Dask extra: pip install 'convcli[dask]'")

from convcli.cli import cli
from tests.dask_cluster import (
    DaskProcesses,
    silent_listener,
    unreachable_address,
    wait_until,
)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and processes")

# Every image is resized to 1200x1200 and goes through four 5x5 kernels: a
# few tenths of a second of real work each, so "mid-run" is a wide window.
K5 = "1,2,3,4,5;2,3,4,5,1;3,4,5,1,2;4,5,1,2,3;5,1,2,3,7"
SLOW = [
    "-k",
    K5,
    "-k",
    K5,
    "-k",
    K5,
    "-k",
    K5,
    "-p",
    "same",
    "--size",
    "1200",
    "--range",
    "rescale",
]
FAST = ["-k", "sharpen", "-p", "same"]


def convcli(*args: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "convcli", "apply", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
    )


def finish(proc: subprocess.Popen[str], timeout: float = 60) -> tuple[str, str]:
    try:
        return proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        raise AssertionError(f"convcli still running after {timeout} s:\n{err}") from None


def batch(folder: Path, count: int, *, bad: bool = False) -> Path:
    """``count`` small PNGs (copies of a few), and with ``bad`` a corrupt one and a text file."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(5)
    seeds = [rng.integers(0, 256, (20, 30), dtype=np.uint8) for _ in range(3)]
    for i in range(count):
        Image.fromarray(seeds[i % 3], "L").save(folder / f"img{i:03d}.png")
    if bad:
        (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
        (folder / "notes.txt").write_text("not an image")
    return folder


def reference(inputs: Path, out: Path, *args: str) -> dict[str, bytes]:
    """The outputs of the same batch with ``-j 1``, in this process."""
    done = CliRunner().invoke(cli, ["apply", *args, "-j", "1", "-q", str(inputs), str(out)])
    assert done.exit_code in (0, 1), done.output
    return outputs(out)


def reference_by_seed(inputs: Path, out: Path, *args: str) -> dict[str, bytes]:
    """:func:`reference` for a :func:`batch` without bad files, from one image per seed
    (the others are copies): slow kernels need not run twice over the whole batch."""
    names = sorted(p.name for p in inputs.iterdir())
    firsts = inputs.parent / f"{inputs.name}-seeds"
    firsts.mkdir()
    for name in names[:3]:
        (firsts / name).write_bytes((inputs / name).read_bytes())
    done = reference(firsts, out, *args)
    return {name: done[names[i % 3]] for i, name in enumerate(names)}


def outputs(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.is_dir() else {}


def temporaries(folder: Path) -> list[str]:
    return (
        sorted(p.name for p in folder.iterdir() if p.name.startswith("."))
        if folder.is_dir()
        else []
    )


def settle(folder: Path, quiet: float = 1.5) -> None:
    """Wait until no temporary file is left and no output has appeared for ``quiet`` s
    (workers cut off from their client finish the tasks they hold, on their own)."""
    seen: list[object] = [None, time.monotonic()]

    def still() -> bool:
        now = (sorted(os.listdir(folder)) if folder.is_dir() else [], temporaries(folder))
        if now != seen[0]:
            seen[:] = [now, time.monotonic()]
        return not now[1] and time.monotonic() - float(seen[1]) > quiet  # type: ignore[arg-type]

    wait_until(still, 30, f"the workers to finish in {folder}", interval=0.1)


def wait_for_outputs(proc: subprocess.Popen[str], folder: Path, count: int = 1) -> None:
    def some() -> bool:
        assert proc.poll() is None, proc.communicate()
        return (
            len([n for n in os.listdir(folder) if not n.startswith(".")]) >= count
            if folder.is_dir()
            else False
        )

    wait_until(some, 60, f"{count} output(s) in {folder}")


@pytest.fixture(autouse=True, scope="module")
def _scratch_space(tmp_path_factory):
    """Local clusters started here keep their dask-scratch-space in the tests' folder."""
    import dask

    folder = tmp_path_factory.mktemp("dask-scratch")
    with dask.config.set({"temporary-directory": str(folder)}):
        yield


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with DaskProcesses(tmp_path_factory.mktemp("dask-cluster"), workers=2) as processes:
        yield processes


@pytest.mark.parametrize("io", ["shared", "client"])
def test_a_mixed_batch_on_real_processes_matches_j1_byte_for_byte(cluster, tmp_path, io):
    inputs = batch(tmp_path / "in", 7, bad=True)
    expected = reference(inputs, tmp_path / "j1", *FAST)
    proc = convcli(
        *FAST, "--scheduler", cluster.address, "--io", io, "--json", inputs, tmp_path / "out"
    )
    stdout, stderr = finish(proc)
    assert proc.returncode == 1, stderr  # the corrupt file fails, alone
    assert outputs(tmp_path / "out") == expected and len(expected) == 7
    doc = json.loads(stdout)
    assert doc["options"]["scheduler"] == cluster.address and doc["options"]["io"] == io
    assert (doc["summary"]["ok"], doc["summary"]["failed"], doc["summary"]["skipped"]) == (7, 1, 1)
    assert f"{inputs / 'broken.png'}: " in stderr and "Traceback" not in stderr


def test_the_scheduler_file_and_the_environment_variable_name_the_cluster(cluster, tmp_path):
    inputs = batch(tmp_path / "in", 3)
    expected = reference(inputs, tmp_path / "j1", *FAST)
    proc = convcli(
        *FAST, "--scheduler-file", cluster.folder / "scheduler.json", inputs, tmp_path / "a"
    )
    finish(proc)
    assert proc.returncode == 0 and outputs(tmp_path / "a") == expected
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "convcli",
            "apply",
            *FAST,
            "--json",
            str(inputs),
            str(tmp_path / "b"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "DASK_SCHEDULER_ADDRESS": cluster.address},
    )
    stdout, stderr = finish(proc)
    assert proc.returncode == 0, stderr
    assert outputs(tmp_path / "b") == expected
    assert json.loads(stdout)["options"]["scheduler"] == cluster.address


def test_a_worker_killed_mid_run_its_files_run_again_elsewhere(tmp_path):
    inputs = batch(tmp_path / "in", 8)
    expected = reference_by_seed(inputs, tmp_path / "j1", *SLOW)
    with DaskProcesses(tmp_path / "dask", workers=2) as processes:
        proc = convcli(*SLOW, "--scheduler", processes.address, "--json", inputs, tmp_path / "out")
        wait_for_outputs(proc, tmp_path / "out")
        victim = processes.busy_worker()
        time.sleep(0.1)  # well into its task
        processes.kill_worker(victim)
        stdout, stderr = finish(proc)
        assert proc.returncode == 0, stderr
        assert outputs(tmp_path / "out") == expected and len(expected) == 8
        assert temporaries(tmp_path / "out") == []
        summary = json.loads(stdout)["summary"]
        assert summary["ok"] == 8 and summary["retried"] >= 1
        assert f"retried: {summary['retried']} file" in stderr
        assert processes.alive()


def test_the_scheduler_killed_mid_run_stops_the_run_and_skip_existing_resumes(tmp_path):
    inputs = batch(tmp_path / "in", 10)
    expected = reference_by_seed(inputs, tmp_path / "j1", *SLOW)
    out = tmp_path / "out"
    with DaskProcesses(tmp_path / "dask", workers=2) as processes:
        address = processes.address
        proc = convcli(*SLOW, "--scheduler", address, "--json", inputs, out)
        wait_for_outputs(proc, out)
        started = time.monotonic()
        processes.kill_scheduler()
        stdout, stderr = finish(proc)
        assert time.monotonic() - started < 60
        # The workers finish what they hold (running or queued), on their own.
        settle(out)
    assert proc.returncode == 1, stderr
    assert f"convcli: error: {address}: lost the connection to the Dask scheduler" in stderr
    assert "stopped:" in stderr and "not run" in stderr and "Traceback" not in stderr
    summary = json.loads(stdout)["summary"]
    assert summary["not_run"] > 0 and summary["error"]
    done = outputs(out)
    assert 1 <= len(done) < 10
    assert summary["ok"] <= len(done)  # written and counted, or finished by a worker since
    assert all(done[name] == expected[name] for name in done)  # whole files only
    resumed = CliRunner().invoke(
        cli, ["apply", *SLOW, "--skip-existing", "--scheduler", "local:2", str(inputs), str(out)]
    )
    assert resumed.exit_code == 0, resumed.output
    assert outputs(out) == expected


@pytest.mark.parametrize("how", ["refused", "silent"])
def test_a_scheduler_that_cannot_be_reached_fails_within_the_timeout(tmp_path, how):
    inputs = batch(tmp_path / "in", 2)
    with silent_listener() as silent:
        address = unreachable_address() if how == "refused" else silent
        started = time.monotonic()
        proc = convcli(*FAST, "--scheduler", address, "--timeout", "1", inputs, tmp_path / "out")
        _, stderr = finish(proc, timeout=30)
        elapsed = time.monotonic() - started
    assert proc.returncode == 1, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"convcli: error: {address}: cannot reach"), (
        stderr
    )
    why = "connection refused" if how == "refused" else "does not answer as a Dask scheduler"
    assert why in lines[0] and "gave up after 1 s" in lines[0]
    assert elapsed < 1 + 8  # the timeout, plus starting Python and importing Dask
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("signum", "status", "words"),
    [(signal.SIGINT, 130, "interrupted:"), (signal.SIGTERM, 143, "terminated (SIGTERM):")],
)
def test_ctrl_c_and_sigterm_cancel_the_run_and_leave_the_cluster_up(
    cluster, tmp_path, signum, status, words
):
    inputs = batch(tmp_path / "in", 40)
    out = tmp_path / "out"
    proc = convcli(*SLOW, "--scheduler", cluster.address, "--json", inputs, out)
    wait_for_outputs(proc, out)
    os.killpg(proc.pid, signum)
    stdout, stderr = finish(proc, timeout=30)
    assert proc.returncode == status, stderr
    assert words in stderr and "Traceback" not in stderr
    summary = json.loads(stdout)["summary"]
    assert summary["interrupted"] is True and summary["not_run"] > 0
    # Cancelled, not queued: the cluster goes idle, and still has both workers.
    wait_until(lambda: not any(cluster.client.processing().values()), 30, "an idle cluster")
    settle(out)
    assert cluster.alive() and len(cluster.client.scheduler_info()["workers"]) == 2
    done = outputs(out)
    assert 1 <= len(done) < 40
    for name in done:
        with Image.open(out / name) as image:
            image.load()
            assert image.size == (1200, 1200)


def test_the_cluster_works_after_the_faults(cluster, tmp_path):
    inputs = batch(tmp_path / "in", 4)
    expected = reference(inputs, tmp_path / "j1", *FAST)
    proc = convcli(
        *FAST, "--scheduler", cluster.address, "--io", "client", inputs, tmp_path / "out"
    )
    finish(proc)
    assert proc.returncode == 0 and outputs(tmp_path / "out") == expected
    assert "dask-scratch-space" in os.listdir(cluster.folder)  # TMPDIR was honoured
