"""apply and gallery as a CNN layer: banks, bias, combine, activation, pool, stride, maps out.

Each result is compared with the extended oracle (tests/oracle.py) on the
pixels convcli loaded, with the tolerances stated there: a float32 bank works
in float32 (as TensorFlow; bank_tolerance in float32), a float64 one and 2-D
kernels in float64; max pooling is exact.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image
from safetensors.numpy import save_file

from convcli import conv2d, load_image
from convcli.cli import cli
from convcli.imageio import to_uint8

from . import oracle


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture
def photo(tmp_path):
    rng = np.random.default_rng(11)
    path = tmp_path / "photo.png"
    Image.fromarray(rng.integers(0, 256, (21, 26, 3), dtype=np.uint8), "RGB").save(path)
    return path


@pytest.fixture
def bank(tmp_path):
    rng = np.random.default_rng(12)
    weights = rng.normal(size=(3, 3, 3, 5)).astype(np.float32)
    bias = rng.normal(size=5).astype(np.float32)
    np.save(tmp_path / "conv1.npy", weights)
    np.save(tmp_path / "b.npy", bias)
    return weights, bias


def test_the_issues_example_writes_keras_conv_relu_maxpool_maps(tmp_path, photo, bank):
    weights, bias = bank
    args = ["-k", tmp_path / "conv1.npy", "--bias", tmp_path / "b.npy"]
    args += ["--activation", "relu", "--pool", "max"]
    result = run("apply", *args, photo, tmp_path / "maps.npy")
    assert result.exit_code == 0, result.output
    got = np.load(tmp_path / "maps.npy")
    pixels = load_image(photo, color=True)
    expected = oracle.pool_reference(
        oracle.negative_to_zero(oracle.conv2d_reference(pixels, weights, bias)), "max"
    )
    assert got.shape == expected.shape == (9, 12, 5)
    assert got.dtype == np.float32
    atol = oracle.bank_tolerance(pixels, weights, np.float32)
    np.testing.assert_allclose(got, expected, rtol=0, atol=atol)
    # The same to a folder: one 8-bit PNG per map, named {stem}-{map:02d}.png.
    result = run("apply", *args, photo, tmp_path / "maps")
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "maps").iterdir())
    assert names == [f"photo-{m:02d}.png" for m in range(5)]
    with Image.open(tmp_path / "maps" / "photo-03.png") as written:
        assert written.mode == "L"
        # float32 sums may round the other way within the tolerance: at most 1 level off.
        diff = np.asarray(written).astype(int) - to_uint8(expected[:, :, 3]).astype(int)
        assert np.abs(diff).max() <= 1 and np.mean(diff != 0) < 0.01


def test_oihw_layout_reads_pytorch_weights(tmp_path, photo, bank):
    weights, _ = bank
    np.save(tmp_path / "torch.npy", weights.transpose(3, 2, 0, 1))
    out = tmp_path / "t.npy"
    result = run(
        "apply", "-k", tmp_path / "torch.npy", "--layout", "oihw", "-p", "same", photo, out
    )
    assert result.exit_code == 0, result.output
    pixels = load_image(photo, color=True)
    expected = oracle.conv2d_reference(pixels, weights, padding="same")
    atol = oracle.bank_tolerance(pixels, weights, np.float32)
    np.testing.assert_allclose(np.load(out), expected, rtol=0, atol=atol)


def test_safetensors_member_and_gray_bank(tmp_path, photo):
    rng = np.random.default_rng(13)
    gray = rng.normal(size=(2, 4, 1, 3))
    save_file({"conv1.weight": gray, "fc.bias": np.zeros(3)}, str(tmp_path / "m.safetensors"))
    out = tmp_path / "g.npy"
    spec = f"{tmp_path / 'm.safetensors'}#conv1.weight"
    result = run("apply", "-k", spec, "--stride", "2,1", "--dilation", "1,2", photo, out)
    assert result.exit_code == 0, result.output
    pixels = load_image(photo)  # C_in 1: read as gray
    expected = oracle.conv2d_reference(pixels, gray, stride=(2, 1), dilation=(1, 2))
    np.testing.assert_allclose(np.load(out), expected, atol=oracle.bank_tolerance(pixels, gray))
    result = run("apply", "-k", tmp_path / "m.safetensors", photo, tmp_path / "x.npy")
    assert result.exit_code == 2
    assert "holds 2 arrays; pick one with #NAME: conv1.weight, fc.bias" in result.output


def test_combine_magnitude_is_the_gradient_magnitude(tmp_path, photo):
    out = tmp_path / "edges.npy"
    result = run("apply", "-k", "sobel-x", "-k", "sobel-y", "--combine", "magnitude", photo, out)
    assert result.exit_code == 0, result.output
    pixels = load_image(photo)
    gx = oracle.reference(pixels, [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])
    gy = oracle.reference(pixels, [[-1, -2, -1], [0, 0, 0], [1, 2, 1]])
    np.testing.assert_allclose(np.load(out), np.hypot(gx, gy), rtol=1e-12)
    for mode, reduce in (("max", np.maximum), ("min", np.minimum), ("sum", np.add)):
        out = tmp_path / f"{mode}.npy"
        result = run("apply", "-k", "sobel-x", "-k", "sobel-y", "--combine", mode, photo, out)
        assert result.exit_code == 0, result.output
        np.testing.assert_allclose(np.load(out), reduce(gx, gy), rtol=1e-12)


def test_stride_dilation_and_avg_pool_on_a_chain(tmp_path, photo):
    out = tmp_path / "s.npy"
    args = ["-k", "blur", "-k", "sharpen", "-p", "same", "--stride", "2", "--dilation", "2"]
    result = run("apply", *args, "--pool", "avg:size=3,stride=2,padding=same", photo, out)
    assert result.exit_code == 0, result.output
    pixels = load_image(photo)
    blur = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16
    sharpen = np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]])
    step1 = oracle.strided_reference(pixels, blur, "same", stride=2, dilation=2)
    step2 = oracle.strided_reference(step1, sharpen, "same", stride=2, dilation=2)
    expected = oracle.pool_reference(step2, "avg", 3, 2, "same")
    np.testing.assert_allclose(np.load(out), expected, rtol=0, atol=1e-9)


def test_fused_8bit_path_keeps_the_stride(tmp_path, photo):
    out = tmp_path / "s.png"
    result = run("apply", "-k", "sharpen", "--stride", "3", "-p", "same", photo, out)
    assert result.exit_code == 0, result.output
    expected = oracle.strided_reference(load_image(photo), [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
                                        "same", stride=3)  # fmt: skip
    with Image.open(out) as written:
        np.testing.assert_array_equal(np.asarray(written), to_uint8(expected))


def test_json_gives_the_geometry(tmp_path):
    path = tmp_path / "six.png"
    Image.fromarray(np.zeros((6, 224), np.uint8)).save(path)
    result = run(
        "apply",
        "-k",
        "box:size=7",
        "-p",
        "same",
        "--stride",
        "2",
        "--json",
        path,
        tmp_path / "o.png",
    )
    assert result.exit_code == 0, result.output
    (entry,) = json.loads(result.stdout)["files"]
    assert entry["output_size"] == [112, 3]
    assert entry["pads"] == {"top": 2, "bottom": 3, "left": 2, "right": 3}
    assert (entry["stride"], entry["dilation"], entry["maps"]) == ([2, 2], [1, 1], 1)
    result = run(
        "apply", "-k", "box:size=7", "-p", "same", "--stride", "2", "-f", path, tmp_path / "o.png"
    )
    assert "(112x3)  box:size=7, stride 2,2, same (pads 2,3,2,3)," in result.stderr


def test_json_lists_every_map_file(tmp_path, photo, bank):
    result = run("apply", "-k", tmp_path / "conv1.npy", "--json", photo, f"{tmp_path}/out/")
    assert result.exit_code == 0, result.output
    (entry,) = json.loads(result.stdout)["files"]
    assert entry["maps"] == 5 and len(entry["outputs"]) == 5
    assert entry["outputs"][4].endswith("photo-04.png")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-k", "{dir}/conv1.npy", "IN", "{dir}/one.png"], "makes 5 maps: OUTPUT must be a folder"),
        (["-k", "{dir}/conv1.npy", "--name", "{{stem}}.png", "IN", "{dir}/o/"], "put {map} in"),
        (["-k", "{dir}/conv1.npy", "--bias", "1,2", "IN", "{dir}/o.npy"], "--bias has 2 values"),
        (["-k", "{dir}/odd.npy", "--layout", "oihw", "IN", "{dir}/o.npy"], "C_in=2"),
        (["-k", "{dir}/model.pt", "IN", "{dir}/o.npy"], "pickles, which convcli never loads"),
        (["-k", "{dir}/conv1.npy", "-k", "blur", "IN", "{dir}/o.npy"], "only be the last kernel"),
        (["-k", "sharpen", "--stride", "0", "IN", "{dir}/o.png"], "not a positive N"),
        (["-k", "sharpen", "--pool", "median", "IN", "{dir}/o.png"], "the pool is max or avg"),
        (["-k", "sharpen", "--pool", "max:size=0", "IN", "{dir}/o.png"], "size must be"),
        (["-k", "sobel-x", "-k", "box:size=5", "--combine", "max", "IN", "{dir}/o.png"],
         "one size"),
        (["-k", "{dir}/gray.npy", "--color", "IN", "{dir}/o.npy"], "drop --color"),
        (["-k", "{dir}/conv1.npy", "--bias", "{dir}/b2.npy", "IN", "{dir}/o.npy"], "1-D"),
        (["-k", "{dir}/conv1.npy", "--compare", "IN", "{dir}/o/"], "convcli gallery"),
        (["-k", "{dir}/conv1.npy", "--flip", "IN", "{dir}/o.npy"], "a filter bank is applied as"),
        (["-k", "blur", "-k", "{dir}/conv1.npy", "--normalize", "IN", "{dir}/o.npy"],
         "--normalize changes 2-D kernels"),
        (["-k", "sobel-x", "-k", "sobel-y", "--combine", "maps", "--color", "IN", "{dir}/o.npy"],
         "o.npy: a .npy holds maps as (H, W, maps), one channel each; --color"),
    ],
)  # fmt: skip
def test_usage_errors_exit_2_with_one_line(tmp_path, photo, bank, args, message):
    np.save(tmp_path / "gray.npy", np.ones((3, 3, 1, 2)))
    np.save(tmp_path / "b2.npy", np.ones((5, 1)))
    np.save(tmp_path / "odd.npy", np.ones((2, 2, 3, 4)))
    (tmp_path / "model.pt").write_bytes(b"\x80\x04not really")
    argv = [str(a).replace("{dir}", str(tmp_path)).replace("IN", str(photo)) for a in args]
    argv = [a.replace("{{", "{").replace("}}", "}") for a in argv]
    result = run("apply", *argv)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "o.npy").exists() and not (tmp_path / "one.png").exists()


def test_gallery_draws_one_tile_per_map(tmp_path, photo, bank):
    out = tmp_path / "sheet.png"
    args = ["gallery", "-k", tmp_path / "conv1.npy", "--bias", tmp_path / "b.npy"]
    result = run(*args, "--activation", "relu", "--pool", "max", photo, out)
    assert result.exit_code == 0, result.output
    assert "and 5 tiles" in result.output
    with Image.open(out) as sheet:
        assert sheet.mode == "RGB"


def test_a_64_map_bank_to_npy_needs_the_output_plus_a_few_mib(tmp_path):
    """Memory is bounded by bands: float32 maps (the bank's precision), bias and ReLU
    in place, the .npy written from the array itself."""
    import tracemalloc

    from convcli.kernels.banks import load_bank
    from convcli.options import Options
    from convcli.pipeline import process

    rng = np.random.default_rng(14)
    Image.fromarray(rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)).save(tmp_path / "p.png")
    np.save(tmp_path / "bank.npy", rng.normal(size=(3, 3, 3, 64)).astype(np.float32))
    options = Options.build(
        load_bank(str(tmp_path / "bank.npy")), padding="same", bias=tuple(np.ones(64)),
        activation="relu", color=True,
    )  # fmt: skip
    tracemalloc.start()
    try:
        process(tmp_path / "p.png", tmp_path / "maps.npy", options)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    output = 240 * 320 * 64 * 4  # 18.75 MiB of float32
    assert np.load(tmp_path / "maps.npy").shape == (240, 320, 64)
    assert peak - output < 6 * 2**20, f"{(peak - output) / 2**20:.1f} MiB beyond the output"


def test_readme_section_stays_true():
    """The README's shape arithmetic and bank gallery: numbers from Geometry, files real."""
    import importlib.util
    from pathlib import Path

    from convcli.engine import Geometry

    root = Path(__file__).resolve().parent.parent
    text = (root / "README.md").read_text(encoding="utf-8")
    assert "### From the tutorial to a CNN layer" in text
    assert Geometry((3, 3), "valid", 2).output_shape((224, 224)) == (111, 111)
    assert Geometry((7, 7), "same", 2).pads((224, 224))[0] == (2, 3)
    assert Geometry((3, 3), "same", 2).pads((6, 6))[0] == (0, 1)
    assert Geometry((3, 3), "full", 1, 2).output_shape((224, 224)) == (228, 228)
    assert "](docs/first-layer.png)" in text and (root / "docs" / "first-layer.png").is_file()
    spec = importlib.util.spec_from_file_location("make_bank", root / "scripts" / "make_bank.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    np.testing.assert_array_equal(np.load(root / "docs" / "first-layer.npy"), module.first_layer())


def test_a_bank_of_one_filter_writes_one_image_as_apply_and_gallery(tmp_path, photo, bank):
    """One map is 2-D, as one kernel's result: a (3, 3, 3, 1) bank writes a gray PNG
    (and a tile), not an 'unexpected error' about an (H, W, 1) array."""
    weights = bank[0][..., :1]
    np.save(tmp_path / "one.npy", weights)
    result = run("apply", "-k", tmp_path / "one.npy", photo, tmp_path / "one.png")
    assert result.exit_code == 0, result.output
    assert "(1 map)" in result.output
    expected = oracle.conv2d_reference(load_image(photo, color=True), weights)[..., 0]
    with Image.open(tmp_path / "one.png") as written:
        got = np.asarray(written)
    assert got.shape == expected.shape == (19, 24)
    # float32 work (the bank's dtype): a pixel may round the other way, by 1
    assert np.abs(got.astype(int) - to_uint8(expected).astype(int)).max() <= 1
    npy = run("apply", "-k", tmp_path / "one.npy", "--combine", "max", photo, tmp_path / "o.npy")
    assert npy.exit_code == 0, npy.output
    assert np.load(tmp_path / "o.npy").shape == (19, 24)
    sheet = run("gallery", "-k", tmp_path / "one.npy", photo, tmp_path / "sheet.png")
    assert sheet.exit_code == 0, sheet.output
    assert "and 1 tile" in sheet.output


@pytest.mark.parametrize("mode", ["magnitude", "maps"])
def test_combine_with_one_kernel_is_a_usage_error(tmp_path, photo, mode):
    result = run("apply", "-k", "blur", "--combine", mode, photo, tmp_path / "o.png")
    assert result.exit_code == 2, result.output
    assert "needs several -k kernels" in result.output
    assert not (tmp_path / "o.png").exists()


def test_side_by_side_kernels_of_two_spans_are_refused_whatever_the_stride(tmp_path):
    """3x3 and 4x4 at stride 2 agree on even sizes only: refused up front, not an
    'unexpected error' on the first odd-sized image; with 'same' they always agree."""
    np.savetxt(tmp_path / "k4.txt", np.ones((4, 4)))
    image = tmp_path / "odd.png"
    Image.fromarray(np.full((41, 41), 9, np.uint8)).save(image)
    args = ["apply", "-k", "blur", "-k", tmp_path / "k4.txt", "--combine", "sum", "--stride", "2"]
    result = run(*args, image, tmp_path / "o.png")
    assert result.exit_code == 2, result.output
    assert "one size" in result.output
    same = run(*args, "-p", "same", image, tmp_path / "o.png")
    assert same.exit_code == 0, same.output
    with Image.open(tmp_path / "o.png") as written:
        assert written.size == (21, 21)


def test_a_pool_larger_than_the_result_names_the_pool_as_given(tmp_path):
    """Not 'result of kernel 2' (a count of steps) nor a max pool for an avg one: the
    advice is the user's own --pool with padding=same, and it works."""
    tiny = tmp_path / "tiny.png"
    Image.fromarray(np.full((5, 7), 100, np.uint8)).save(tiny)
    args = ["apply", "-k", "blur", "--bias", "1", "--pool", "avg:size=9x8,stride=2"]
    result = CliRunner().invoke(cli, [*args, str(tiny), str(tmp_path / "o.png")])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"convcli: error: {tiny}: the convolution's result is 5x3, smaller than the 8x9 "
        "pool: 'valid' leaves nothing (use --pool avg:size=9x8,stride=2,padding=same)"
    ]
    assert not (tmp_path / "o.png").exists()
    fixed = run(*args[:-1], "avg:size=9x8,stride=2,padding=same", tiny, tmp_path / "o.png")
    assert fixed.exit_code == 0, fixed.output


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("conv1.npy", "conv1.npy: a filter bank of shape (3, 3, 3, 5), not a 2-D kernel; "
         "see its maps with 'convcli gallery -k {dir}/conv1.npy IMAGE sheet.png'"),
        ("w.safetensors#conv1.weight", "a filter bank of shape (4, 3, 3, 3)"),
        ("w.safetensors", "holds 2 arrays; pick one with #NAME: conv1.bias, conv1.weight"),
        ("model.pt", ".pt files are pickles, which convcli never loads"),
    ],
)  # fmt: skip
def test_kernels_names_a_bank_or_a_pickle_for_what_it_is(tmp_path, bank, spec, message):
    """Not 'row 1: ... is not a number' or 'not UTF-8 text': kernels reads -k's specs."""
    weights = {"conv1.weight": np.ones((4, 3, 3, 3), np.float32), "conv1.bias": np.zeros(4)}
    save_file(weights, tmp_path / "w.safetensors")
    (tmp_path / "model.pt").write_bytes(b"\x80\x04not really")
    result = run("kernels", f"{tmp_path}/{spec}")
    assert result.exit_code == 2, result.output
    assert message.replace("{dir}", str(tmp_path)) in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("value_range", ["clip", "rescale"])
def test_maps_to_images_are_mapped_one_at_a_time(tmp_path, value_range):
    """Writing 64 maps as PNGs maps each as it is written: no rounded or rescaled
    copy of the whole (H, W, 64) stack on top of it (that doubled the memory)."""
    import tracemalloc

    from convcli.kernels.banks import load_bank
    from convcli.options import Options
    from convcli.pipeline import process

    rng = np.random.default_rng(15)
    Image.fromarray(rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)).save(tmp_path / "p.png")
    weights = rng.normal(size=(3, 3, 3, 64)).astype(np.float32)
    np.save(tmp_path / "bank.npy", weights)
    options = Options.build(
        load_bank(str(tmp_path / "bank.npy")), padding="same", color=True,
        output_range=value_range,
    )  # fmt: skip
    targets = tuple(tmp_path / f"m-{m:02d}.png" for m in range(64))
    tracemalloc.start()
    try:
        outcome = process(tmp_path / "p.png", targets[0], options, targets)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    output = 240 * 320 * 64 * 4  # 18.75 MiB of float32 maps
    assert peak - output < 6 * 2**20, f"{(peak - output) / 2**20:.1f} MiB beyond the maps"
    # the maps themselves (the layer's numbers are checked against the oracle above)
    maps = conv2d(load_image(tmp_path / "p.png", color=True), weights, padding="same")
    if value_range == "clip":  # the share of pixels clipped in any map, as before
        rounded = np.rint(maps)
        assert outcome.clipped == ((rounded < 0) | (rounded > 255)).any(axis=-1).mean()
    else:
        assert outcome.clipped == 0.0
        with Image.open(targets[5]) as written:  # each map stretched to its own range
            assert np.asarray(written).min() == 0 and np.asarray(written).max() == 255


def test_the_pool_help_says_where_it_runs_in_the_fixed_order():
    """Not 'applied last': --scale/--offset and --range come after the pool."""
    from convcli.cli.apply import apply
    from convcli.cli.gallery import gallery

    for command in (apply, gallery):
        (pool,) = [p for p in command.params if p.name == "pool"]
        assert "after --activation and before --scale/--offset" in str(pool.help)
        assert "last" not in str(pool.help)
