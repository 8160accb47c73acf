"""Batches of real files: plan (inputs -> jobs), run (executors), and the CLI's reporting."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from convcli import KERNELS, convolve, load_image
from convcli.batch import (
    ExecutorFailed,
    Job,
    PlanError,
    ProcessExecutor,
    Result,
    SerialExecutor,
    default_workers,
    image_extensions,
    plan,
    run,
    usable_cpus,
)
from convcli.batch.plan import PLUGINS
from convcli.cli import cli
from convcli.limits import IMAGE_FORMATS
from convcli.pipeline import Options

SHARPEN = Options.build(KERNELS["sharpen"], padding="same")
NOT_IMAGE = "not a supported image (PNG, JPEG, GIF, BMP, TIFF, WebP or PPM)"  # imageio's words


def apply(*args: object):
    return CliRunner().invoke(cli, ["apply", *map(str, args)])


def image(path: Path, size: tuple[int, int] = (24, 16), seed: int = 0) -> Path:
    """A small RGB image of any format Pillow writes, chosen by the suffix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    fmt = {".jpg": "JPEG", ".jpeg": "JPEG"}.get(path.suffix.lower())
    Image.fromarray(pixels, "RGB").save(path, format=fmt)
    return path


def tree(root: Path, names: list[str]) -> None:
    for i, name in enumerate(names):
        path = root / name
        if path.suffix.lower() in (".txt", ".md"):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("not an image")
        else:
            image(path, seed=i)


def files(root: Path) -> list[str]:
    """Every file under root, relative, sorted (hidden and temporary ones too)."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def read_mode(path: Path) -> str:
    with Image.open(path) as opened:
        return opened.mode


def targets(p) -> list[str]:
    return [str(job.target) for job in p.jobs]


# --- plan: what gets filtered, and where it goes -----------------------------------


def test_folder_input_means_the_images_in_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    tree(tmp_path / "in", ["b.png", "A.JPG", "c.Tiff", "notes.txt", ".hidden.png", "sub/d.png"])
    p = plan(["in"], "out")
    assert targets(p) == ["out/A.png", "out/b.png", "out/c.png"]
    assert [job.index for job in p.jobs] == [1, 2, 3]
    assert [(str(r.source), r.status, r.reason) for r in p.settled] == [
        ("in/notes.txt", "skipped", "not an image file")
    ]
    assert p.folder == Path("out")


def test_recursive_mirrors_sub_folders_and_ignores_the_destination(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    tree(tmp_path / "in", ["a.png", "x/b.png", "x/y/c.jpg", "in-out/old.png"])
    p = plan(["in"], "in/in-out", recursive=True)
    assert targets(p) == ["in/in-out/a.png", "in/in-out/x/b.png", "in/in-out/x/y/c.png"]


def test_a_folder_without_images_fails_alone(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    tree(tmp_path, ["empty/readme.md", "deep/sub/a.png", "good/a.png"])
    p = plan(["empty", "deep", "good"], "out")
    assert targets(p) == ["out/a.png"]
    failed = {str(r.source): r.reason for r in p.settled if r.status == "failed"}
    assert failed == {
        "empty": "no images in this folder",
        "deep": "no images in this folder (use -r to look in its sub-folders)",
    }


def test_a_folder_that_cannot_be_listed_fails_alone(tmp_path, monkeypatch):
    tree(tmp_path / "in", ["a.png", "locked/b.png"])
    real_walk = os.walk

    def walk(top, onerror=None, **kwargs):  # as os.walk does for an unreadable folder
        for root, dirs, files in real_walk(top, onerror=onerror, **kwargs):
            if root.endswith("locked"):
                error = PermissionError(13, "Permission denied", root)
                onerror(error)
                continue
            yield root, dirs, files

    monkeypatch.setattr(os, "walk", walk)
    p = plan([tmp_path / "in"], tmp_path / "out", recursive=True)
    assert targets(p) == [str(tmp_path / "out" / "a.png")]
    assert [(r.status, r.message) for r in p.settled] == [
        ("failed", f"{tmp_path / 'in' / 'locked'}: cannot read this folder: Permission denied")
    ]


def test_image_extensions_are_what_pillow_opens():
    extensions = image_extensions()
    assert {".png", ".jpg", ".jpeg", ".tif", ".bmp", ".gif", ".webp"} <= extensions
    assert ".txt" not in extensions
    Image.init()  # every plugin: the same answer
    assert extensions == {
        ext.lower()
        for ext, fmt in Image.registered_extensions().items()
        if fmt in Image.OPEN and fmt in IMAGE_FORMATS
    }


def test_image_extensions_import_only_the_plugins_convcli_reads():
    # Image.init() would import ~40 more plugins: 15-30 ms of every batch's start
    code = (
        "import sys; from convcli.batch import image_extensions; image_extensions(); "
        "print(*(m for m in sys.modules if m.startswith('PIL.') and m.endswith('Plugin')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = {name.removeprefix("PIL.").removesuffix("ImagePlugin") for name in done.stdout.split()}
    assert "Png" in loaded
    assert loaded <= set(PLUGINS.values())


def test_patterns_are_expanded_when_no_file_has_that_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    tree(tmp_path / "p", ["a.jpg", "b.png", "n.txt", "deep/er/c.jpg", "deep/d.JPG"])
    image(tmp_path / "p" / "[odd].png")
    p = plan(["p/**/*.jpg"], "out")
    assert [str(j.source) for j in p.jobs] == ["p/a.jpg", "p/deep/er/c.jpg"]
    assert targets(p) == ["out/a.png", "out/c.png"]  # flat
    p = plan(["p/*"], "out")
    assert [str(j.source) for j in p.jobs] == ["p/[odd].png", "p/a.jpg", "p/b.png"]
    assert [(str(r.source), r.status) for r in p.settled] == [("p/n.txt", "skipped")]
    # a file whose literal name looks like a pattern is that file
    assert [str(j.source) for j in plan(["p/[odd].png"], "o.png").jobs] == ["p/[odd].png"]


def test_a_pattern_matching_nothing_or_a_missing_file_fails_alone(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    image(tmp_path / "a.png")
    p = plan(["nope/*.png", "missing.png", "a.png"], "out")
    assert targets(p) == ["out/a.png"]
    assert [(str(r.source), r.reason) for r in p.settled] == [
        ("nope/*.png", "no such file, and no file matches it"),
        ("missing.png", "no such file"),
    ]


def test_the_same_file_twice_is_filtered_once(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    image(tmp_path / "a.png")
    assert targets(plan(["a.png", "*.png", "./a.png"], "out")) == ["out/a.png"]


def test_name_template_fields(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    tree(tmp_path, ["in/a.jpg", "in/b.png"])
    template = "{index:03d}-{stem}.{ext}-{kernel}-{padding}.png"
    p = plan(["in"], "out", SHARPEN, name=template)
    assert targets(p) == ["out/001-a.jpg-sharpen-same.png", "out/002-b.png-sharpen-same.png"]
    # --name makes the destination a folder even for one file
    assert targets(plan(["in/a.jpg"], "out", SHARPEN, name="{stem}.png")) == ["out/a.png"]


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{stem}-{size}.png", "unknown field {size}"),
        ("{stem.upper}.png", "unknown field {stem.upper}"),
        ("sub/{stem}.png", "must make a file name, not a path"),
        ("{stem", "expected '}'"),
        ("{index:q}.png", "Unknown format code"),
    ],
)
def test_bad_templates_are_usage_errors(tmp_path, template, message):
    image(tmp_path / "a.png")
    with pytest.raises(PlanError, match=message):
        plan([tmp_path / "a.png"], tmp_path / "out", name=template)
    result = apply("-k", "blur", "--name", template, tmp_path / "a.png", tmp_path / "out")
    assert result.exit_code == 2
    assert message in result.stderr
    assert not (tmp_path / "out").exists()


def test_collisions_are_found_up_front_naming_both_with_the_fix(tmp_path):
    a_jpg, a_png = image(tmp_path / "a.jpg"), image(tmp_path / "a.png")
    result = apply("-k", "blur", a_jpg, a_png, tmp_path / "out")
    assert result.exit_code == 2
    assert f"{a_jpg} and {a_png} would both be written" in result.stderr
    assert "--name '{stem}.{ext}.png'" in result.stderr
    assert not (tmp_path / "out").exists()
    result = apply("-k", "blur", "--name", "{stem}.{ext}.png", a_jpg, a_png, tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert files(tmp_path / "out") == ["a.jpg.png", "a.png.png"]


def test_same_name_in_two_folders_suggests_the_index(tmp_path):
    tree(tmp_path, ["x/a.png", "y/a.png"])
    with pytest.raises(PlanError, match=r"--name '\{stem\}-\{index\}.png'"):
        plan([tmp_path / "x", tmp_path / "y"], tmp_path / "out")


def test_an_output_that_would_overwrite_another_input_is_a_usage_error(tmp_path):
    tree(tmp_path, ["a.png", "a2.png"])
    with pytest.raises(PlanError, match="would overwrite the input"):
        plan([tmp_path / "a.png", tmp_path / "a2.png"], tmp_path, name="{stem}2.png")


def test_existing_outputs_are_settled_in_the_plan(tmp_path):
    tree(tmp_path, ["in/a.png", "in/b.png"])
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "a.png").write_bytes(b"old")
    failed = plan([tmp_path / "in"], tmp_path / "out")
    assert [r.reason for r in failed.settled] == ["already exists (use --overwrite to replace it)"]
    assert [
        r.status for r in plan([tmp_path / "in"], tmp_path / "out", skip_existing=True).settled
    ] == ["skipped"]
    overwrite = Options.build(KERNELS["blur"], overwrite=True)
    assert len(plan([tmp_path / "in"], tmp_path / "out", overwrite).jobs) == 2


# --- run: executors --------------------------------------------------------------------


def test_run_yields_settled_results_then_jobs_through_any_executor(tmp_path):
    tree(tmp_path / "in", ["a.png", "b.png", "c.txt"])

    class Backwards:  # another executor, no other change needed
        threads_per_task = None

        def map_unordered(self, fn, context, items, on_lost):
            return [fn(context, item) for item in reversed(list(items))]

    results = list(run(plan([tmp_path / "in"], tmp_path / "out"), SHARPEN, executor=Backwards()))
    assert [(r.source.name, r.status) for r in results] == [
        ("c.txt", "skipped"),
        ("b.png", "ok"),
        ("a.png", "ok"),
    ]
    assert results[1].input_size == results[1].output_size == (24, 16)


def _double(context: object, x: int) -> int:
    return 2 * x


def _die_on_three(context: object, x: int) -> int:
    if x == 3:
        os._exit(1)
    return x


#: Workers forked from this process, or from a forkserver: both must keep every guarantee.
START_METHODS = [m for m in ("fork", "forkserver") if m in multiprocessing.get_all_start_methods()]


@pytest.mark.parametrize("method", START_METHODS)
def test_process_executor_keeps_at_most_two_jobs_per_worker_in_flight(method):
    pulled = 0

    def items():
        nonlocal pulled
        for i in range(40):
            pulled += 1
            yield i

    results = []
    for value in ProcessExecutor(2, method).map_unordered(_double, None, items(), None):
        assert pulled - len(results) <= 4
        results.append(value)
    assert sorted(results) == [2 * i for i in range(40)]


@pytest.mark.parametrize("method", START_METHODS)
def test_a_worker_that_dies_fails_its_job_alone_and_the_rest_go_on(method):
    on_lost = lambda item, exc: -item  # noqa: E731
    executor = ProcessExecutor(2, method)
    results = list(executor.map_unordered(_die_on_three, None, range(10), on_lost))
    assert sorted(results) == [-3, 0, 1, 2, 4, 5, 6, 7, 8, 9]


def _always_die(context: object, x: int) -> int:
    os._exit(1)


@pytest.mark.parametrize("method", START_METHODS)
def test_workers_that_keep_dying_stop_the_run(method):
    executor = ProcessExecutor(2, method)
    with pytest.raises(ExecutorFailed, match="died on 3 jobs in a row"):
        list(executor.map_unordered(_always_die, None, range(20), lambda item, e: item))


def test_an_interrupted_run_sweeps_the_temporary_files_of_jobs_in_flight(tmp_path):
    tree(tmp_path / "in", ["a.png", "b.png"])
    out = tmp_path / "out"
    out.mkdir()
    keep = [out / ".b.png.0123abcd.tmp", out / ".a.png.txt", out / "a.png.1.tmp"]
    for path in keep:
        path.write_bytes(b"not ours")

    class KilledMidWrite:  # a worker killed between creating its temp file and guarding it
        threads_per_task = None

        def map_unordered(self, fn, context, items, on_lost):
            job = next(iter(items))
            (job.target.parent / f".{job.target.name}.deadbeef.tmp").write_bytes(b"partial")
            raise KeyboardInterrupt
            yield

    with pytest.raises(KeyboardInterrupt):
        list(run(plan([tmp_path / "in"], out), SHARPEN, executor=KilledMidWrite()))
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in keep)


def test_an_output_finished_as_the_run_was_interrupted_is_counted(tmp_path):
    tree(tmp_path / "in", ["a.png", "b.png", "c.png"])
    out = tmp_path / "out"

    class InterruptedAfterWriting:  # a and b written by workers; only a reported
        threads_per_task = None

        def map_unordered(self, fn, context, items, on_lost):
            jobs = iter(items)
            first, second, third = next(jobs), next(jobs), next(jobs)
            yield fn(context, first)
            fn(context, second)
            (third.target.parent / f".{third.target.name}.0a1b2c3d.tmp").write_bytes(b"half")
            raise KeyboardInterrupt

    results = []
    with pytest.raises(KeyboardInterrupt):
        for result in run(
            plan([tmp_path / "in"], out), SHARPEN, executor=InterruptedAfterWriting()
        ):
            results.append(result)
    assert [(r.source.name, r.status, r.input_size) for r in results] == [
        ("a.png", "ok", (24, 16)),
        ("b.png", "ok", None),
    ]
    assert files(out) == ["a.png", "b.png"]


def test_usable_cpus_and_the_default_number_of_workers():
    assert 1 <= usable_cpus() <= (os.cpu_count() or 1)
    assert default_workers(1) == default_workers(7) == 1
    assert default_workers(10_000) == usable_cpus()


def test_serial_executor_is_a_plain_loop():
    assert list(SerialExecutor().map_unordered(_double, None, [1, 2], None)) == [2, 4]


def test_result_message_names_the_file():
    job = Job(Path("a.png"), Path("o/a.png"))
    assert Result(job.source, job.target, "failed", "bad", Path("a.png")).message == "a.png: bad"


# --- the CLI ----------------------------------------------------------------------------


def test_good_and_bad_files_mixed(tmp_path):
    tree(tmp_path / "in", ["a.png", "b.jpg", "c.png", "notes.txt"])
    (tmp_path / "in" / "bad.png").write_text("not a png")
    Image.new("L", (2, 2)).save(tmp_path / "in" / "tiny.png")
    result = apply("-k", "sharpen", "-j", "2", tmp_path / "in", tmp_path / "out")
    assert result.exit_code == 1
    assert files(tmp_path / "out") == ["a.png", "b.png", "c.png"]
    bad, tiny = tmp_path / "in" / "bad.png", tmp_path / "in" / "tiny.png"
    errors = [line for line in result.stderr.splitlines() if line.startswith("convcli: error:")]
    assert sorted(errors) == [
        f"convcli: error: {bad}: {NOT_IMAGE}",
        f"convcli: error: {tiny}: image is 2x2, smaller than the 3x3 kernel: "
        "'valid' padding leaves nothing (use --padding same)",
    ]
    assert "3 written, 1 skipped, 2 failed" in result.stderr
    summary = result.stderr.split("3 written")[1]
    assert f"\n  {bad}: {NOT_IMAGE}" in summary
    assert result.stdout == ""


def test_fail_fast_stops_at_the_first_failure(tmp_path):
    tree(tmp_path / "in", ["a.png", "c.png", "d.png"])
    (tmp_path / "in" / "b.png").write_text("not a png")
    result = apply("-k", "blur", "-j", "1", "--fail-fast", tmp_path / "in", tmp_path / "out")
    assert result.exit_code == 1
    assert files(tmp_path / "out") == ["a.png"]
    assert "1 written, 0 skipped, 1 failed, 2 not run" in result.stderr
    # a failure found by the plan stops before any work
    result = apply(
        "-k", "blur", "--fail-fast", tmp_path / "nope.png", tmp_path / "in", tmp_path / "o2"
    )
    assert result.exit_code == 1
    assert not (tmp_path / "o2").exists()


def test_skip_existing_resumes_and_overwrite_replaces(tmp_path):
    tree(tmp_path / "in", ["a.png", "b.png"])
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.png").write_bytes(b"earlier run")
    result = apply("-k", "blur", "--skip-existing", tmp_path / "in", out)
    assert result.exit_code == 0, result.output
    assert (out / "a.png").read_bytes() == b"earlier run"
    assert read_mode(out / "b.png") == "L"
    assert "1 written, 1 skipped, 0 failed" in result.stderr
    alone = apply("-k", "blur", "--skip-existing", tmp_path / "in" / "a.png", out)
    assert alone.exit_code == 0
    assert "0 written, 1 skipped, 0 failed" in alone.stderr
    refused = apply("-k", "blur", tmp_path / "in", out)
    assert refused.exit_code == 1
    # Once, with a count, the names and both ways on (issue 13), not per file and again.
    assert refused.stderr.count("already exist") == 1
    assert "convcli: error: 2 outputs already exist: " in refused.stderr
    assert "(--skip-existing to resume, skipping them; --overwrite to replace them)" in (
        refused.stderr
    )
    assert (out / "a.png").read_bytes() == b"earlier run"
    replaced = apply("-k", "blur", "--overwrite", tmp_path / "in", out)
    assert replaced.exit_code == 0, replaced.output
    assert read_mode(out / "a.png") == "L"
    both = apply("-k", "blur", "--overwrite", "--skip-existing", tmp_path / "in", out)
    assert both.exit_code == 2
    assert "cannot be used together" in both.stderr


def test_outputs_are_byte_identical_whatever_the_number_of_workers(tmp_path):
    tree(tmp_path / "in", [f"img{i}.{ext}" for i in range(6) for ext in ("png",)] + ["s/x.jpg"])
    for jobs in ("1", "2"):
        result = apply(
            "-k", "gaussian5", "-p", "same", "-r", "-j", jobs, tmp_path / "in", tmp_path / jobs
        )
        assert result.exit_code == 0, result.output
    one, two = files(tmp_path / "1"), files(tmp_path / "2")
    assert one == two and len(one) == 7
    for name in one:
        assert (tmp_path / "1" / name).read_bytes() == (tmp_path / "2" / name).read_bytes()


def test_json_is_one_document_on_stdout(tmp_path):
    tree(tmp_path / "in", ["a.png", "b.jpg", "n.txt"])
    (tmp_path / "in" / "bad.png").write_text("nope")
    out = tmp_path / "out"
    result = apply("-k", "sharpen", "-p", "same", "--json", "-j", "2", tmp_path / "in", out)
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["options"]["kernels"] == ["sharpen"] and doc["options"]["padding"] == "same"
    assert doc["options"]["jobs"] == 2
    by_input = {Path(f["input"]).name: f for f in doc["files"]}
    assert {name: f["status"] for name, f in by_input.items()} == {
        "a.png": "ok",
        "b.jpg": "ok",
        "n.txt": "skipped",
        "bad.png": "failed",
    }
    a = by_input["a.png"]
    assert a["output"] == str(out / "a.png") and a["reason"] is None
    assert a["input_size"] == a["output_size"] == [24, 16]
    assert a["output_bytes"] == (out / "a.png").stat().st_size
    assert a["seconds"] >= 0
    raw = convolve(
        load_image(tmp_path / "in" / "a.png"), KERNELS["sharpen"].weights, padding="same"
    )
    assert (a["raw_min"], a["raw_max"]) == (raw.min(), raw.max())
    assert a["clipped"] == pytest.approx(((np.rint(raw) < 0) | (np.rint(raw) > 255)).mean())
    assert by_input["bad.png"]["raw_min"] is by_input["bad.png"]["clipped"] is None
    assert by_input["bad.png"]["reason"] == NOT_IMAGE
    assert by_input["n.txt"]["reason"] == "not an image file"
    summary = doc["summary"]
    assert (summary["ok"], summary["skipped"], summary["failed"]) == (2, 1, 1)
    assert summary["interrupted"] is False and summary["total"] == 4


def test_json_stays_one_document_even_after_an_internal_error(tmp_path, monkeypatch):
    tree(tmp_path / "in", ["a.png", "b.png"])

    def broken(result):
        raise RuntimeError("a bug")

    monkeypatch.setattr("convcli.cli.report.json_entry", broken)
    result = apply("-k", "blur", "--json", "-j", "1", tmp_path / "in", tmp_path / "out")
    assert isinstance(result.exception, RuntimeError)
    doc = json.loads(result.stdout)
    assert doc["files"] == []
    assert doc["summary"]["error"] == "internal error: RuntimeError"


def test_quiet_batch_prints_only_errors(tmp_path):
    tree(tmp_path / "in", ["a.png", "b.png"])
    (tmp_path / "in" / "c.png").write_text("nope")
    result = apply("-k", "blur", "-q", tmp_path / "in", tmp_path / "out")
    assert result.exit_code == 1
    assert result.stderr == f"convcli: error: {tmp_path / 'in' / 'c.png'}: {NOT_IMAGE}\n"


def test_progress_bar_shows_on_a_terminal_and_not_with_quiet(tmp_path, monkeypatch):
    from rich.console import Console

    from convcli.cli import common

    tree(tmp_path / "in", ["a.png", "b.png"])
    monkeypatch.setattr(common, "_console", Console(stderr=True, force_terminal=True, width=100))
    shown = apply("-k", "blur", "-j", "1", tmp_path / "in", tmp_path / "o1")
    assert shown.exit_code == 0
    assert "filtering" in shown.stderr and "/2" in shown.stderr
    quiet = apply("-k", "blur", "-j", "1", "-q", tmp_path / "in", tmp_path / "o2")
    assert quiet.exit_code == 0 and quiet.stderr == ""


@pytest.mark.parametrize("where", ["convcli.batch.plan", "convcli.cli.params.parse_kernel"])
def test_ctrl_c_before_the_run_starts_exits_130_not_clicks_aborted(tmp_path, monkeypatch, where):
    image(tmp_path / "a.png")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(where, interrupted)  # while planning; while parsing -k
    result = apply("-k", "blur", tmp_path / "a.png", tmp_path / "out.png")
    assert result.exit_code == 130
    assert result.stderr == "convcli: interrupted\n"


def test_the_installed_command_runs_workers(tmp_path):
    """Workers re-import the main module (forkserver/spawn): the console script's too."""
    tree(tmp_path / "in", [f"p{i}.png" for i in range(8)])
    script = Path(sys.executable).parent / "convcli"
    done = subprocess.run(
        [script, "apply", "-k", "sharpen", "-j", "2", tmp_path / "in", tmp_path / "out"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert len(files(tmp_path / "out")) == 8
    assert "8 written, 0 skipped, 0 failed" in done.stderr and "Traceback" not in done.stderr


# --- Ctrl-C: a real process -------------------------------------------------------


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_sigint_stops_promptly_and_leaves_no_partial_file(tmp_path, jobs):
    source = image(tmp_path / "in" / "img000.png", size=(64, 64))
    for i in range(1, 150):
        shutil.copy(source, tmp_path / "in" / f"img{i:03d}.png")
    out = tmp_path / "out"
    # --size 1200 makes every image slow to filter, deterministically
    args = ["apply", "-k", "gaussian5", "-p", "same", "--size", "1200", "-j", jobs, "--json"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "convcli", *args, str(tmp_path / "in"), str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a process group, as a terminal's Ctrl-C signals
        env={**os.environ, "COLUMNS": "100", "NO_COLOR": "1"},
    )
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        if out.is_dir() and any(not n.startswith(".") for n in os.listdir(out)):
            break
        time.sleep(0.01)
    assert proc.poll() is None, proc.communicate()
    time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    assert "interrupted:" in stderr and "Traceback" not in stderr
    written = files(out)
    assert all(not name.startswith(".") and name.endswith(".png") for name in written), written
    assert 1 <= len(written) < 150
    for name in written:
        with Image.open(out / name) as done:
            done.load()
            assert done.size == (1200, 1200)
    doc = json.loads(stdout)
    assert doc["summary"]["interrupted"] is True
    assert doc["summary"]["ok"] <= len(written)
    assert doc["summary"]["not_run"] > 0
