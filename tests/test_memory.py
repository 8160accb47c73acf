"""Memory stays bounded: one image's working set is a small multiple of its size.

The factors are stated in the README ("Safety"), in bytes per pixel of the
grayscale image, measured with tracemalloc (which sees NumPy's allocations,
not Pillow's decoded image): about 3 on the default 8-bit path (the engine's
fused uint8 bands), about 25 on the float path (--range, --depth 16, chains),
about three times that with --color. The 10000x10000 runs are opt-in
(``make huge``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest
from PIL import Image

from convcli import KERNELS, load_image
from convcli.pipeline import Options, process

# Measured (2000x1500): plain 2.9, float 21-25, colour 57. The slack is for strategies to come.
LIMITS = {"plain": 8, "float": 40, "color": 120}
PATHS = {"plain": {}, "float": {"depth": 16}, "color": {"color": True}}


@pytest.mark.parametrize("mode", ["L", "RGBA", "I;16"])
@pytest.mark.parametrize("path", sorted(PATHS))
def test_working_set_is_a_small_multiple_of_the_image(tmp_path, mode, path):
    width, height = 1000, 600
    rng = np.random.default_rng(1)
    if mode == "I;16":
        image = Image.fromarray(rng.integers(0, 65536, (height, width), dtype=np.uint16))
    else:
        rgba = rng.integers(0, 256, (height, width, 4), dtype=np.uint8)
        image = Image.fromarray(rgba, "RGBA").convert(mode)
    source = tmp_path / "in.png"
    image.save(source, compress_level=1)
    del image
    options = Options.build(KERNELS["gaussian5"], padding="same", **PATHS[path])
    tracemalloc.start()
    try:
        process(source, tmp_path / "out.png", options)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # 16-bit input: the loader's float32 copy (4) and its uint16 view (2) come on top.
    extra = 7 if mode == "I;16" else 0
    assert peak / (width * height) <= LIMITS[path] + extra


@pytest.mark.huge
@pytest.mark.skipif(not os.environ.get("CONVCLI_HUGE"), reason="set CONVCLI_HUGE=1 (make huge)")
@pytest.mark.parametrize(("path", "extra"), [("plain", []), ("float", ["--range", "rescale"])])
def test_a_10000x10000_image_is_processed_not_crashed(tmp_path, path, extra):
    import resource  # POSIX only, like this test

    side = 10_000
    stripes = (np.arange(side) // 100 % 2).astype(np.uint8)
    source = tmp_path / "huge.png"
    Image.fromarray((stripes[:, None] ^ stripes[None, :]) * 255, "L").save(source)
    out = tmp_path / "out.png"
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    command = [sys.executable, "-m", "convcli", "apply", "-q", "-k", "sharpen", "-p", "same"]
    command += [*extra, "--max-pixels", str(side * side), str(source), str(out)]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    assert load_image(out, max_pixels=side * side).shape == (side, side)
    if peak_kib > before:  # Linux: kilobytes of the largest child so far
        per_pixel = peak_kib * 1024 / side**2
        print(f"\n{path}: peak RSS {peak_kib / 2**20:.2f} GiB = {per_pixel:.1f} bytes/pixel")
        assert per_pixel <= LIMITS[path]
