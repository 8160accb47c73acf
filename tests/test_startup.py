"""Start-up: what one image does not need is not imported, and plain stderr says the same.

Speed itself is measured in benchmarks/bench_cli.py, never asserted here; these
tests guard the import set that the start-up figures depend on, and check that
the Rich-free stderr (cli/plain.py) prints exactly what Rich printed.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.errors import MarkupError
from rich.markup import escape as rich_escape

from convcli import cpus
from convcli.cli import plain

from .helpers import modules_loaded

# Nothing a single image needs: the process pool and what it pulls in, Rich (stderr
# is not a terminal here), the kernel families and kernel-file parsers (with their
# JSON/zip modules) for a built-in name, and Pillow's ImageOps.
NOT_FOR_ONE_IMAGE = [
    "concurrent.futures.process",
    "multiprocessing",
    "convcli.batch.executors.process",
    "rich",
    "rich.console",
    "rich.progress",
    "json",
    "zipfile",
    "convcli.kernels.families",
    "convcli.kernels.files",
    "PIL.ImageOps",
]
# Not difflib: click imports it to parse any short option, "-k" included. Not
# PIL.ImagePalette: Pillow's preinit loads the BMP plugin, which imports it.


@pytest.mark.parametrize("quiet", [[], ["-q"]])
def test_one_image_imports_no_pool_no_rich_no_kernel_parsers(tmp_path, rgb_jpeg, quiet):
    args = ["apply", *quiet, "-k", "sharpen", rgb_jpeg, tmp_path / "o.png"]
    assert modules_loaded(NOT_FOR_ONE_IMAGE, run=args) == []
    assert (tmp_path / "o.png").stat().st_size > 0  # it did the work


def test_a_batch_with_workers_still_gets_its_pool(tmp_path, rgb_jpeg):
    sources = []
    for i in range(8):
        source = tmp_path / f"in{i}.jpg"
        source.write_bytes(rgb_jpeg.read_bytes())
        sources.append(source)
    out = tmp_path / "out"
    out.mkdir()
    args = ["apply", "-q", "-j", "2", "-k", "sharpen", *sources, f"{out}/"]
    assert modules_loaded(["concurrent.futures.process"], run=args) == [
        "concurrent.futures.process"
    ]
    assert len(list(out.glob("*.png"))) == 8


LAZY_PACKAGES = ["convcli", "convcli.engine", "convcli.kernels", "convcli.imageio"]


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_a_lazy_package_exports_what_its_type_checking_imports_say(package):
    """convcli.lazy's maps and the TYPE_CHECKING imports mypy reads are two lists of one
    fact: every public name loads, from the module the type checker was told."""
    module = importlib.import_module(package)
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    checked = {
        alias.asname or alias.name: importlib.util.resolve_name(
            "." * node.level + (node.module or ""), package
        )
        for top in tree.body
        if isinstance(top, ast.If) and "TYPE_CHECKING" in ast.unparse(top.test)
        for node in top.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert sorted(checked) == sorted(module.__all__)
    for name, home in checked.items():
        value = getattr(module, name)
        assert value is getattr(importlib.import_module(home), name), name
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        module.nothing_here  # noqa: B018


@pytest.mark.parametrize(("spec", "loads"), [("sharpen", False), ("gaussian:sigma=1", True)])
def test_only_a_spec_that_is_no_built_in_name_loads_the_families(spec, loads):
    probe = (
        "import sys; from convcli.kernels import parse_kernel; parse_kernel(sys.argv[1]); "
        "print(sorted({'convcli.kernels.families', 'convcli.kernels.files'} & set(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, spec], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    expected = ["convcli.kernels.families", "convcli.kernels.files"] if loads else []
    assert done.stdout.strip() == str(expected)


def test_the_lazy_names_still_import():
    from convcli.batch import ProcessExecutor
    from convcli.batch.executors import ProcessExecutor as Same
    from convcli.batch.executors import local

    assert ProcessExecutor is Same
    assert isinstance(local(2), ProcessExecutor)
    with pytest.raises(ImportError):
        from convcli.batch import NoSuchThing  # noqa: F401


def _stderr_of(args, env):
    done = subprocess.run(
        [sys.executable, "-m", "convcli", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    return done.returncode, done.stderr


def test_plain_stderr_prints_what_rich_prints(tmp_path, rgb_jpeg):
    """The one-line summary, an error and a batch summary: plain vs Rich (TTY_COMPATIBLE=0
    makes convcli use Rich, which then prints to a non-terminal without colour)."""
    base = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE")}
    base.update(COLUMNS="100", NO_COLOR="1")
    seen = {}
    for mode, env in (("p", base), ("r", {**base, "TTY_COMPATIBLE": "0"})):
        folder = tmp_path / mode  # the same length for both, so lines compare whole
        folder.mkdir()
        odd = folder / "odd [dim] name\\[x].jpg"
        odd.write_bytes(rgb_jpeg.read_bytes())
        runs = [
            ["apply", "-k", "sharpen", odd, folder / "a[bold].png"],
            ["apply", "-k", "sharpen", odd, folder / "a[bold].png"],  # exists: an error
            ["apply", "-k", "sharpen", "-f", odd, rgb_jpeg, folder / "none.jpg", f"{folder}/"],
        ]
        outputs = []
        for args in runs:
            code, text = _stderr_of(args, env)
            # Timings differ from run to run; everything else must not.
            text = re.sub(r"\d+ ms|\d+\.\d+ s|[\d.]+ images/s", "T", text)
            outputs.append((code, text.replace(str(folder), "DIR")))
        seen[mode] = outputs
    assert seen["p"] == seen["r"]
    assert [code for code, _ in seen["p"]] == [0, 1, 1]
    assert all(text.strip() for _, text in seen["p"])


def rich_plain(markup: str) -> str:
    console = Console(file=None, force_terminal=False, color_system=None, highlight=False)
    with console.capture() as captured:
        console.print(markup, soft_wrap=True, end="")
    return captured.get()


markup_text = st.text(alphabet="ab \\[]/=#@dimbold:", max_size=30)


@settings(max_examples=300, deadline=None)
@given(markup_text)
def test_escape_is_riches_escape(text):
    assert plain.escape(text) == rich_escape(text)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(markup_text, st.sampled_from(["[dim]", "[/]", "[green]", "[bold red]"]))))
def test_render_is_what_rich_prints(parts):
    markup = "".join(parts)
    try:
        expected = rich_plain(markup)
    except MarkupError:  # unbalanced closing tags: Rich refuses, we never write them
        return
    assert plain.render(markup) == expected


@settings(max_examples=200, deadline=None)
@given(markup_text)
def test_escaped_text_renders_as_itself(text):
    assert plain.render(f"[dim]{plain.escape(text)}[/]") == rich_plain(
        f"[dim]{rich_escape(text)}[/]"
    )


def test_plain_stderr_is_used_only_off_a_terminal(monkeypatch):
    class Tty:
        def isatty(self) -> bool:
            return True

    class Pipe:
        def isatty(self) -> bool:
            return False

    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
    monkeypatch.delenv("TTY_INTERACTIVE", raising=False)
    assert plain.wanted(Pipe()) and not plain.wanted(Tty())
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert not plain.wanted(Pipe())  # Rich would colour it: Rich it is


@pytest.mark.parametrize("width", [40, 80, 120])
def test_the_command_list_is_what_click_would_print_from_the_commands(width):
    """``convcli --help`` lists the commands from cli.main's summaries, so that it imports
    none of them: the list must be exactly Click's own, made from each command."""
    from convcli.cli.main import _COMMANDS, cli

    ctx = click.Context(cli, terminal_width=width)
    ours = click.HelpFormatter(width=width)
    cli.format_commands(ctx, ours)
    clicks = click.HelpFormatter(width=width)
    click.Group.format_commands(cli, ctx, clicks)
    assert ours.getvalue() == clicks.getvalue()
    for name, (_, summary) in _COMMANDS.items():
        command = cli.get_command(ctx, name)
        assert command is not None
        assert command.get_short_help_str(limit=200) == summary, name


def test_the_top_level_help_imports_no_command_numpy_or_pillow():
    heavy = ["numpy", "PIL", "convcli.cli.apply", "convcli.cli.explain", "convcli.engine.api"]
    assert modules_loaded(heavy, run=["--help"]) == []


_THREADS_AFTER = """
import atexit, os, sys
atexit.register(lambda: print("threads:", len(os.listdir("/proc/self/task")), file=sys.stderr))
sys.argv = ["convcli", *sys.argv[1:]]
from convcli.cli import main
main()
"""


def _threads_after(args, env):
    done = subprocess.run(
        [sys.executable, "-c", _THREADS_AFTER, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return int(done.stderr.rsplit("threads:", 1)[1])


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads in /proc")
def test_the_command_line_keeps_numpys_blas_on_the_calling_thread(tmp_path, rgb_jpeg):
    """The band runner and -j fill the CPUs themselves: a BLAS pool only competes."""
    env = {k: v for k, v in os.environ.items() if k not in cpus.BLAS_THREADS}
    numpy_alone = subprocess.run(
        [sys.executable, "-c", "import os, numpy; print(len(os.listdir('/proc/self/task')))"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    if int(numpy_alone.stdout) == 1:
        pytest.skip("this NumPy's BLAS starts no threads here (one CPU?)")
    args = ["apply", "-q", "-f", "-k", "sharpen", str(rgb_jpeg), str(tmp_path / "o.png")]
    assert _threads_after(args, env) == 1
    # A pool the user sized is theirs.
    assert _threads_after(args, {**env, "OPENBLAS_NUM_THREADS": "2"}) > 1
    assert modules_loaded(["numpy"], imports=["convcli.cli"]) == []  # set before NumPy loads


_GC_PROBE = """
import gc, sys
from convcli.cli import common, main
seen = []
start = common.end_of_start_up
common.end_of_start_up = lambda: (seen.append(gc.isenabled()), start())
sys.argv = ["convcli", *sys.argv[1:]]
try:
    main()
finally:
    print("gc:", seen, gc.isenabled(), gc.get_freeze_count() > 0, file=sys.stderr)
"""


def test_start_up_runs_without_the_collector_and_the_batch_with_it(tmp_path, rgb_jpeg):
    """Start-up builds only what lasts (no collection passes over it); the work itself
    (a batch of any length) collects its garbage as usual, start-up's objects frozen."""
    out = tmp_path / "out"
    args = ["apply", "-q", "-k", "sharpen", rgb_jpeg, rgb_jpeg.with_name("b.jpg"), f"{out}/"]
    rgb_jpeg.with_name("b.jpg").write_bytes(rgb_jpeg.read_bytes())
    done = subprocess.run(
        [sys.executable, "-c", _GC_PROBE, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert len(list(out.glob("*.png"))) == 2, done.stderr
    # Off until the batch starts, on for the batch, start-up's objects frozen.
    assert done.stderr.strip().endswith("gc: [False] True True")


def test_an_in_process_caller_keeps_its_own_collector(tmp_path, rgb_jpeg):
    """Only the console script's main() changes the collector: CliRunner (and any Python
    caller of the commands) finds it as it was, nothing frozen."""
    import gc

    from click.testing import CliRunner

    from convcli.cli import cli

    frozen = gc.get_freeze_count()
    args = ["apply", "-q", "-k", "sharpen", str(rgb_jpeg), str(tmp_path / "o.png")]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert gc.isenabled() and gc.get_freeze_count() == frozen
