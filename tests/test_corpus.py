"""Every file of the hostile corpus (tests/make_corpus.py) through the real CLI.

Each case asserts the exact exit code, the exact line on stderr, and that
nothing but the expected output exists afterwards: no partial file, no
temporary file, and the corpus itself untouched.
"""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner
from PIL import Image

from convcli import ImageReadError, load_image
from convcli.cli import cli

from .helpers import run_convcli
from .make_corpus import CASES, build

POSIX = hasattr(os, "mkfifo")
BY_NAME = {case.name: case for case in CASES}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus")
    build(folder, posix=POSIX)
    return folder


def _listing(folder):
    return sorted(os.listdir(folder))


def _expected_stderr(case, source):
    lines = [f"convcli: warning: {source}: {w}\n" for w in case.warnings]
    return "".join(lines)


def _cli_cases():
    for case in CASES:
        marks = []
        if case.posix_only and not POSIX:
            marks.append(pytest.mark.skip(reason="needs FIFOs and symlinks"))
        if case.through_cli and case.name != "fifo.png":  # the FIFO runs in a subprocess
            yield pytest.param(case, id=case.name, marks=marks)


@pytest.mark.parametrize("case", list(_cli_cases()))
def test_corpus_case_through_the_cli(corpus, tmp_path, case):
    before = _listing(corpus)
    source = corpus / case.name
    out = tmp_path / "out"
    out.mkdir()
    target = out / "result.png"
    result = CliRunner().invoke(
        cli, ["apply", "-k", "blur", "-p", "same", str(source), str(target)]
    )
    assert "Traceback" not in result.output
    if case.reason is None:
        assert result.exit_code == 0, result.output
        assert result.stderr.startswith(_expected_stderr(case, source))
        assert "convcli: warning" not in result.stderr[len(_expected_stderr(case, source)) :]
        assert _listing(out) == ["result.png"]
        with Image.open(target) as written:
            assert (written.format, written.mode, written.size) == ("PNG", "L", case.size)
    else:
        assert result.exit_code == 1, result.output
        expected = f"convcli: error: {source}: {case.reason}"
        if case.reason_prefix:
            assert result.stderr.startswith(expected), result.stderr
            assert result.stderr.count("\n") == 1 and result.stderr.endswith(")\n")
        else:
            assert result.stderr == expected + "\n"
        assert _listing(out) == []
    assert _listing(corpus) == before  # no temp file beside the inputs, nothing deleted


def test_every_corpus_case_is_checked_through_the_loader(corpus):
    """The same expectations one level down, including the cases the CLI test skips."""
    for case in CASES:
        path = corpus / case.name
        if not os.path.lexists(path):
            continue
        warnings: list[str] = []
        if case.reason is None:
            assert load_image(path, notes=warnings).shape == case.size[::-1], case.name
            assert warnings == list(case.warnings), case.name
        else:
            with pytest.raises(ImageReadError) as caught:
                load_image(path, notes=warnings)
            assert caught.value.path == str(path)
            if case.reason_prefix:
                assert caught.value.reason.startswith(case.reason), case.name
            else:
                assert caught.value.reason == case.reason, case.name


@pytest.mark.skipif(not POSIX, reason="needs FIFOs")
def test_a_fifo_is_refused_without_hanging(corpus, tmp_path):
    fifo = corpus / "fifo.png"
    done = run_convcli("apply", "-k", "blur", fifo, tmp_path / "o.png", timeout=30)
    assert done.returncode == 1
    assert done.stderr == f"convcli: error: {fifo}: {BY_NAME['fifo.png'].reason}\n"
    assert _listing(tmp_path) == []


def test_hostile_files_in_one_real_run(corpus, tmp_path):
    """Exit 1, one line per bad file, the good files still written, no traceback."""
    names = ["eps-named.png", "header-only-bomb.png", "bad-data-crc.png", "rgb.jpg", "text.png"]
    done = run_convcli("apply", "-q", "-k", "sharpen", *(corpus / n for n in names), tmp_path)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"convcli: error: {corpus / n}: {BY_NAME[n].reason}" for n in names if n != "rgb.jpg"
    ]
    assert _listing(tmp_path) == ["rgb.png"]


def test_usage_errors_come_before_any_input_is_opened(corpus, tmp_path):
    """Exit 2 with a FIFO among the inputs: nothing is read, nothing is created."""
    out = tmp_path / "new-folder"
    inputs = [corpus / "rgb.jpg", corpus / "fifo.png"] if POSIX else [corpus / "rgb.jpg"]
    for bad in (["-k", "nope"], ["-k", "blur", "--max-pixels", "0"], ["-k", "blur", "-s", "20000"]):
        done = run_convcli("apply", *bad, *inputs, out, timeout=30)
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr
        assert not out.exists()


def test_max_pixels_lets_a_bigger_header_through_to_the_decoder(corpus, tmp_path):
    """Raising --max-pixels moves the limit; the header-only file then fails to decode."""
    source = corpus / "header-over-max-pixels.png"
    result = CliRunner().invoke(
        cli, ["apply", "-k", "blur", "--max-pixels", "100000000", str(source), str(tmp_path / "o")]
    )
    assert result.exit_code == 1
    assert result.stderr.startswith(f"convcli: error: {source}: corrupt image data (")
    assert _listing(tmp_path) == []


def test_the_whole_corpus_as_one_folder(corpus, tmp_path):
    """A folder input: every bad file is one line, every good one is written, nothing hangs.

    Entries that are not regular files (the FIFO, the broken links) are not
    images of the folder: the batch planner leaves them out without opening them.
    """
    out = tmp_path / "out"
    name = "{stem}.{ext}.png"
    done = run_convcli("apply", "-q", "-k", "blur", "-p", "same", "--name", name, corpus, out)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    bad = [c for c in CASES if c.reason and c.through_cli and not c.posix_only]
    assert len(lines) == len(bad)
    for case in bad:
        prefix = f"convcli: error: {corpus / case.name}: "
        (line,) = [line for line in lines if line.startswith(prefix)]
        reason = line[len(prefix) :]
        assert reason.startswith(case.reason) if case.reason_prefix else reason == case.reason
    written = _listing(out)
    assert len(written) == sum(1 for c in CASES if c.reason is None)
    assert not [entry for entry in written if entry.startswith(".")]


def _npy_bytes(array) -> bytes:
    import io

    import numpy as np

    out = io.BytesIO()
    np.save(out, np.asarray(array), allow_pickle=True)
    return out.getvalue()


def _bad_kernels(folder):
    """Bad kernels of every kind issue 6 lists: (spec given to -k, what it is)."""
    import numpy as np

    files = {
        "nan.json": b"[[1, NaN], [0, 1]]",
        "bool.json": b"[[true, 0], [0, 1]]",
        "string.json": b'[["1", 0], [0, 1]]',
        "underscore.txt": b"1_0 0\n0 1\n",
        "arabic.txt": "\u0661 0\n0 1\n".encode(),
        "utf16.txt": "1 0\n0 1\n".encode("utf-16"),
        "huge-value.txt": b"1e300 0\n0 1\n",
        "too-big.txt": b"1 " * (600 * 1024),
        "pickled.npy": _npy_bytes(np.array([[object()]], dtype=object)),
        "three-d.npy": _npy_bytes(np.zeros((2, 2, 2))),
        "complex.npy": _npy_bytes(np.zeros((2, 2), complex)),
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    specs = [str(folder / name) for name in files]
    specs += ["1_0, 2", "\u0661, 2", "nan, 1", "inf, 1", "__import__('os').system('true')"]
    specs += ["1/0, 1", ";".join(["1"] * 300)]
    return specs


def test_bad_kernels_are_usage_errors_before_any_input_is_opened(corpus, tmp_path):
    from convcli import KernelError, parse_kernel

    folder = tmp_path / "kernels"
    folder.mkdir()
    out = tmp_path / "out"
    for spec in _bad_kernels(folder):
        with pytest.raises(KernelError) as caught:
            parse_kernel(spec)
        result = CliRunner().invoke(cli, ["apply", "-k", spec, str(corpus / "rgb.jpg"), str(out)])
        assert result.exit_code == 2, (spec, result.output)
        assert "Traceback" not in result.output
        assert str(caught.value) in " ".join(result.stderr.split()), spec
        assert not out.exists()


@pytest.mark.skipif(not POSIX, reason="needs FIFOs")
def test_a_bad_kernel_with_a_fifo_input_exits_2_without_hanging(corpus, tmp_path):
    done = run_convcli("apply", "-k", "nan, 1", corpus / "fifo.png", tmp_path / "o", timeout=30)
    assert done.returncode == 2
    assert _listing(tmp_path) == []
