"""The CNN-layer paths against their own baselines and TensorFlow, measured in one run.

    python benchmarks/bench_layer.py           # everything (about a minute)
    python benchmarks/bench_layer.py --quick   # smaller images, fewer repeats

Targets (issue 11), each a ratio of two times taken in this run:

- stride: ``convolve`` at stride 2 takes at most 0.4x its stride-1 time
  (4096² float32, 3x3, ``same``): only the strided outputs are computed (the
  two timed in turn, so both see the same load). Its floor is reading every
  input pixel, which stride 2 still does: a quarter of the outputs, but
  about a third of stride 1's memory traffic;
- bank: ``convcli.conv2d`` on a 224x224 RGB image, 3x3x3x64 ``same`` and
  ResNet's first layer 7x7x3x64 stride 2, each at most 3x ``tf.nn.conv2d``
  on CPU (when TensorFlow is installed: ``pip install '.[parity]'``);
- pool: 2x2 max pooling of a 4096² float32 image at most 2x
  ``tf.nn.max_pool2d``.

Every result is checked against the reference before it is timed. Times are
the best of several runs. Not a test: nothing asserts a speed.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import tracemalloc
from collections.abc import Callable

import numpy as np

import convcli
from convcli.engine import choose_strategy, convolve, convolve_uint8

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
try:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import tensorflow as tf
except ImportError:  # the optional parity extra
    tf = None


def best_time(function: Callable[[], object], *, budget: float = 1.0, most: int = 30) -> float:
    """Best of several runs: at least 3, more while within ``budget`` seconds."""
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < 3 or (time.perf_counter() - start < budget and len(times) < most):
        begin = time.perf_counter()
        function()
        times.append(time.perf_counter() - begin)
    return min(times)


def paired_best(
    first: Callable[[], object], second: Callable[[], object], *, budget: float = 1.0
) -> tuple[float, float]:
    """Best of each, the two run in turn: a ratio of two times taken under the same
    load (on a busy machine, timing one then the other skews it either way)."""
    times: tuple[list[float], list[float]] = ([], [])
    start = time.perf_counter()
    while len(times[0]) < 5 or (time.perf_counter() - start < 2 * budget and len(times[0]) < 40):
        for function, into in zip((first, second), times, strict=True):
            begin = time.perf_counter()
            function()
            into.append(time.perf_counter() - begin)
    return min(times[0]), min(times[1])


def line(label: str, ours: float, other: float, other_name: str, target: float) -> None:
    ratio = ours / other
    verdict = "meets" if ratio <= target else "MISSES"
    print(
        f"  {label:<44} {ours * 1e3:9.2f} ms  {other_name} {other * 1e3:9.2f} ms  "
        f"ratio {ratio:5.2f}  (target <= {target}: {verdict})"
    )


def stride_table(n: int, budget: float) -> None:
    print(f"\nStride 2 against stride 1, {n}x{n}, 3x3, padding same (same run):")
    rng = np.random.default_rng(0)
    image = rng.random((n, n), dtype=np.float32)
    pixels = (image * 255).astype(np.uint8)
    kernels = {
        "dense 3x3 (a learned filter)": rng.normal(size=(3, 3)),
        "sharpen (5 taps, 2 weights)": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], float),
        "box 3x3 (separable)": np.ones((3, 3)) / 9,
    }
    for name, kernel in kernels.items():
        for kind, data, function in (
            ("float32", image, convolve),
            ("uint8 fused", pixels, convolve_uint8),
        ):
            strided = function(data, kernel, padding="same", stride=2)
            # TensorFlow's same padding at stride 2 on an even side pads (0, 1), not
            # (1, 1): output i is centred on input 2i + 1, stride-1 output 2i + 1.
            check = function(data, kernel, padding="same")[1::2, 1::2]
            assert np.abs(strided.astype(float) - check.astype(float)).max() <= 1e-3 * 255

            def one(f=function, x=data, k=kernel) -> object:
                return f(x, k, padding="same")

            def two(f=function, x=data, k=kernel) -> object:
                return f(x, k, padding="same", stride=2)

            t1, t2 = paired_best(one, two, budget=budget)
            strategy = choose_strategy(data.shape, kernel, "same", stride=2)
            line(f"{name}, {kind} [{strategy}]", t2, t1, "stride 1", 0.4)
    # Stride 2 still reads every input pixel; stride 1 at best copies the image
    # (a fresh result's first touch included): the ratio of those two is the floor.
    read, copy = paired_best(image.max, image.copy, budget=budget)
    print(
        f"  memory floor, float32: one read of the image {read * 1e3:.2f} ms, a copy "
        f"{copy * 1e3:.2f} ms: ratio {read / copy:.2f} (stride 2 at its floor over stride 1 at its)"
    )


def bank_table(budget: float) -> None:
    if tf is None:
        print("\nBanks: TensorFlow is not installed (pip install '.[parity]'): skipped")
        return
    print("\nA 224x224 RGB image through a 64-map bank, against tf.nn.conv2d (CPU):")
    rng = np.random.default_rng(1)
    image = rng.random((224, 224, 3), dtype=np.float32)
    for name, size, stride in (("3x3x3x64, same", 3, 1), ("7x7x3x64 stride 2 (ResNet)", 7, 2)):
        weights = rng.normal(size=(size, size, 3, 64)).astype(np.float32)
        ours = convcli.conv2d(image, weights, padding="same", stride=stride)
        batch, filters = tf.constant(image[None]), tf.constant(weights)

        def theirs(batch=batch, filters=filters, stride=stride) -> np.ndarray:
            return tf.nn.conv2d(batch, filters, stride, "SAME").numpy()[0]

        bound = (
            4
            * size
            * size
            * 3
            * np.finfo(np.float32).eps
            * np.abs(weights).sum(axis=(0, 1, 2)).max()
        )
        assert np.abs(ours - theirs()).max() <= bound
        mine = best_time(
            lambda w=weights, s=stride: convcli.conv2d(image, w, padding="same", stride=s),
            budget=budget,
        )
        line(name, mine, best_time(theirs, budget=budget), "TF", 3.0)


def pool_table(n: int, budget: float) -> None:
    if tf is None:
        print("\nPooling: TensorFlow is not installed: skipped")
        return
    print(f"\n2x2 max pooling of a {n}x{n} float32 image, against tf.nn.max_pool2d:")
    image = np.random.default_rng(2).random((n, n), dtype=np.float32)
    batch = tf.constant(image[None, :, :, None])

    def theirs() -> np.ndarray:
        return tf.nn.max_pool2d(batch, 2, 2, "VALID").numpy()[0, :, :, 0]

    assert np.array_equal(convcli.pool(image, "max"), theirs())
    mine = best_time(lambda: convcli.pool(image, "max"), budget=budget)
    line("max 2x2, valid", mine, best_time(theirs, budget=budget), "TF", 2.0)


def memory_line(height: int, width: int) -> None:
    """Peak memory (tracemalloc) of a 64-map bank: the output is most of it."""
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    weights = rng.normal(size=(3, 3, 3, 64)).astype(np.float32)
    tracemalloc.start()
    out = convcli.conv2d(image.astype(np.float32), weights, padding="same")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    extra = (peak - out.nbytes - image.size * 4) / 2**20
    print(
        f"\nMemory: 64-map bank on {width}x{height}: peak {peak / 2**20:.0f} MiB, of which "
        f"the float32 output {out.nbytes / 2**20:.0f} MiB and the float32 input "
        f"{image.size * 4 / 2**20:.0f} MiB; {extra:.1f} MiB beyond them (band buffers)"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller images, fewer repeats")
    args = parser.parse_args(argv)
    budget = 0.3 if args.quick else 1.5
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(
        f"convcli layer benchmark: Python {sys.version.split()[0]}, NumPy {np.__version__}, "
        f"TensorFlow {tf.__version__ if tf else 'not installed'}, {platform.machine()}, "
        f"{cpus} usable CPUs"
    )
    stride_table(1024 if args.quick else 4096, budget)
    bank_table(budget)
    pool_table(1024 if args.quick else 4096, budget)
    memory_line(750, 1000) if args.quick else memory_line(3000, 4000)


if __name__ == "__main__":
    main()
