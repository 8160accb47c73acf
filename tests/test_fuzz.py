"""Fuzzing: random bytes and mutated valid files into the loader, random text into
the kernel parser. The only outcomes allowed are a result or a ``ConvcliError``:
no other exception, no Python warning (pytest turns those into errors), no hang.

``make test`` runs a bounded number of examples; ``make fuzz`` runs many more
(``CONVCLI_FUZZ_EXAMPLES``, default 2000 there).
"""

from __future__ import annotations

import io
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from convcli import ConvcliError, Kernel, kernels, load_image, parse_kernel

from .make_corpus import SEEDS

EXAMPLES = int(os.environ.get("CONVCLI_FUZZ_EXAMPLES", "120"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,  # a shared 2-core machine: no timing in correctness tests
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SMALL_LIMIT = 1 << 20  # pixels: keeps a mutated header from asking for a big allocation


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


def _load(path, **kwargs) -> None:
    warnings: list[str] = []
    try:
        image = load_image(path, max_pixels=SMALL_LIMIT, notes=warnings, **kwargs)
    except ConvcliError as exc:
        assert exc.path == str(path)
        assert exc.reason and "\n" not in exc.reason
        return
    assert image.size > 0
    if kwargs.get("color"):
        assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] in (3, 4)
    else:
        assert image.ndim == 2 and image.dtype in (np.uint8, np.float64)
    assert all(isinstance(w, str) and "\n" not in w for w in warnings)


@st.composite
def mutated(draw) -> bytes:
    """A valid seed file with a few byte flips, overwrites, cuts, insertions or deletions."""
    data = bytearray(SEEDS[draw(st.sampled_from(sorted(SEEDS)))])
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            break
        op = draw(st.sampled_from(["flip", "set", "truncate", "insert", "delete", "int"]))
        at = draw(st.integers(0, len(data) - 1))
        if op == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "set":
            data[at] = draw(st.integers(0, 255))
        elif op == "truncate":
            del data[at:]
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif op == "delete":
            del data[at : at + draw(st.integers(1, 16))]
        else:  # an interesting integer over a length or a dimension field
            value = draw(st.sampled_from([0, 1, 0x7F, 0xFF, 0x7FFF, 0xFFFF, 0x7FFFFFFF]))
            data[at : at + 4] = value.to_bytes(4, draw(st.sampled_from(["big", "little"])))
    return bytes(data)


@FUZZ
@given(data=st.binary(max_size=512))
def test_random_bytes_into_the_loader(scratch, data):
    path = scratch / "random.png"
    path.write_bytes(data)
    _load(path)


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_every_seed_loads(scratch, name):
    path = scratch / f"seed-{name}"
    path.write_bytes(SEEDS[name])
    assert load_image(path).ndim == 2


@FUZZ
@given(data=mutated(), how=st.sampled_from([{}, {"color": True}, {"wide": True}]))
def test_mutated_images_into_the_loader(scratch, data, how):
    path = scratch / "mutated.img"
    path.write_bytes(data)
    _load(path, **how)


def _parse(spec: str) -> None:
    try:
        kernel = parse_kernel(spec)
    except ConvcliError as exc:
        assert str(exc)
        return
    assert isinstance(kernel, Kernel)
    assert kernel.weights.ndim == 2 and kernel.weights.size > 0
    assert np.isfinite(kernel.weights).all()


_SPEC_ALPHABET = st.sampled_from(list("0123456789-+.,;:=/ eE_xX\t\n()[]{}abcdefgimnoprsuwzN"))
_FAMILY = st.sampled_from(["gaussian", "box", "unsharp", "laplacian", "sobel", "motion", "disk"])


@FUZZ
@given(
    spec=st.one_of(
        st.text(max_size=60),
        st.text(_SPEC_ALPHABET, max_size=60),
        st.builds("{}:{}".format, _FAMILY, st.text(_SPEC_ALPHABET, max_size=40)),
    )
)
def test_random_text_into_parse_kernel(spec):
    _parse(spec)


def _npy(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    np.save(out, array)
    return out.getvalue()


_KERNEL_SEEDS = {
    ".npy": _npy(np.arange(9.0).reshape(3, 3)),
    ".json": b'{"weights": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]], "scale": 1}',
    ".txt": b"# sharpen\n0 -1 0\n-1 5 -1\n0 -1 0\n",
    ".mat": b"3 3 1 0\n0 -1 0\n-1 5 -1\n0 -1 0\n",
}
_NASTY = [b"NaN", b"1e999", b"-0", b"1_0", "\u0663".encode(), b"true", b'"x"', b"1/0", b"9" * 40]
_NASTY += [b"[[", b"]]", b"'|O'", b"(3, 3, 3)", b"(0,)", b"\xef\xbb\xbf", b"\xff\xfe"]


@st.composite
def kernel_file(draw) -> tuple[str, bytes]:
    """Random bytes, or a valid kernel file of each kind with a few nasty edits."""
    suffix = draw(st.sampled_from([*sorted(_KERNEL_SEEDS), ".kernel"]))
    if suffix not in _KERNEL_SEEDS or draw(st.booleans()):
        return suffix, draw(st.binary(max_size=400))
    data = bytearray(_KERNEL_SEEDS[suffix])
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        op = draw(st.integers(0, 3))
        if op == 0:
            data[at] = draw(st.integers(0, 255))
        elif op == 1:
            del data[at:]
        elif op == 2:
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        else:
            data[at : at + 1] = draw(st.sampled_from(_NASTY))
    return suffix, bytes(data)


_NPY = _KERNEL_SEEDS[".npy"]


@pytest.mark.skipif(
    not hasattr(kernels, "load_kernel_file"), reason="kernels.py has no kernel files yet"
)
@FUZZ
@given(case=kernel_file())
# Found by this fuzzer: numpy's header parser raised tokenize.TokenError, and
# warned (a Python warning) about a header it had to re-parse as Python 2's.
@example(case=(".npy", _NPY.replace(b"(3, 3)", b"(3, 3\x00", 1)))
@example(case=(".npy", _NPY.replace(b"} ", b"}\n", 1)))
def test_random_and_mutated_kernel_files(scratch, case):
    suffix, data = case
    path = scratch / f"kernel{suffix}"
    path.write_bytes(data)
    try:
        kernel = kernels.load_kernel_file(path)
    except ConvcliError:
        return
    assert np.isfinite(kernel.weights).all() and kernel.weights.ndim == 2
