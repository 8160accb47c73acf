"""Memory stays bounded: one image's working set is a small multiple of its size.

The factor is stated in the README ("Safety"): about 25 bytes per pixel of the
grayscale image at the peak (the engine's float64 padded input, output and
scratch), measured here with tracemalloc, which sees NumPy's allocations.
The 10000x10000 run is opt-in (``make huge``): it needs about 2.5 GB.
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

BYTES_PER_PIXEL_LIMIT = 40  # measured: 25; the slack is for engine strategies to come


@pytest.mark.parametrize("mode", ["L", "RGBA", "I;16"])
def test_working_set_is_a_small_multiple_of_the_image(tmp_path, mode):
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
    options = Options(kernel=KERNELS["gaussian5"], padding="same")
    tracemalloc.start()
    try:
        process(source, tmp_path / "out.png", options)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak / (width * height) <= BYTES_PER_PIXEL_LIMIT


@pytest.mark.huge
@pytest.mark.skipif(not os.environ.get("CONVCLI_HUGE"), reason="set CONVCLI_HUGE=1 (make huge)")
def test_a_10000x10000_image_is_processed_not_crashed(tmp_path):
    import resource  # POSIX only, like this test

    side = 10_000
    stripes = (np.arange(side) // 100 % 2).astype(np.uint8)
    source = tmp_path / "huge.png"
    Image.fromarray((stripes[:, None] ^ stripes[None, :]) * 255, "L").save(source)
    out = tmp_path / "out.png"
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    command = [sys.executable, "-m", "convcli", "apply", "-q", "-k", "sharpen", "-p", "same"]
    command += ["--max-pixels", str(side * side), str(source), str(out)]
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
        print(f"\npeak RSS {peak_kib / 2**20:.2f} GiB = {per_pixel:.1f} bytes per pixel")
        assert per_pixel <= BYTES_PER_PIXEL_LIMIT
