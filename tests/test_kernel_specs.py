"""Every --kernel spec form, from real files in tmp_path, including the bad ones."""

from __future__ import annotations

import json
import math
import os
import re
import shlex
import textwrap

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convcli import KERNELS, Kernel, KernelError, parse_kernel
from convcli.kernels import FAMILIES, MAX_FILE_BYTES, MAX_SIDE, prepare

SHARPEN = [[0, -1, 0], [-1, 5, -1], [0, -1, 0]]


def error(spec) -> str:
    with pytest.raises(KernelError) as info:
        parse_kernel(str(spec))
    return str(info.value)


# --- parameterised built-ins -------------------------------------------------------


@pytest.mark.parametrize(("sigma", "side"), [(0.5, 5), (1, 7), (2, 13), (1.2, 9)])
def test_gaussian_side_defaults_to_six_sigma_plus_one(sigma, side):
    kernel = parse_kernel(f"gaussian:sigma={sigma}")
    assert kernel.shape == (side, side) == (2 * math.ceil(3 * sigma) + 1,) * 2
    assert kernel.weights.sum() == pytest.approx(1, abs=1e-12)
    np.testing.assert_allclose(kernel.weights, kernel.weights.T)
    np.testing.assert_allclose(kernel.weights, kernel.weights[::-1, ::-1])
    assert kernel.weights.argmax() == side * side // 2
    assert kernel.name == f"gaussian:sigma={sigma:g},size={side}"


def test_gaussian_explicit_size_and_spaces():
    kernel = parse_kernel(" Gaussian: sigma=2 , size=9 ")
    assert kernel.shape == (9, 9)
    assert kernel.weights.sum() == pytest.approx(1, abs=1e-12)
    ratio = kernel.weights[4, 5] / kernel.weights[4, 4]
    assert ratio == pytest.approx(math.exp(-1 / 8))


def test_box_laplacian_unsharp():
    np.testing.assert_array_equal(parse_kernel("box:size=4").weights, np.full((4, 4), 1 / 16))
    np.testing.assert_array_equal(parse_kernel("box").weights, KERNELS["box"].weights)
    eight = parse_kernel("laplacian:neighbours=8").weights
    assert eight.tolist() == [[1, 1, 1], [1, -8, 1], [1, 1, 1]]
    assert (
        parse_kernel("laplacian:neighbors=4").weights.tolist()
        == KERNELS["laplacian"].weights.tolist()
    )
    unsharp = parse_kernel("unsharp:sigma=1,amount=0.5")
    blur = parse_kernel("gaussian:sigma=1").weights
    identity = np.zeros_like(blur)
    identity[3, 3] = 1
    np.testing.assert_allclose(unsharp.weights, identity + 0.5 * (identity - blur))
    assert unsharp.weights.sum() == pytest.approx(1)


def test_family_name_alone_uses_the_defaults():
    assert parse_kernel("gaussian").name == "gaussian:sigma=1,size=7"
    assert parse_kernel("unsharp").name == "unsharp:sigma=1,amount=1,size=7"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("gaussian:sigma=0", "gaussian: sigma must be > 0 and <= 40, got 0"),
        ("gaussian:sigma=-1", "gaussian: sigma must be > 0 and <= 40, got -1"),
        ("gaussian:sigma=nan", "gaussian: sigma must be a number, got 'nan'"),
        ("gaussian:sigma=1_0", "gaussian: sigma must be a number, got '1_0'"),
        ("gaussian:sigma=2,size=4", "gaussian: size must be odd, got 4"),
        ("gaussian:sigma=2,size=9.0", "gaussian: size must be an integer, got '9.0'"),
        ("gaussian:sigma=2,sigma=3", "gaussian: sigma given twice"),
        ("gaussian:radius=2", "gaussian: unknown parameter 'radius'; expected sigma, size"),
        ("gaussian:sigma", "gaussian: expected key=value, got 'sigma'"),
        ("box:size=256", "box: size must be >= 1 and <= 255, got 256"),
        ("box:size=0", "box: size must be >= 1 and <= 255, got 0"),
        ("laplacian:neighbours=6", "laplacian: neighbours must be 4 or 8, got 6"),
        ("gausian:sigma=2", "unknown parameterised kernel 'gausian'; did you mean gaussian"),
    ],
)
def test_bad_parameters(spec, message):
    assert error(spec).startswith(message)


def test_every_family_documents_its_parameters():
    for family in FAMILIES.values():
        assert family.description and family.source
        assert parse_kernel(family.example).name.startswith(family.name)
        for p in family.params:
            text = p.describe()
            assert text.startswith(f"{p.name}: ") and "default" in text


# --- inline matrices ----------------------------------------------------------------


@pytest.mark.parametrize(
    "spec",
    ["0,-1,0; -1,5,-1; 0,-1,0", "0 -1 0;-1 5 -1;0 -1 0", " 0, -1, 0 ;\t-1 5 -1; 0 -1 0 ",
     "0 -1 0\n-1 5 -1\n0 -1 0"],
)  # fmt: skip
def test_inline_matrix_forms(spec):
    kernel = parse_kernel(spec)
    assert kernel.weights.tolist() == SHARPEN
    assert kernel.warnings == ()


def test_inline_numbers_fractions_and_scientific():
    kernel = parse_kernel("1/16, 2/16, 1/16; 1e-1, -2.5E+1, .5; +3, -1/4, 0.")
    expected = [[1 / 16, 1 / 8, 1 / 16], [0.1, -25, 0.5], [3, -0.25, 0]]
    assert kernel.weights.tolist() == expected
    assert parse_kernel("1,2,1").shape == (1, 3)
    assert parse_kernel("2").weights.tolist() == [[2]]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("1,2;3", "inline kernel: row 2 has 1 value, expected 2"),
        ("1,,2", "inline kernel, row 1: empty value (two commas in a row?)"),
        ("1_0", "inline kernel, row 1: '1_0' is not a number"),
        ("١,2", "inline kernel, row 1: '١' is not a number"),
        ("1,２", "inline kernel, row 1: '２' is not a number"),
        ("1,0x10", "inline kernel, row 1: '0x10' is not a number"),
        ("nan, 1", "inline kernel, row 1: NaN and infinity are not allowed, got 'nan'"),
        ("1; -inf", "inline kernel, row 2: NaN and infinity are not allowed, got '-inf'"),
        ("1e7", "inline kernel, row 1: 1e7 is too large (the limit is 1e6 in magnitude)"),
        ("1e999", "inline kernel, row 1: 1e999 is too large (the limit is 1e6 in magnitude)"),
        ("1/0", "inline kernel, row 1: division by zero in '1/0'"),
        ("1;", "inline kernel, row 2: empty value (two commas in a row?)"),
        ("__import__('os')", "inline kernel, row 1: "),
    ],
)
def test_bad_inline_matrices(spec, message):
    assert error(spec).startswith(message)


def test_all_zero_kernel_is_allowed_with_a_warning():
    kernel = parse_kernel("0,0;0,0")
    assert not kernel.weights.any()
    assert kernel.warnings == (
        "inline kernel: kernel is all zeros; the result is flat (only offsets remain)",
    )


def test_too_wide_inline_matrix():
    spec = ",".join(["1"] * (MAX_SIDE + 1))
    assert error(spec) == "inline kernel: kernel is 1x256, larger than the 255x255 maximum"
    assert parse_kernel(",".join(["1"] * MAX_SIDE)).shape == (1, MAX_SIDE)


# --- text files ------------------------------------------------------------------------


def write(tmp_path, name, content) -> str:
    path = tmp_path / name
    if isinstance(content, str):
        content = content.encode()
    path.write_bytes(content)
    return str(path)


@pytest.mark.parametrize("name", ["k.txt", "k.csv", "kernel", "K.TXT"])
def test_text_file_with_comments_blank_lines_and_mixed_separators(tmp_path, name):
    path = write(
        tmp_path,
        name,
        "# my sharpen\n\n 0\t-1, 0   # top\n-1 5 -1\n\n0,-1,0\n# end\n",
    )
    kernel = parse_kernel(path)
    assert kernel.weights.tolist() == SHARPEN
    assert kernel.name == name
    assert kernel.source.endswith(path)


def test_text_file_crlf_bom_fractions_scientific(tmp_path):
    content = "\ufeff1/16 2/16 1/16\r\n2/16 4/16 2/16\r\n6.25e-2 1.25E-1 0.0625\r\n"
    kernel = parse_kernel(write(tmp_path, "blur.txt", content.encode("utf-8")))
    np.testing.assert_array_equal(kernel.weights, KERNELS["blur"].weights)


def test_text_file_with_non_ascii_comment_is_fine(tmp_path):
    path = write(tmp_path, "k.txt", "# Schärfen — ☺\n1 2\n")
    assert parse_kernel(path).weights.tolist() == [[1, 2]]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("1 2 3\n4 5 6\n7 8\n", "k.txt:3: row has 2 values, expected 3"),
        (
            "# only comments\n\n",
            "k.txt: empty kernel file (no numbers, only blank or comment lines)",
        ),
        ("", "k.txt: empty kernel file (no numbers, only blank or comment lines)"),
        ("1 2\n3 abc\n", "k.txt:2: 'abc' is not a number"),
        ("1 2\n\n3 NaN\n", "k.txt:3: NaN and infinity are not allowed, got 'NaN'"),
        ("1 2\n3 Infinity\n", "k.txt:2: NaN and infinity are not allowed, got 'Infinity'"),
        ("1 2\n3 2000000\n", "k.txt:2: 2000000 is too large (the limit is 1e6 in magnitude)"),
        ("1 1_000\n", "k.txt:1: '1_000' is not a number"),
        ("1 ٣\n", "k.txt:1: '٣' is not a number"),
        ("1\u00a02\n", "k.txt:1: '1\\xa02' is not a number"),
        ("1 2/0\n", "k.txt:1: division by zero in '2/0'"),
        ("1 eval('2')\n", "k.txt:1: \"eval('2')\" is not a number"),
        ("1,2,\n", "k.txt:1: empty value (two commas in a row?)"),
        (b"1 2\n\xff\xfe 3\n", "k.txt:2: not UTF-8 text (byte 0xff)"),
        ("1 2\n".encode("utf-16"), "k.txt: is UTF-16 text; save it as UTF-8"),
        ("1 2\n".encode("latin-1") + "é".encode("latin-1"), "k.txt:2: not UTF-8 text (byte 0xe9)"),
    ],
)
def test_bad_text_files(tmp_path, content, message):
    path = write(tmp_path, "k.txt", content)
    assert error(path) == f"{tmp_path}{os.sep}{message}"


def test_too_many_rows_in_a_text_file(tmp_path):
    path = write(tmp_path, "k.txt", "1\n" * (MAX_SIDE + 1))
    assert error(path) == f"{path}: kernel is 256x1, larger than the 255x255 maximum"


def test_kernel_file_size_limit_is_checked_before_reading(tmp_path):
    path = tmp_path / "big.txt"
    with open(path, "wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)
    assert (
        error(path)
        == f"{path}: is {MAX_FILE_BYTES + 1} bytes; kernel files are limited to 1048576 (1 MiB)"
    )


def test_missing_and_odd_kernel_paths(tmp_path):
    assert error(tmp_path / "nope.txt") == f"{tmp_path / 'nope.txt'}: no such kernel file"
    assert error(tmp_path / "sub/nope") == f"{tmp_path / 'sub/nope'}: no such kernel file"
    assert error(tmp_path) == f"{tmp_path}: not a regular file"
    link = tmp_path / "dangling.txt"
    link.symlink_to(tmp_path / "gone.txt")
    assert error(link) == f"{link}: no such kernel file"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "k.txt"
    os.mkfifo(fifo)
    assert error(fifo) == f"{fifo}: not a regular file"


# --- libvips .mat ------------------------------------------------------------------------


def test_vips_matrix_with_scale_and_offset(tmp_path):
    path = write(tmp_path, "sharpen.mat", "3 3 4 128\n-1 -1 -1\n-1 16 -1\n-1 -1 -1\n")
    kernel = parse_kernel(path)
    assert kernel.weights.tolist() == [[-1, -1, -1], [-1, 16, -1], [-1, -1, -1]]
    assert (kernel.scale, kernel.offset) == (4, 128)
    plain = parse_kernel(write(tmp_path, "plain.mat", "2 1\n1 2\n"))
    assert (plain.weights.tolist(), plain.scale, plain.offset) == ([[1, 2]], 1, 0)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("3 3\n1 1 1\n1 1 1\n", "k.mat: has 2 rows, expected 3 (from the header)"),
        ("2 2\n1 1\n1 1 1\n", "k.mat:3: row has 3 values, expected 2 (from the header)"),
        ("3\n1 1 1\n", "k.mat:1: header must be 'width height [scale [offset]]', got '3'"),
        ("3 x\n1 1 1\n", "k.mat:1: width and height must be positive integers, got '3 x'"),
        ("1 1 0\n1\n", "k.mat:1: scale must not be 0"),
        ("300 1\n", "k.mat:1: 300x1 is larger than the 255x255 maximum"),
        ("", "k.mat: empty matrix file (expected 'width height [scale [offset]]')"),
    ],
)
def test_bad_vips_matrices(tmp_path, content, message):
    assert error(write(tmp_path, "k.mat", content)) == f"{tmp_path}{os.sep}{message}"


# --- JSON ---------------------------------------------------------------------------------


def test_json_list_of_rows_and_object(tmp_path):
    plain = parse_kernel(write(tmp_path, "a.json", json.dumps(SHARPEN)))
    assert plain.weights.tolist() == SHARPEN and plain.name == "a.json"
    doc = {"kernel": [[1, 2, 1], [2, 4, 2], [1, 2, 1]], "scale": 16, "offset": 0.5,
           "name": "my blur"}  # fmt: skip
    kernel = parse_kernel(write(tmp_path, "b.json", "\ufeff" + json.dumps(doc)))
    assert (kernel.name, kernel.scale, kernel.offset) == ("my blur", 16, 0.5)
    assert kernel.weights.sum() == 16


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[[1, NaN]]", "k.json: NaN and infinity are not allowed, got NaN"),
        ("[[1, -Infinity]]", "k.json: NaN and infinity are not allowed, got -Infinity"),
        ("[[1, true]]", "k.json: row 1 value 2 is a boolean, not a number"),
        ('[[1, "2"]]', "k.json: row 1 value 2 is a string, not a number"),
        ("[[1, null]]", "k.json: row 1 value 2 is null, not a number"),
        (
            "[[[1]]]",
            "k.json: row 1 value 1 is a list, not a number (a kernel has exactly 2 dimensions)",
        ),
        ("[1, 2, 1]", "k.json: a kernel is a list of rows, e.g. [[1, 2, 1]]"),
        ("[]", "k.json: a kernel is a list of rows"),
        ("[[]]", "k.json: empty kernel"),
        ("[[1, 2], [3]]", "k.json: row 2 has 1 value, expected 2"),
        (
            "[[1, 1e400]]",
            "k.json: row 1 value 2 (inf) is too large (the limit is 1e6 in magnitude)",
        ),
        ("[[1, 10000000]]", "k.json: row 1 value 2 is too large (the limit is 1e6 in magnitude)"),
        ("[[1, 2]\n,\n[3 4]]", "k.json:3: invalid JSON: Expecting ',' delimiter (column 4)"),
        (
            '{"kernel": [[1]], "scael": 2}',
            "k.json: unknown key 'scael'; expected kernel, scale, offset, name",
        ),
        ('{"kernel": [[1]], "scale": 0}', "k.json: scale must not be 0"),
        ('{"kernel": [[1]], "scale": "2"}', "k.json: scale is a string, not a number"),
        ('{"scale": 2}', 'k.json: an object needs a "kernel" key holding the list of rows'),
        ('{"kernel": [[1]], "kernel": [[2]]}', "k.json: key 'kernel' appears twice"),
        ('{"kernel": [[1]], "name": 3}', 'k.json: "name" must be a non-empty string'),
        ("[" * 100000, "k.json: invalid JSON: too deeply nested or a number too long"),
    ],
)
def test_bad_json(tmp_path, content, message):
    assert error(write(tmp_path, "k.json", content)).startswith(f"{tmp_path}{os.sep}{message}")


# --- .npy ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "dtype", [np.float64, np.float32, np.float16, np.int8, np.uint16, np.int64]
)
def test_npy_real_dtypes(tmp_path, dtype):
    path = tmp_path / "k.npy"
    np.save(path, np.array(SHARPEN).astype(dtype) if dtype != np.uint16 else np.eye(3, dtype=dtype))
    kernel = parse_kernel(str(path))
    expected = np.eye(3) if dtype == np.uint16 else SHARPEN
    assert kernel.weights.tolist() == np.asarray(expected, dtype=np.float64).tolist()


@pytest.mark.parametrize(
    ("dtype", "kept"),
    [
        (np.float32, np.float32),
        (np.float16, np.float32),
        (">f4", np.float32),  # big-endian single: still single, in native order
        (np.float64, np.float64),
        (np.int16, np.float64),
    ],
)
def test_npy_weights_keep_single_precision(tmp_path, dtype, kept):
    """A float32 (or float16) .npy stays float32: the engine picks its precision from it."""
    path = tmp_path / "k.npy"
    source = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / (16 if dtype != np.int16 else 1)
    np.save(path, source.astype(dtype))
    kernel = parse_kernel(str(path))
    assert kernel.weights.dtype == kept
    np.testing.assert_array_equal(kernel.weights, source)  # every value is exact in float16


def test_kernel_weights_dtype_follows_the_source():
    single = np.array([[0.1, 0.2]], dtype=np.float32)
    kernel = Kernel("single", single, "float32 in")
    assert kernel.weights.dtype == np.float32 and not kernel.weights.flags.writeable
    np.testing.assert_array_equal(kernel.weights, single)
    assert kernel.weights is not single  # a copy: the caller's array stays writable
    assert single.flags.writeable
    assert Kernel("f16", single.astype(np.float16), "").weights.dtype == np.float32
    for source in ([[1, 2]], [[0.1, 0.2]], np.array([[1, 2]]), single.astype(np.float64)):
        assert Kernel("double", source, "").weights.dtype == np.float64
    assert Kernel("double", [[1, 2]], "").shape == (1, 2)


def test_prepare_keeps_single_precision():
    kernel = Kernel("single", np.array([[1, 2], [3, 2]], dtype=np.float32), "")
    normalized = prepare(kernel, normalize=True, flip=True)
    assert normalized.weights.dtype == np.float32
    assert normalized.weights.tolist() == [[0.25, 0.375], [0.25, 0.125]]


def test_npy_fortran_order(tmp_path):
    path = tmp_path / "k.npy"
    array = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    np.save(path, array)
    assert parse_kernel(str(path)).weights.tolist() == array.tolist()


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.ones((2, 2, 2)), "holds a 3-D array of shape (2, 2, 2); a kernel is 2-D"),
        (np.ones(3), "holds a 1-D array of shape (3,); a kernel is 2-D"),
        (np.ones((0, 3)), "holds an empty array of shape (0, 3)"),
        (np.ones((2, 2), complex), "holds complex128 values; a kernel holds real numbers"),
        (np.ones((2, 2), bool), "holds bool values; a kernel holds real numbers"),
        (np.array([["a"]]), "holds <U1 values; a kernel holds real numbers"),
        (np.array([[1.0, np.nan]]), "row 1, column 2 is nan; values must be finite"),
        (np.array([[1.0], [-2e6]]), "row 2, column 1 is -2e+06; values must be finite"),
        (np.ones((256, 1), np.uint8), "holds a 256x1 array, larger than the 255x255 maximum"),
    ],
)
def test_bad_npy(tmp_path, array, message):
    path = tmp_path / "k.npy"
    np.save(path, array)
    assert error(path).startswith(f"{path}: {message}")


def test_pickled_npy_is_never_loaded(tmp_path):
    path = tmp_path / "k.npy"
    np.save(path, np.array([[1, object()]], dtype=object), allow_pickle=True)
    assert error(path) == f"{path}: holds Python objects; pickled data is never loaded"


def test_npy_shape_is_checked_from_the_header_and_truncation_caught(tmp_path):
    path = tmp_path / "k.npy"
    np.save(path, np.ones((3, 3)))
    data = path.read_bytes()
    path.write_bytes(data[:-8])
    assert error(path) == f"{path}: is truncated: the data is shorter than its header says"
    path.write_bytes(b"\x93NUMPY\x01\x00" + b"garbage")
    assert error(path).startswith(f"{path}: not a NumPy .npy file")
    path.write_bytes(b"not numpy at all")
    assert error(path).startswith(f"{path}: not a NumPy .npy file")


# --- arithmetic -----------------------------------------------------------------------------


def test_prepare_normalize_and_flip():
    kernel = parse_kernel("1, 2; 3, 4")
    assert prepare(kernel) is kernel
    assert prepare(kernel, normalize=True).weights.tolist() == [[0.1, 0.2], [0.3, 0.4]]
    assert prepare(kernel, flip=True).weights.tolist() == [[4, 3], [2, 1]]
    both = prepare(kernel, normalize=True, flip=True)
    assert both.weights.tolist() == [[0.4, 0.3], [0.2, 0.1]]
    assert both.name == "inline (normalized) (flipped)"


def test_normalize_replaces_a_file_scale_and_refuses_zero_sum(tmp_path):
    kernel = parse_kernel(write(tmp_path, "k.mat", "2 1 10 5\n1 3\n"))
    normal = prepare(kernel, normalize=True)
    assert (normal.weights.tolist(), normal.scale, normal.offset) == ([[0.25, 0.75]], 1, 5)
    with pytest.raises(KernelError, match="cannot normalize 'outline': its weights sum to 0"):
        prepare(KERNELS["outline"], normalize=True)
    with pytest.raises(KernelError, match="sum to 0"):
        prepare(parse_kernel("0.1, 0.2, -0.3"), normalize=True)


# --- robustness -------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=40))
def test_any_inline_text_is_a_kernel_or_a_kernel_error(text):
    try:
        kernel = parse_kernel(text)
    except KernelError:
        return
    assert kernel.weights.ndim == 2 and np.isfinite(kernel.weights).all()


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=200), st.sampled_from(["k.txt", "k.mat", "k.json", "k.npy"]))
def test_any_file_bytes_are_a_kernel_or_a_kernel_error(tmp_path_factory, data, name):
    path = tmp_path_factory.mktemp("fuzz") / name
    path.write_bytes(data)
    try:
        kernel = parse_kernel(str(path))
    except KernelError:
        return
    assert kernel.weights.ndim == 2 and np.isfinite(kernel.weights).all()
    assert np.abs(kernel.weights).max() <= 1e6


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.integers(-1000, 1000), min_size=3, max_size=3), min_size=1, max_size=5))
def test_text_json_and_inline_agree(tmp_path_factory, rows):
    folder = tmp_path_factory.mktemp("agree")
    (folder / "k.txt").write_text("\n".join(" ".join(map(str, r)) for r in rows))
    (folder / "k.json").write_text(json.dumps(rows))
    inline = "; ".join(",".join(map(str, r)) for r in rows)
    for spec in (folder / "k.txt", folder / "k.json", inline):
        assert parse_kernel(str(spec)).weights.tolist() == rows


# --- the README stays true -------------------------------------------------------------------

README = os.path.join(os.path.dirname(__file__), os.pardir, "README.md")


def _readme() -> str:
    with open(README, encoding="utf-8") as handle:
        return handle.read()


def test_every_kernel_spec_in_the_readme_parses():
    text = _readme()
    specs = [shlex.split(m)[0] for m in re.findall(r"`-k ([^`]+)`", text)]
    for line in re.findall(r"^\$ convcli (?:apply|gallery) (.*)$", text, re.M):
        words = shlex.split(line, comments=True)
        specs += [words[i + 1] for i, word in enumerate(words) if word in ("-k", "--kernel")]
    inline = [
        s for s in specs if os.path.splitext(s)[1] not in (".txt", ".csv", ".mat", ".json", ".npy")
    ]
    assert len(inline) >= 10
    for spec in inline:
        assert parse_kernel(spec).weights.ndim == 2, spec


def test_the_readme_kernel_file_examples_parse(tmp_path):
    blocks = re.findall(r"```text\n(.*?)```", _readme(), re.S)
    text_block, mat_block = (textwrap.dedent(b) for b in blocks[:2])
    blur = parse_kernel(write(tmp_path, "blur.txt", text_block))
    np.testing.assert_array_equal(blur.weights, KERNELS["blur"].weights)
    mat = parse_kernel(write(tmp_path, "blur.mat", mat_block))
    np.testing.assert_array_equal(mat.weights / mat.scale, KERNELS["blur"].weights)
    doc = re.search(r"`(\{\"kernel\".*?\})`", _readme()).group(1)
    named = parse_kernel(write(tmp_path, "k.json", doc))
    assert (named.name, named.scale) == ("my blur", 16)
