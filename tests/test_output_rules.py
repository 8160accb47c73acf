"""The output rules, each decided once: formats, targets, temporary files.

The CLI, the batch planner, the pipeline and the writer all ask the same
functions, so the same mistake gives the same error type and words wherever
it is caught.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from convcli import OutputError
from convcli.imageio import save_image, save_sheet
from convcli.imageio.atomic import sweep_temporaries, temporary_files, write_atomically
from convcli.imageio.formats import OUTPUT_FORMATS, output_format
from convcli.imageio.targets import check_target, compare_path, exists_error

from .helpers import modules_loaded


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("o", "PNG"), ("o.PNG", "PNG"), ("o.npy", "NPY"), ("o.tif", "TIFF"), ("o.TIFF", "TIFF"),
     ("o.webp", "WEBP")],
)  # fmt: skip
def test_every_extension_has_one_encoder(name, fmt):
    assert output_format(Path(name)) == fmt
    assert OUTPUT_FORMATS[Path(name).suffix.lower()] == fmt


@pytest.mark.parametrize(
    ("name", "depth", "color", "reason"),
    [
        ("o.gif", 8, False, "unknown output format '.gif'; use .png, .jpg, .tif, .webp or .npy"),
        ("o.webp", 16, False, "WebP has no 16-bit format; use .png or .tif"),
        ("o.png", 16, True, "16-bit output is grayscale only"),
        ("o.tif", 16, True, "16-bit output is grayscale only"),
    ],
)
def test_the_writer_refuses_what_the_planner_refuses_with_the_same_error(
    tmp_path, name, depth, color, reason
):
    target = tmp_path / name
    with pytest.raises(OutputError) as planned:
        output_format(target, depth=depth, color=color)
    array = np.zeros((2, 2, 3) if color else (2, 2))
    with pytest.raises(OutputError) as written:
        save_image(array, target, depth=depth)
    assert str(planned.value) == str(written.value)
    assert planned.value.reason.startswith(reason)
    assert list(tmp_path.iterdir()) == []


def test_sixteen_bits_are_allowed_where_the_format_holds_them():
    assert output_format(Path("o.png"), depth=16) == "PNG"
    assert output_format(Path("o.tif"), depth=16) == "TIFF"
    assert output_format(Path("o.npy"), depth=16, color=True) == "NPY"


def test_an_impossible_depth_is_a_programmer_error():
    with pytest.raises(ValueError, match="depth must be one of"):
        output_format(Path("o.png"), depth=12)


def test_one_message_for_an_existing_output_wherever_it_is_caught(tmp_path, gray_png):
    target = tmp_path / "o.png"
    save_image(np.zeros((2, 2)), target)
    expected = str(exists_error(target))
    assert expected.endswith("o.png: already exists (use --overwrite to replace it)")
    refusals = [
        lambda: check_target(gray_png, target, overwrite=False),
        lambda: save_image(np.zeros((2, 2)), target),
        lambda: save_sheet(np.zeros((2, 2, 3), np.uint8), target),
        lambda: write_atomically(target, lambda handle: None, overwrite=False),
    ]
    for refuse in refusals:
        with pytest.raises(OutputError) as caught:
            refuse()
        assert str(caught.value) == expected


def test_compare_path_sits_beside_the_output(tmp_path):
    assert compare_path(tmp_path / "a.b.npy") == tmp_path / "a.b.compare.png"


def test_temporary_files_are_found_and_swept_only_for_their_target(tmp_path):
    long_name = "é" * 120 + ".png"  # its temporary file keeps only a prefix of the name
    ours = []
    for name in ("o.png", long_name):
        target = tmp_path / name

        def leave_behind(handle, target=target):
            ours.extend(temporary_files(target))  # the writer's own file, mid-write
            raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            write_atomically(target, leave_behind, overwrite=False)
    assert len(ours) == 2
    assert list(tmp_path.iterdir()) == []  # the writer cleaned up after itself

    others = [".o.png.txt", "o.png.1234.tmp", ".other.png.0123abcd.tmp", ".o.png..tmp"]
    for name in others:
        (tmp_path / name).write_bytes(b"not ours")
    for path in ours:
        path.write_bytes(b"a killed writer's")
    (tmp_path / ".o.png.feedf00d.tmp").mkdir()  # a folder is never swept
    assert sorted(temporary_files(tmp_path / "o.png")) == [p for p in ours if "o.png" in p.name]
    sweep_temporaries(tmp_path / "o.png")
    sweep_temporaries(tmp_path / long_name)
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted([*others, ".o.png.feedf00d.tmp"])


def test_sweeping_a_folder_that_is_gone_is_quiet(tmp_path):
    sweep_temporaries(tmp_path / "gone" / "o.png")
    assert temporary_files(tmp_path / "gone" / "o.png") == []


def test_the_output_rules_need_no_pillow():
    plain = ["convcli.imageio", "convcli.imageio.formats", "convcli.imageio.targets",
             "convcli.imageio.atomic", "convcli.batch", "convcli.pipeline"]  # fmt: skip
    assert modules_loaded(["PIL"], imports=plain) == []
