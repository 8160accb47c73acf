"""Arguments as a shell hands them over: empty ones, files where folders should be."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from convcli.cli import cli


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.mark.parametrize(
    ("args", "where"),
    [
        (["apply", "-k", "blur", "", "out.png"], "INPUTS..."),
        (["apply", "-k", "blur", "in.png", ""], "OUTPUT"),
        (["apply", "-k", "blur", "in.png", "", "out/"], "INPUTS..."),
        (["gallery", "", "g.png"], "IMAGE"),
        (["gallery", "in.png", ""], "OUTPUT"),
        (["explain", "-k", "blur", ""], "IMAGE"),
    ],
)
def test_an_empty_argument_is_a_usage_error(tmp_path, gray_png, monkeypatch, args, where):
    """'' is an unset variable, never the current folder (which held in.png)."""
    monkeypatch.chdir(tmp_path)
    os.replace(gray_png, tmp_path / "in.png")
    before = sorted(os.listdir(tmp_path))
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert f"Invalid value for '{where}': is empty (an unset shell variable?)" in result.output
    assert sorted(os.listdir(tmp_path)) == before  # no out.png/, no ./in.png


@pytest.mark.parametrize("output", ["in.jpg/x.png", "in.jpg/sub/x.png", "in.jpg/x/"])
def test_a_file_where_a_folder_should_be_is_named_as_such(tmp_path, gray_png, output):
    """It said "folder 'in.jpg' does not exist", though in.jpg was right there."""
    (tmp_path / "in.jpg").write_bytes(b"a file")
    result = run("apply", "-k", "blur", gray_png, tmp_path / output)
    assert result.exit_code == 2, result.output
    assert f"'{tmp_path / 'in.jpg'}' is a file, not a folder" in result.output
    assert "does not exist" not in result.output
    assert (tmp_path / "in.jpg").read_bytes() == b"a file"


def test_a_missing_folder_is_still_said_to_be_missing(tmp_path, gray_png):
    result = run("apply", "-k", "blur", gray_png, tmp_path / "nope" / "x.png")
    assert result.exit_code == 1
    assert f"folder '{tmp_path / 'nope'}' does not exist" in result.stderr


def collection(root):
    from PIL import Image

    for path in ["coll/a/x.jpg", "coll/b/x.jpg", "coll/b/c/x.jpg", "coll/top.jpg"]:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (8, 6), (10, 200, 30)).save(root / path)


def written(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_r_mirrors_pattern_matches_below_the_fixed_prefix(tmp_path, monkeypatch):
    """The README said -r mirrors; it was a collision error."""
    monkeypatch.chdir(tmp_path)
    collection(tmp_path)
    result = run("apply", "-k", "blur", "-r", "coll/**/*.jpg", "out/")
    assert result.exit_code == 0, result.output
    assert written(tmp_path / "out") == ["a/x.png", "b/c/x.png", "b/x.png", "top.png"]
    flat = run("apply", "-k", "blur", "coll/**/*.jpg", "flat/")
    assert flat.exit_code == 2
    assert "tell them apart with -r (mirror their folders) or --name" in flat.output


def test_the_dir_field_is_the_folder_below_the_input_or_pattern(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    collection(tmp_path)
    (tmp_path / "alone.jpg").write_bytes((tmp_path / "coll" / "top.jpg").read_bytes())
    result = run("apply", "-k", "blur", "coll/**/*.jpg", "--name", "{dir}{stem}-b.png", "p/")
    assert result.exit_code == 0, result.output
    assert written(tmp_path / "p") == ["a/x-b.png", "b/c/x-b.png", "b/x-b.png", "top-b.png"]
    mixed = run("apply", "-k", "blur", "-r", "coll", "alone.jpg", "--name", "{dir}{stem}.png", "f/")
    assert mixed.exit_code == 0, mixed.output  # -r and {dir} do not mirror twice
    assert written(tmp_path / "f") == ["a/x.png", "alone.png", "b/c/x.png", "b/x.png", "top.png"]
    misplaced = run("apply", "-k", "blur", "coll", "--name", "{stem}-{dir}.png", "g/")
    assert misplaced.exit_code == 2
    assert "put it first, as in '{dir}{stem}.png'" in misplaced.output


@pytest.mark.parametrize(
    ("size", "expected"),
    [("32x", (32, 24)), ("x12", (16, 12)), ("50%", (32, 24)), ("12.5%", (8, 6)),
     ("20x10", (20, 10)), ("7", (7, 7))],
)  # fmt: skip
def test_size_keeps_the_aspect_ratio_as_imagemagick_does(tmp_path, size, expected):
    from PIL import Image

    Image.new("L", (64, 48), 90).save(tmp_path / "in.png")
    result = run("apply", "-k", "identity", "-p", "same", "-s", size, tmp_path / "in.png",
                 tmp_path / "o.png")  # fmt: skip
    assert result.exit_code == 0, result.output
    with Image.open(tmp_path / "o.png") as written:
        assert written.size == expected


def test_a_relative_size_still_obeys_max_pixels(tmp_path):
    from PIL import Image

    Image.new("L", (64, 48)).save(tmp_path / "in.png")
    result = run("apply", "-k", "blur", "-s", "1000%", "--max-pixels", "100000",
                 tmp_path / "in.png", tmp_path / "o.png")  # fmt: skip
    assert result.exit_code == 1
    assert "--size 640x480 is 307,200 pixels, more than the limit of 100,000" in result.stderr
    assert not (tmp_path / "o.png").exists()
    for bad in ["0x", "x0", "0%", "abc", "x"]:
        assert run("apply", "-k", "blur", "-s", bad, "a.png", "b.png").exit_code == 2, bad


def test_the_default_jobs_are_decided_from_the_plan(tmp_path, monkeypatch):
    """Small batches stay in-process (a pool costs more than they take); big ones use every CPU."""
    from convcli.batch import executors
    from convcli.batch.plan import Job, estimate_seconds

    monkeypatch.setattr(executors, "usable_cpus", lambda: 2)
    small, photos = [], []
    for i in range(150):
        for group, size, where in [(small, 4_300, "s"), (photos, 590_000, "p")]:
            path = tmp_path / f"{where}{i}.jpg"
            with open(path, "wb") as handle:
                handle.truncate(size)  # sparse: only the size in bytes matters here
            group.append(Job(path, tmp_path / f"{where}{i}.png"))
    assert estimate_seconds(small[:50]) < executors.POOL_PAYS_AFTER
    assert executors.default_workers(50, estimate_seconds(small[:50])) == 1
    # 150 small ones were 10-20% slower on 2 workers than in-process (bench_jobs.py)
    assert executors.default_workers(150, estimate_seconds(small)) == 1
    assert executors.default_workers(60, estimate_seconds(photos[:60])) == 2
    assert executors.default_workers(1, estimate_seconds(photos[:1])) == 1


def test_j_0_means_every_usable_cpu_and_the_json_says_what_was_chosen(tmp_path, monkeypatch):
    import json

    from PIL import Image

    import convcli.cpus

    monkeypatch.setattr(convcli.cpus, "usable_cpus", lambda: 3)
    (tmp_path / "in").mkdir()
    for i in range(4):
        Image.new("L", (8, 8), i).save(tmp_path / "in" / f"p{i}.png")
    chosen = {}
    for jobs in ([], ["-j", "0"]):
        out = tmp_path / f"out{len(jobs)}"
        result = run("apply", "-k", "blur", "--json", *jobs, tmp_path / "in", out)
        assert result.exit_code == 0, result.output
        chosen[bool(jobs)] = json.loads(result.stdout)["options"]["jobs"]
    assert chosen == {False: 1, True: 3}
