"""``apply --scheduler``: a batch on a Dask ``LocalCluster`` of 2 processes on 127.0.0.1.

The cluster's workers are real processes; convcli runs in this process
(CliRunner) against the cluster's address, and every run is compared with
the same batch run with ``-j 1``: the same bytes, the same report, the same
exit status. The cluster itself is started once for the module.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

distributed = pytest.importorskip(
    "distributed", reason="the Dask extra: pip install 'convcli[dask]'"
)

from convcli.batch import plan, run  # noqa: E402
from convcli.batch.executors.cluster import open_cluster  # noqa: E402
from convcli.cli import cli  # noqa: E402
from convcli.kernels import parse_kernel  # noqa: E402
from convcli.options import Options  # noqa: E402
from tests.helpers import modules_loaded  # noqa: E402

FAST = ["-k", "sharpen", "-p", "same"]
K5 = "1,2,3,4,5;2,3,4,5,1;3,4,5,1,2;4,5,1,2,3;5,1,2,3,7"


@pytest.fixture(autouse=True, scope="module")
def _scratch_space(tmp_path_factory):
    """Local clusters started here keep their dask-scratch-space in the tests' folder."""
    import dask

    folder = tmp_path_factory.mktemp("dask-scratch")
    with dask.config.set({"temporary-directory": str(folder)}):
        yield


@pytest.fixture(scope="module")
def address():
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
        silence_logs=logging.CRITICAL,
    )
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close(timeout=20)


def apply(*args: object):
    return CliRunner().invoke(cli, ["apply", *map(str, args)])


def mixed(folder: Path) -> Path:
    """Gray, colour and 16-bit images, a corrupt PNG, a text file, one too small for 5x5 'valid'."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(11)
    for i in range(5):
        Image.fromarray(rng.integers(0, 256, (18 + i, 25), dtype=np.uint8), "L").save(
            folder / f"gray{i}.png"
        )
    Image.fromarray(rng.integers(0, 256, (20, 30, 3), dtype=np.uint8), "RGB").save(
        folder / "rgb.jpg"
    )
    Image.fromarray(rng.integers(0, 65535, (16, 16), dtype=np.uint16)).save(folder / "deep.png")
    Image.fromarray(np.zeros((3, 3), np.uint8)).save(folder / "tiny.png")
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    (folder / "readme.txt").write_text("not an image")
    return folder


def outputs(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.is_dir() else {}


def entries(stdout: str, root: Path) -> tuple[list[dict], dict]:
    """--json's files (by index, without timings or the run's own folders) and summary."""
    doc = json.loads(stdout)
    files = []
    for entry in doc["files"]:
        entry = {k: v for k, v in entry.items() if k not in ("seconds", "output")}
        files.append(entry)
    summary = {k: v for k, v in doc["summary"].items() if k not in ("seconds", "images_per_second")}
    return sorted(files, key=lambda e: (e["index"] or 0, e["input"])), summary


@pytest.mark.parametrize("io", ["shared", "client"])
@pytest.mark.parametrize("extra", [[], ["--compare", "--range", "abs", "--offset", "128"]])
def test_a_mixed_batch_matches_j1_bytes_report_and_status(address, tmp_path, io, extra):
    inputs = mixed(tmp_path / "in")
    args = ["-k", K5, "-p", "valid", *extra, "--json", inputs]
    local = apply(*args, tmp_path / "j1", "-j", "1")
    cluster = apply(*args, tmp_path / "dask", "--scheduler", address, "--io", io)
    assert local.exit_code == cluster.exit_code == 1, cluster.output
    assert outputs(tmp_path / "dask") == outputs(tmp_path / "j1")
    assert len(outputs(tmp_path / "j1")) == (14 if extra else 7)
    assert entries(cluster.stdout, tmp_path) == entries(local.stdout, tmp_path)
    errors = sorted(
        line for line in cluster.stderr.splitlines() if line.startswith("convcli: error")
    )
    assert errors == sorted(
        line for line in local.stderr.splitlines() if line.startswith("convcli: error")
    )
    assert any(str(inputs / "broken.png") in line for line in errors)
    assert not any(
        "convcli-" in line or "dask-scratch" in line for line in errors
    )  # no worker paths


@pytest.mark.parametrize("io", ["shared", "client"])
def test_skip_existing_and_overwrite_decide_on_the_client(address, tmp_path, io):
    inputs = mixed(tmp_path / "in")
    out = tmp_path / "out"
    out.mkdir()
    (out / "gray0.png").write_bytes(b"kept as it is")
    done = apply(
        *FAST, "--skip-existing", "--json", inputs, out, "--scheduler", address, "--io", io
    )
    assert done.exit_code == 1, done.output  # broken.png
    assert (out / "gray0.png").read_bytes() == b"kept as it is"
    summary = json.loads(done.stdout)["summary"]
    assert (summary["ok"], summary["skipped"], summary["failed"]) == (7, 2, 1)
    again = apply(*FAST, "--overwrite", inputs, out, "--scheduler", address, "--io", io)
    assert again.exit_code == 1
    assert (out / "gray0.png").read_bytes() != b"kept as it is"
    refused = apply(
        *FAST, inputs / "gray1.png", out / "gray1.png", "--scheduler", address, "--io", io
    )
    assert refused.exit_code == 1 and "already exists (use --overwrite" in refused.stderr


def test_fail_fast_stops_handing_out_jobs(address, tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "a-broken.png").write_bytes(b"not a png")
    for i in range(30):
        Image.fromarray(np.full((12, 12), i, np.uint8)).save(inputs / f"b{i:02d}.png")
    done = apply(*FAST, "--fail-fast", "--json", inputs, tmp_path / "out", "--scheduler", address)
    assert done.exit_code == 1
    summary = json.loads(done.stdout)["summary"]
    assert summary["failed"] == 1 and summary["not_run"] > 0
    assert summary["ok"] + summary["failed"] + summary["not_run"] == 31


def test_local_n_starts_and_stops_a_throwaway_cluster(tmp_path):
    inputs = mixed(tmp_path / "in")
    local = apply(*FAST, inputs, tmp_path / "j1", "-j", "1")
    done = apply(*FAST, "--json", inputs, tmp_path / "out", "--scheduler", "local:2")
    assert done.exit_code == local.exit_code == 1
    assert outputs(tmp_path / "out") == outputs(tmp_path / "j1")
    assert json.loads(done.stdout)["options"]["scheduler"] == "local:2"


def test_options_go_once_and_the_window_stays_bounded(address, tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    for i in range(60):
        Image.fromarray(np.full((10, 10), i, np.uint8)).save(inputs / f"{i:02d}.png")
    options = Options.build(parse_kernel("sharpen"), padding="same")
    work = plan([inputs], tmp_path / "out", options)
    with open_cluster(address, timeout=10) as executor:
        client = executor.client
        scattered, submitted, futures, in_flight = [], [], [], []
        scatter, submit = client.scatter, client.submit

        def spy_scatter(data, **kwargs):
            scattered.append(data)
            return scatter(data, **kwargs)

        def spy_submit(fn, *args, **kwargs):
            submitted.append(args)
            future = submit(fn, *args, **kwargs)
            futures.append(future)
            in_flight.append(sum(not f.done() for f in futures))
            return future

        client.scatter, client.submit = spy_scatter, spy_submit
        results = [result for result in run(work, options, executor=executor)]
    assert len(results) == 60 and all(result.ok for result in results)
    assert sum(len(args[-1]) for args in submitted) == 60  # every job in one task
    assert len(submitted) < 60  # tiny jobs share tasks once their speed is known
    assert len(scattered) == 1 and scattered[0][0].kernels == options.kernels
    assert scattered[0][0].threads == 1  # one engine thread per task: no oversubscription
    for args in submitted:  # the options travel as a reference to the scattered copy
        assert not any(isinstance(a, Options) for a in args)
        assert any(isinstance(a, distributed.Future) for a in args)
    assert max(in_flight) <= 2 * 2  # two tasks per worker thread


def test_the_options_are_sent_again_when_every_copy_dies(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    for i in range(8):
        Image.fromarray(np.full((20, 20), i * 7, np.uint8)).save(inputs / f"{i}.png")
    k5 = parse_kernel(K5)
    options = Options.build(
        k5, then=(k5,) * 3, padding="same", size=(1500, 1500), output_range="rescale"
    )
    work = plan([inputs], tmp_path / "out", options)
    expected_names = sorted(f"{i}.png" for i in range(8))
    with open_cluster(local=2, timeout=20) as executor:
        pids = list(executor.client.run(os.getpid).values())
        scatters = []
        scatter = executor.client.scatter
        executor.client.scatter = lambda data, **kw: scatters.append(data) or scatter(data, **kw)
        results = []
        for result in run(work, options, executor=executor):
            results.append(result)
            if len(results) == 1:  # every worker holds a copy of the options: kill them all
                for pid in pids:
                    os.kill(pid, signal.SIGKILL)
        assert executor.retried >= 1
    assert len(scatters) == 2  # once at the start, once more after the workers died
    assert sorted(r.target.name for r in results if r.ok) == expected_names
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == expected_names  # no temporaries


def test_usage_errors_exit_2_before_any_work(tmp_path, monkeypatch):
    inputs = mixed(tmp_path / "in")
    out = tmp_path / "out"
    cases = [
        (["--scheduler", "nowhere"], "is not a scheduler address"),
        (["--scheduler", "local:0"], "at least one worker"),
        (["--scheduler", "local:2", "-j", "2"], "give one or the other"),
        (["--io", "client"], "--io is for runs on a Dask cluster"),
        (["--timeout", "3"], "--timeout is for runs on a Dask cluster"),
        (["--timeout", "0", "--scheduler", "local:1"], "x>0"),
    ]
    for extra, words in cases:
        done = apply(*FAST, inputs, out, *extra)
        assert done.exit_code == 2 and words in done.output, (extra, done.output)
    bad = tmp_path / "scheduler.json"
    bad.write_text("{}")
    done = apply(*FAST, inputs, out, "--scheduler-file", bad)
    assert done.exit_code == 2 and "not a Dask scheduler file" in done.output
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "nowhere")
    done = apply(*FAST, inputs, out)
    assert done.exit_code == 2 and "DASK_SCHEDULER_ADDRESS" in done.output
    assert not out.exists()
    done = apply(*FAST, inputs, out, "-j", "1")  # -j: this machine, whatever the variable says
    assert done.exit_code == 1 and len(outputs(out)) == 8  # broken.png fails


def test_without_the_extra_a_usage_error_says_what_to_install(tmp_path):
    inputs = mixed(tmp_path / "in")
    probe = (
        "import sys; sys.modules['distributed'] = None; sys.modules['dask'] = None\n"
        "from convcli.cli import main; sys.argv = ['convcli', *sys.argv[1:]]; main()"
    )
    args = ["apply", *FAST, str(inputs), str(tmp_path / "out")]
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    done = subprocess.run(
        [sys.executable, "-c", probe, *args, "--scheduler", "local:2"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode == 2, done.stderr
    assert "pip install 'convcli[dask]'" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()
    local = subprocess.run(
        [sys.executable, "-c", probe, *args], capture_output=True, text=True, timeout=60, env=env
    )
    assert local.returncode == 1 and len(outputs(tmp_path / "out")) == 8  # broken.png fails


def test_a_local_run_never_imports_dask(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    Image.fromarray(np.zeros((9, 9), np.uint8)).save(inputs / "a.png")
    loaded = modules_loaded(
        ["dask", "distributed"], run=["apply", *FAST, "-q", inputs, tmp_path / "out"]
    )
    assert loaded == []


def test_io_client_ships_a_large_input_without_a_word_from_dask(address, tmp_path):
    """Every task carries its input's bytes under --io client: distributed's
    warning about large graphs (over 10 MB) must not reach the user (in this
    process, pytest would turn it into an error)."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    noise = np.random.default_rng(2).integers(0, 256, (2048, 2048, 3), dtype=np.uint8)
    Image.fromarray(noise, "RGB").save(inputs / "big.png", compress_level=0)
    assert (inputs / "big.png").stat().st_size > 12_000_000
    local = apply(*FAST, inputs, tmp_path / "j1", "-j", "1")
    done = apply(*FAST, inputs, tmp_path / "out", "--scheduler", address, "--io", "client")
    assert done.exit_code == local.exit_code == 0, done.output
    assert outputs(tmp_path / "out") == outputs(tmp_path / "j1")
    assert "graph" not in done.stderr and "Warning" not in done.stderr
