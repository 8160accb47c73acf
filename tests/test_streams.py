"""stdout and stderr as pipelines use them: readers that leave, encodings that are not UTF-8."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from convcli.cli import streams

from .terminal import console_script

pytestmark = pytest.mark.slow


def photos(folder, count, size=(200, 150)):
    folder.mkdir()
    rng = np.random.default_rng(5)
    for i in range(count):
        pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"p{i:02d}.jpg")
    return folder


def convcli(*args, cwd, env=None, **kwargs):
    environment = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1", **(env or {})}
    return subprocess.Popen([console_script(), *map(str, args)], cwd=cwd, env=environment, **kwargs)


def test_a_reader_that_closes_the_pipe_stops_the_run_with_141(tmp_path):
    """`convcli apply --json ... | head -c 10`: one line, 141, finished outputs kept."""
    photos(tmp_path / "photos", 40)
    process = convcli(
        "apply", "-k", "blur", "--json", "photos/", "out/",
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout.read(10) == b'{"options"'
    process.stdout.close()  # as `head -c 10` does once it has its bytes
    stderr = process.stderr.read().decode()
    process.stderr.close()
    assert process.wait(timeout=60) == 141, stderr
    assert "Traceback" not in stderr and "Exception ignored" not in stderr
    notes = [line for line in stderr.splitlines() if line.startswith("convcli:")]
    assert notes == ["convcli: stopped: stdout was closed by the program reading it"]
    assert "interrupted:" in stderr and "not run" in stderr  # the usual summary follows
    written = sorted((tmp_path / "out").iterdir())
    assert 0 < len(written) < 40
    assert not [p for p in written if p.suffix != ".png"]  # no temporary file left
    for path in written:
        with Image.open(path) as image:
            image.load()  # whole


@pytest.mark.parametrize("command", [["kernels"], ["--help"], ["apply", "--help"], ["--version"]])
def test_printing_into_a_closed_pipe_exits_141_in_silence(tmp_path, command):
    process = convcli(*command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()  # gone before the first byte
    stderr = process.stderr.read().decode()
    process.stderr.close()
    assert process.wait(timeout=60) == 141, stderr
    assert stderr == ""


class _Pipe(io.TextIOWrapper):
    """A text stdout over a real pipe, for write_stdout's os.write loop."""


def test_write_stdout_keeps_writing_after_short_writes(monkeypatch):
    read, write = os.pipe()
    stdout = open(write, "w", encoding="utf-8")  # noqa: SIM115
    monkeypatch.setattr(sys, "stdout", stdout)
    real_write = os.write
    calls = []

    def short(fd, data):  # a pipe may take part of a large write and say so
        calls.append(len(data))
        return real_write(fd, bytes(data[:7]))

    monkeypatch.setattr(streams.os, "write", short)
    try:
        streams.write_stdout("x" * 20 + "é→")
        monkeypatch.setattr(streams.os, "write", real_write)
        stdout.close()
        got = b""
        while chunk := os.read(read, 100):
            got += chunk
    finally:
        os.close(read)
    assert got.decode() == "x" * 20 + "é→"
    assert len(calls) == 4  # 25 bytes, 7 at a time


def test_write_stdout_raises_stdout_closed_when_the_reader_goes_mid_write(monkeypatch):
    read, write = os.pipe()
    stdout = open(write, "w", encoding="utf-8")  # noqa: SIM115
    monkeypatch.setattr(sys, "stdout", stdout)
    real_write = os.write
    taken = []

    def closing(fd, data):
        if not taken:  # the first call is accepted in part, then the reader leaves
            taken.append(real_write(fd, bytes(data[:5])))
            os.close(read)
            return taken[0]
        return real_write(fd, data)

    monkeypatch.setattr(streams.os, "write", closing)
    try:
        with pytest.raises(streams.StdoutClosed):
            streams.write_stdout(b"0123456789" * 10)
    finally:
        monkeypatch.setattr(streams.os, "write", real_write)
        streams.discard_stdout()
        stdout.close()
    assert taken == [5]


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_every_command_works_on_a_stream_that_is_not_utf8(tmp_path, encoding):
    """`PYTHONIOENCODING=ascii convcli kernels blur` crashed with UnicodeEncodeError."""
    photos(tmp_path / "photos", 2, size=(40, 30))
    (tmp_path / "émile.jpg").write_bytes((tmp_path / "photos" / "p00.jpg").read_bytes())
    env = {"PYTHONIOENCODING": encoding}
    runs = [
        (["kernels"], 0),
        (["kernels", "blur"], 0),
        (["kernels", "gaussian:sigma=3"], 0),
        (["kernels", "unsharp"], 0),
        (["--help"], 0),
        (["apply", "--help"], 0),
        (["gallery", "--help"], 0),
        (["apply", "-k", "blur", "photos/p00.jpg", "one.png"], 0),
        (["apply", "-k", "blur", "photos/", "out/"], 0),
        (["apply", "-k", "blur", "émile.jpg", "e.png"], 0),
        (["apply", "-k", "blur", "missing-é.jpg", "m.png"], 1),
        (["apply", "-k", "nope", "photos/p00.jpg", "n.png"], 2),
        (["gallery", "-k", "blur", "photos/p00.jpg", "g.png"], 0),
    ]
    for args, status in runs:
        process = convcli(*args, cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE)  # fmt: skip
        out, err = process.communicate(timeout=60)
        text = (out + err).decode(encoding)  # every byte is of that encoding
        assert process.returncode == status, (args, text)
        assert "internal error" not in text and "Traceback" not in text, (args, text)
        if args == ["kernels"]:
            widths = {len(line) for line in out.decode(encoding).splitlines() if "|" in line}
            assert len(widths) <= 2, out.decode(encoding)  # the table's borders line up
            assert "^T" in text
        if args[-1] == "one.png":
            assert err.decode(encoding).startswith("ok photos/p00.jpg (40x30) -> one.png")
        if args[-1] == "e.png" and encoding == "ascii":
            assert "\\xe9mile.jpg" in text  # escaped, not dropped
        if args[-1] == "e.png" and encoding == "latin-1":
            assert "émile.jpg" in text


def test_the_fallbacks_are_ascii_and_every_symbol_convcli_prints_has_one():
    import pathlib

    for symbol, fallback in streams.FALLBACKS.items():
        assert fallback.isascii() and symbol != fallback
    source = pathlib.Path(streams.__file__).parent
    for path in source.glob("*.py"):
        if path.name == "streams.py":
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            stripped = line.strip()
            if stripped.startswith(("#", '"""')) or not any(ord(c) > 127 for c in line):
                continue
            if "print" in line or "append" in line or 'f"' in line or "help=" in line:
                for char in {c for c in line if ord(c) > 127}:
                    assert char in streams.FALLBACKS, (path.name, line)
