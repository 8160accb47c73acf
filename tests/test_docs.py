"""The README and --help say what the code does: every option documented, every example run."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import click
import numpy as np
import pytest
from PIL import Image

from convcli.cli.main import _COMMANDS, cli

from .terminal import console_script

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def commands() -> dict[str, click.Command]:
    ctx = click.Context(cli)
    return {name: cli.get_command(ctx, name) for name in _COMMANDS}  # type: ignore[misc]


def options_of(command: click.Command) -> list[str]:
    return [
        opt
        for param in command.params
        if isinstance(param, click.Option) and not param.hidden
        for opt in (*param.opts, *param.secondary_opts)
    ]


@pytest.mark.parametrize("name", sorted(_COMMANDS))
def test_every_option_in_help_is_in_the_readme(name):
    command = commands()[name]
    missing = []
    for opt in options_of(command):
        pattern = rf"(?<![\w-]){re.escape(opt)}(?![\w-])"
        if not re.search(pattern, README):
            missing.append(opt)
    assert not missing, f"convcli {name}: README says nothing of {missing}"


def test_every_global_option_is_in_the_readme():
    for opt in options_of(cli):
        assert re.search(rf"(?<![\w-]){re.escape(opt)}(?![\w-])", README), opt


def console_examples(text: str) -> list[str]:
    """The ``$ ...`` lines of the README's ```console blocks, comments removed."""
    examples = []
    for block in re.findall(r"```console\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            if line.startswith("$ "):
                examples.append(line[2:])
    return examples


def help_examples() -> list[str]:
    """The ``Examples:`` of every command's --help."""
    found = []
    for command in [cli, *commands().values()]:
        doc = command.help or ""
        if "Examples:" in doc:
            for line in doc.split("Examples:", 1)[1].splitlines():
                if line.strip().startswith("convcli "):
                    found.append(line.strip())
    return found


def sandbox(folder: Path) -> Path:
    """Every file the examples name: photos, a folder tree, kernel files, sample_images/."""
    shutil.copytree(ROOT / "sample_images", folder / "sample_images")
    rng = np.random.default_rng(11)

    def photo(path: str, size=(64, 48)) -> None:
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
        Image.fromarray(pixels).save(target)

    for name in ["in.jpg", "in.png", "photo.jpg", "photo1.jpg", "photo2.png", "cat.jpg"]:
        photo(name)
    for name in [
        "a.jpg",
        "b.jpg",
        "b.png",
        "me.jpg",
        "photos/x.jpg",
        "photos/y.jpg",
        "photos/trip/z.jpg",
    ]:
        photo(name)
    photo("photo.png")
    sixteen = (rng.integers(0, 65536, (48, 64))).astype(np.uint16)
    Image.fromarray(sixteen).save(folder / "scan16.png")
    bank = rng.normal(size=(3, 3, 1, 4)).astype(np.float32)  # hwio: four 3x3 filters
    np.save(folder / "conv1.npy", bank)
    np.save(folder / "b.npy", np.array([0.1, -0.2, 0.0, 0.3], dtype=np.float32))
    (folder / "my.mat").write_text("3 3 16 0\n1 2 1\n2 4 2\n1 2 1\n")
    (folder / "edges.txt").write_text("-1 0 1\n-2 0 2\n-1 0 1\n")
    return folder


def run_example(line: str, where: Path) -> subprocess.CompletedProcess[str]:
    bin_dir = str(Path(console_script()).parent)
    return subprocess.run(
        ["bash", "-o", "pipefail", "-c", line],
        cwd=where,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "COLUMNS": "100"},
    )


def without_comment(line: str) -> str:
    """The command alone: a ``#`` outside quotes after a space starts a comment.

    >>> without_comment("convcli a '#b' c   # note")
    "convcli a '#b' c"
    """
    quote = None
    for i, char in enumerate(line):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip()
    return line.rstrip()


EXAMPLES = list(
    dict.fromkeys(without_comment(x) for x in console_examples(README) + help_examples())
)


def test_the_readme_has_console_examples():
    assert len(console_examples(README)) >= 10
    assert len(help_examples()) >= 10


@pytest.mark.slow
def test_every_example_runs(tmp_path):
    """Each README console line and --help example, in a folder holding the files
    it names, exits 0 with no error line (a few at a time: each is a process)."""
    from concurrent.futures import ThreadPoolExecutor

    template = sandbox(tmp_path / "template")
    runnable = [x for x in EXAMPLES if "| jq" not in x or shutil.which("jq")]

    def attempt(numbered: tuple[int, str]) -> str | None:
        number, line = numbered
        where = tmp_path / f"example-{number}"
        shutil.copytree(template, where)
        done = run_example(line, where)
        if done.returncode != 0 or "error" in done.stderr:
            return f"$ {line}\n  exit {done.returncode}: {done.stdout}{done.stderr}"
        return None

    with ThreadPoolExecutor(4) as pool:
        failures = [f for f in pool.map(attempt, enumerate(runnable)) if f]
    assert not failures, "\n".join(failures)
