"""Help where people look: completion, did-you-mean, and the slips people make with -k."""

from __future__ import annotations

import os
import subprocess

import pytest
from click.testing import CliRunner

from convcli.cli import cli
from convcli.cli.params import kernel_completions

from .terminal import console_script


def apply(*args):
    return CliRunner().invoke(cli, ["apply", *map(str, args)])


def test_a_name_cut_short_suggests_every_name_it_begins(gray_png, tmp_path):
    result = apply("-k", "gauss", gray_png, tmp_path / "o.png")
    assert result.exit_code == 2
    assert "unknown kernel 'gauss'; did you mean gaussian, gaussian5?" in result.output
    assert not (tmp_path / "o.png").exists()


def test_kernels_joined_by_commas_say_to_repeat_k(gray_png, tmp_path):
    result = apply("--kernel=blur,sharpen", gray_png, tmp_path / "o.png")
    assert result.exit_code == 2
    assert "'blur,sharpen': one kernel per -k; to apply several in order, repeat it: " in (
        result.output
    )
    assert "-k blur -k sharpen" in result.output
    with_parameters = apply("-k", "gaussian:sigma=2,sharpen", gray_png, tmp_path / "o.png")
    assert "repeat it: -k gaussian:sigma=2 -k sharpen" in with_parameters.output
    # A family's own commas are not a slip, nor is an inline matrix.
    assert apply("-k", "gaussian:sigma=2,size=5", gray_png, tmp_path / "a.png").exit_code == 0
    assert apply("-k", "1,2,1", gray_png, tmp_path / "b.png").exit_code == 0


def test_an_image_right_after_k_says_the_kernel_is_missing(gray_png, tmp_path):
    result = apply("-k", gray_png, tmp_path / "o.png")
    assert result.exit_code == 2
    assert f"'{gray_png}' is an image, not a kernel: the kernel is missing after -k" in (
        result.output
    )


def test_k_completes_names_families_and_kernel_files(tmp_path, monkeypatch):
    (tmp_path / "edges.txt").write_text("1 0 -1\n")
    (tmp_path / "photo.jpg").write_bytes(b"")
    (tmp_path / "kernels").mkdir()
    (tmp_path / "kernels" / "soft.npy").write_bytes(b"")
    (tmp_path / ".hidden.txt").write_text("1\n")
    monkeypatch.chdir(tmp_path)
    assert kernel_completions("gau") == ["gaussian", "gaussian5", "gaussian:"]
    assert kernel_completions("sob") == ["sobel-x", "sobel-y"]
    everything = kernel_completions("")
    assert {"sharpen", "unsharp:", "edges.txt", "kernels/"} <= set(everything)
    assert "photo.jpg" not in everything and ".hidden.txt" not in everything
    assert kernel_completions("kernels/") == ["kernels/soft.npy"]
    assert kernel_completions("e") == ["emboss", "edges.txt"]


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_the_documented_completion_scripts_are_generated(shell):
    done = subprocess.run(
        [console_script()],
        env={**os.environ, "_CONVCLI_COMPLETE": f"{shell}_source"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "_CONVCLI_COMPLETE" in done.stdout


def test_completing_k_through_the_console_script(tmp_path):
    done = subprocess.run(
        [console_script()],
        env={
            **os.environ,
            "_CONVCLI_COMPLETE": "bash_complete",
            "COMP_WORDS": "convcli apply -k lap",
            "COMP_CWORD": "3",
        },
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["plain,laplacian", "plain,laplacian:"]


def test_outputs_that_exist_are_summarised_once_with_both_hints(tmp_path, gradient):
    from PIL import Image

    (tmp_path / "in").mkdir()
    (tmp_path / "out").mkdir()
    for i in range(6):
        Image.fromarray(gradient).save(tmp_path / "in" / f"p{i}.png")
        (tmp_path / "out" / f"p{i}.png").write_bytes(b"earlier")
    result = apply("-k", "blur", tmp_path / "in", tmp_path / "out")
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("convcli:")]
    out = tmp_path / "out"
    assert errors == [
        f"convcli: error: 6 outputs already exist: {out}/p0.png, {out}/p1.png, {out}/p2.png "
        "and 3 more (--skip-existing to resume, skipping them; --overwrite to replace them)"
    ]
    assert "0 written, 0 skipped, 6 failed (6 already there)" in result.stderr
    assert "failed:" not in result.stderr  # not the same list again


@pytest.mark.parametrize(
    ("padding", "border", "label"),
    [
        ("valid", "zero", "blur, valid, 30x22"),
        ("same", "zero", "blur, same, zero border, 32x24"),
        ("full", "edge", "blur, full, edge border, 34x26"),
    ],
)
def test_the_compare_label_names_a_border_only_where_one_is_read(
    gray_png, tmp_path, monkeypatch, padding, border, label
):
    import convcli.visuals

    seen = []
    real = convcli.visuals.compare

    def spy(before, after, *, labels, **kwargs):
        seen.append(labels)
        return real(before, after, labels=labels, **kwargs)

    monkeypatch.setattr(convcli.visuals, "compare", spy)
    result = apply("-k", "blur", "-p", padding, "-b", border, "--compare", gray_png,
                   tmp_path / "o.png")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert seen == [("input, 32x24", label)]
