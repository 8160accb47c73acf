"""``--io shared`` and ``--io client`` without a cluster: both sides of a transfer, in this process.

A transfer's worker side is a static function of plain values, so calling
it here, on real files, is what a worker does (minus the network).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from convcli.batch import Job, run_job
from convcli.batch.executors.transfer import (
    Delivery,
    Ready,
    SharedFiles,
    Shipment,
    ShippedFiles,
)
from convcli.kernels import parse_kernel
from convcli.options import Options

OPTIONS = Options.build(parse_kernel("sharpen"), padding="same")


def picture(path, seed=0):
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(seed).integers(0, 256, (12, 17), dtype=np.uint8)
    Image.fromarray(pixels, "L").save(path)
    return path


def test_shared_makes_paths_absolute_and_reports_the_clients_own(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    picture(tmp_path / "in" / "a.png")
    (tmp_path / "out").mkdir()
    job = Job(
        tmp_path.joinpath("in/a.png").relative_to(tmp_path),
        tmp_path.joinpath("out/a.png").relative_to(tmp_path),
        1,
    )
    shared = SharedFiles()
    sent = shared.outbound(OPTIONS, job)
    assert sent.source.is_absolute() and sent.target.is_absolute()
    reply = SharedFiles.on_worker(run_job, OPTIONS, sent, str(tmp_path), "tcp://w:1")
    result = shared.inbound(OPTIONS, job, reply, False)
    assert result.ok and (result.source, result.target) == (job.source, job.target)
    local = run_job(OPTIONS, Job(job.source, tmp_path / "local.png", 1))
    assert (tmp_path / "out" / "a.png").read_bytes() == (tmp_path / "local.png").read_bytes()
    assert local.output_size == result.output_size


def test_shared_an_input_the_worker_cannot_see_fails_alone_and_suggests_io_client(tmp_path):
    job = Job(tmp_path / "elsewhere" / "a.png", tmp_path / "a.png", 3)
    reply = SharedFiles.on_worker(run_job, OPTIONS, job, str(tmp_path), "tcp://10.0.0.9:4000")
    assert reply.status == "failed" and reply.index == 3
    assert reply.message.startswith(
        f"{job.source}: not found on the Dask worker tcp://10.0.0.9:4000"
    )
    assert "--io client" in reply.reason
    hidden = Job(picture(tmp_path / "a.png"), tmp_path / "no-folder" / "b.png", 1)
    reply = SharedFiles.on_worker(run_job, OPTIONS, hidden, str(tmp_path), "tcp://w:1")
    assert (
        reply.status == "failed"
        and "output folder" in reply.reason
        and "--io client" in reply.reason
    )


def test_client_ships_bytes_and_writes_the_workers_very_output(tmp_path):
    source = picture(tmp_path / "in" / "photo.png")
    (tmp_path / "out").mkdir()
    job = Job(source, tmp_path / "out" / "photo.png", 2)
    shipped = ShippedFiles()
    options = Options.build(parse_kernel("sharpen"), padding="same", compare=True)
    parcel = shipped.outbound(options, job)
    assert isinstance(parcel, Shipment) and parcel.data == source.read_bytes()
    scratch = tmp_path / "worker-scratch"
    scratch.mkdir()
    reply = ShippedFiles.on_worker(run_job, options, parcel, str(scratch), "tcp://w:1")
    assert isinstance(reply, Delivery) and list(scratch.iterdir()) == []  # cleaned up
    assert [name for name, _ in reply.outputs] == ["photo.png", "photo.compare.png"]
    assert not (tmp_path / "out" / "photo.png").exists()  # the client writes, not the worker
    result = shipped.inbound(options, job, reply, False)
    assert result.ok and (result.source, result.target, result.index) == (source, job.target, 2)
    run_job(options, Job(source, tmp_path / "local.png", 2))
    assert job.target.read_bytes() == (tmp_path / "local.png").read_bytes()
    assert (tmp_path / "out" / "photo.compare.png").read_bytes() == (
        tmp_path / "local.compare.png"
    ).read_bytes()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "photo.compare.png",
        "photo.png",
    ]


def test_client_a_bad_input_is_reported_with_the_clients_path(tmp_path):
    bad = tmp_path / "in" / "bad.png"
    bad.parent.mkdir()
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 30)
    job = Job(bad, tmp_path / "bad-out.png", 1)
    shipped = ShippedFiles()
    reply = ShippedFiles.on_worker(
        run_job, OPTIONS, shipped.outbound(OPTIONS, job), str(tmp_path), "w"
    )
    result = shipped.inbound(OPTIONS, job, reply, False)
    local = run_job(OPTIONS, job)
    assert result.status == local.status == "failed"
    assert result.message == local.message and str(bad) in result.message
    assert not job.target.exists()


def test_client_an_input_it_cannot_read_is_settled_without_sending(tmp_path):
    folder = tmp_path / "folder.png"
    folder.mkdir()
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    for source in (folder, empty, tmp_path / "gone.png"):
        job = Job(source, tmp_path / "out.png", 1)
        ready = ShippedFiles().outbound(OPTIONS, job)
        assert isinstance(ready, Ready) and ready.result.status == "failed"
        assert ready.result.message == run_job(OPTIONS, job).message


def test_client_never_clobbers_a_file_that_appeared_meanwhile(tmp_path):
    source = picture(tmp_path / "a.png")
    job = Job(source, tmp_path / "out.png", 1)
    shipped = ShippedFiles()
    reply = ShippedFiles.on_worker(
        run_job, OPTIONS, shipped.outbound(OPTIONS, job), str(tmp_path), "w"
    )
    job.target.write_bytes(b"someone else's")
    result = shipped.inbound(OPTIONS, job, reply, False)
    assert result.status == "failed" and "already exists" in result.reason
    assert job.target.read_bytes() == b"someone else's"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "out.png"]  # no temporary
    forced = Options.build(parse_kernel("sharpen"), padding="same", overwrite=True)
    assert shipped.inbound(forced, job, reply, False).ok
    assert job.target.read_bytes() == dict(reply.outputs)["out.png"]


def test_shared_a_retried_job_sweeps_what_the_killed_attempt_left(tmp_path):
    source = picture(tmp_path / "a.png")
    job = Job(source, tmp_path / "out.png", 1)
    stale = tmp_path / ".out.png.deadbeef.tmp"  # a killed writer's temporary file
    stale.write_bytes(b"half a PNG")
    shared = SharedFiles()
    reply = SharedFiles.on_worker(
        run_job, OPTIONS, shared.outbound(OPTIONS, job), str(tmp_path), "w"
    )
    assert shared.inbound(OPTIONS, job, reply, True).ok
    assert not stale.exists() and job.target.is_file()


def test_shared_a_rerun_accepts_its_own_output_and_refuses_anyone_elses(tmp_path):
    """A worker died after writing an output but before reporting it: the task runs again."""
    source = picture(tmp_path / "a.png")
    options = Options.build(parse_kernel("sharpen"), padding="same", compare=True)
    job = Job(source, tmp_path / "out.png", 1)
    first = run_job(options, job)  # the attempt that died after writing both files
    assert first.ok
    written = job.target.read_bytes()
    job.target.with_name("out.compare.png").unlink()  # ... or died between the two
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    again = SharedFiles.on_worker(run_job, options, job, str(scratch), "w")
    assert again.ok and (again.source, again.target) == (job.source, job.target)
    assert again.output_size == first.output_size and again.raw_range == first.raw_range
    assert job.target.read_bytes() == written
    assert job.target.with_name("out.compare.png").is_file()  # written now
    job.target.write_bytes(b"someone else's")
    refused = SharedFiles.on_worker(run_job, options, job, str(scratch), "w")
    assert refused.status == "failed" and "already exists (use --overwrite" in refused.reason
    assert job.target.read_bytes() == b"someone else's"
    assert list(scratch.iterdir()) == []
