"""The engine against the tutorial's loop, SciPy and OpenCV, measured in one run.

    python benchmarks/bench_engine.py           # 224², 1024², 4096² (a few minutes)
    python benchmarks/bench_engine.py --quick   # 224² and 1024² only

Generates float32 images (uint8 for the tutorial's loop, as the tutorial
used) and times ``convcli.convolve(..., padding="same")`` (zero border, the
strategy the cost model picks) against ``scipy.ndimage.correlate``
(``mode="constant"``), OpenCV's ``filter2D`` (``BORDER_CONSTANT``) and, for
separable kernels, ``sepFilter2D``, when those are installed (``pip install
'.[bench]'``), and against a plain copy of the image: the memory floor.
Every result is checked against convcli's before it is timed. Times are the
best of several runs; ratios are taken within this run only. Not a test:
nothing asserts a speed.
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import sys
import time
import tracemalloc
from collections.abc import Callable

import numpy as np

from convcli.engine import choose_strategy, convolve, convolve_uint8

try:
    import scipy
    import scipy.ndimage
except ImportError:  # the optional bench extra
    scipy = None
try:
    import cv2
except ImportError:
    cv2 = None


def tutorial_convolve(img: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """The tutorial's loop, verbatim but for rectangular shapes (as tests/oracle.py)."""
    kh, kw = kernel.shape  # each axis its own size: the kernel need not be square
    tgt_h, tgt_w = img.shape[0] - kh + 1, img.shape[1] - kw + 1
    convolved_img = np.zeros(shape=(tgt_h, tgt_w))
    for i in range(tgt_h):
        for j in range(tgt_w):
            mat = img[i : i + kh, j : j + kw]
            convolved_img[i, j] = np.sum(np.multiply(mat, kernel))
    return convolved_img


def best_time(function: Callable[[], object], *, budget: float = 1.0, most: int = 20) -> float:
    """Best of several runs: at least 3, more while within ``budget`` seconds."""
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < 3 or (time.perf_counter() - start < budget and len(times) < most):
        begin = time.perf_counter()
        function()
        times.append(time.perf_counter() - begin)
    return min(times)


def gaussian(size: int) -> np.ndarray:
    line = np.exp(-0.5 * (np.arange(size) - size // 2) ** 2 / (size / 6) ** 2)
    line /= line.sum()
    return line


def gaussian32(size: int = 31, sigma: float = 5.0) -> np.ndarray:
    """OpenCV's own 1-D Gaussian in float32 (as a user's float32 ``.npy`` would hold)."""
    if cv2 is not None:
        return cv2.getGaussianKernel(size, sigma, ktype=cv2.CV_32F).ravel()
    x = np.arange(size) - (size - 1) / 2
    line = np.exp(-(x**2) / (2 * sigma**2))
    return (line / line.sum()).astype(np.float32)


def kernels() -> dict[str, tuple[np.ndarray, tuple[np.ndarray, np.ndarray] | None]]:
    """name -> (2-D weights, (column, row) if separable)."""
    rng = np.random.default_rng(0)
    g15, g31, f31 = gaussian(15), gaussian(31), gaussian32()
    return {
        "3x3 sharpen": (np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], float), None),
        "5x5 dense": (rng.normal(size=(5, 5)), None),
        "15x15 separable": (np.outer(g15, g15), (g15, g15)),
        "31x31 separable": (np.outer(g31, g31), (g31, g31)),
        # Weights in float32: separable by float32's precision, not float64's.
        "31x31 separable f32": (f31[:, None] @ f31[None, :], (f31, f31)),
        "31x31 dense": (rng.normal(size=(31, 31)) / 31, None),
    }


def machine() -> str:
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if "model name" in line)
    except (OSError, StopIteration):
        pass
    load = " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return (
        f"{os.cpu_count()} CPUs ({cpu}); numpy {np.__version__}; "
        f"scipy {scipy.__version__ if scipy else '-'}; OpenCV {cv2.__version__ if cv2 else '-'}; "
        f"Python {platform.python_version()}; load average {load}"
    )


def row(cells: list[str], widths: list[int]) -> str:
    return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"


def fmt_ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.2f}"


def fmt_ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def engine_table(sizes: list[int]) -> None:
    headers = ["size", "kernel", "strategy", "convcli ms", "copy ms", "scipy ms",
               "scipy/convcli", "filter2D ms", "convcli/filter2D", "sepFilter2D ms",
               "convcli/sep"]  # fmt: skip
    widths = [len(h) for h in headers]
    print(row(headers, widths))
    print(row(["-" * w for w in widths], widths))
    rng = np.random.default_rng(1)
    for n in sizes:
        image = (rng.random((n, n)) * 255).astype(np.float32)
        budget = 0.5 if n <= 1024 else 0.0  # 4096²: three runs each
        copy = best_time(image.copy, budget=budget)
        for name, (weights, parts) in kernels().items():
            cells = measure(image, name, weights, parts, budget)
            cells[4] = fmt_ms(copy)
            print(row(cells, widths), flush=True)


def measure(image: np.ndarray, name: str, weights, parts, budget: float) -> list[str]:
    """One table row: convcli, then each reference engine that is installed."""
    n = image.shape[0]
    mine = convolve(image, weights, padding="same")
    ours = best_time(lambda: convolve(image, weights, padding="same"), budget=budget)
    scipy_t = cv_t = sep_t = None
    k32 = weights.astype(np.float32)
    if scipy is not None and (n < 4096 or weights.size <= 25):
        got = scipy.ndimage.correlate(image, k32, mode="constant")
        _check(name, "scipy", got, mine, weights, image)
        scipy_t = best_time(
            lambda: scipy.ndimage.correlate(image, k32, mode="constant"), budget=budget
        )
    if cv2 is not None:
        got = cv2.filter2D(image, -1, k32, borderType=cv2.BORDER_CONSTANT)
        _check(name, "filter2D", got, mine, weights, image)
        cv_t = best_time(
            lambda: cv2.filter2D(image, -1, k32, borderType=cv2.BORDER_CONSTANT), budget=budget
        )
        if parts is not None:
            col, line = (p.astype(np.float32) for p in parts)
            got = cv2.sepFilter2D(image, -1, line, col, borderType=cv2.BORDER_CONSTANT)
            _check(name, "sepFilter2D", got, mine, weights, image)
            sep_t = best_time(
                lambda: cv2.sepFilter2D(image, -1, line, col, borderType=cv2.BORDER_CONSTANT),
                budget=budget,
            )
    return [
        f"{n}²",
        name,
        choose_strategy(image.shape, weights, "same"),
        fmt_ms(ours),
        "",
        fmt_ms(scipy_t),
        fmt_ratio(scipy_t / ours if scipy_t else None),
        fmt_ms(cv_t),
        fmt_ratio(ours / cv_t if cv_t else None),
        fmt_ms(sep_t),
        fmt_ratio(ours / sep_t if sep_t else None),
    ]


def _check(name: str, what: str, got: np.ndarray, mine: np.ndarray, weights, image) -> None:
    scale = float(np.abs(weights).sum()) * float(np.abs(image).max())
    error = float(np.abs(got.astype(np.float64) - mine).max())
    if error > 1e-4 * scale:
        sys.exit(f"{name}: {what} disagrees with convcli by {error:g}: benchmark invalid")


def tutorial_table() -> None:
    rng = np.random.default_rng(2)
    image = rng.integers(0, 256, (224, 224)).astype(np.uint8)
    sharpen = np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]])
    loop = best_time(lambda: tutorial_convolve(image, sharpen), budget=0.0)
    ours = best_time(lambda: convolve(image, sharpen), budget=1.0, most=200)
    fused = best_time(lambda: convolve_uint8(image, sharpen), budget=1.0, most=200)
    print(f"224x224 uint8, 3x3 sharpen, valid: tutorial loop {loop * 1000:.1f} ms; ")
    print(f"  convcli.convolve {ours * 1e6:.0f} µs ({loop / ours:,.0f}x the loop); ")
    print(f"  convolve_uint8 {fused * 1e6:.0f} µs ({loop / fused:,.0f}x the loop)")


def memory_line(n: int) -> None:
    image = np.random.default_rng(3).integers(0, 256, (n, n)).astype(np.uint8)
    sharpen = np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]])
    for label, function in (
        ("convolve_uint8", lambda: convolve_uint8(image, sharpen, padding="same")),
        ("convolve (float64 result)", lambda: convolve(image, sharpen, padding="same")),
    ):
        function()
        tracemalloc.start()
        result = function()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        extra = peak - result.nbytes
        print(
            f"{n}x{n} uint8, 3x3, same: {label}: peak {peak / 2**20:.1f} MiB, "
            f"{extra / 2**20:.2f} MiB beyond the {result.nbytes / 2**20:.0f} MiB result "
            f"(one float32 copy: {n * n * 4 / 2**20:.0f} MiB)"
        )


def compiled_table(n: int) -> None:
    """The direct strategy compiled (engine/_fused.c) and in NumPy, against filter2D."""
    import dataclasses

    from convcli.engine import cost, fused

    if not fused.available():
        print("compiled band loop: not built (no C compiler at install): NumPy only\n")
        return
    image = (np.random.default_rng(4).random((n, n)) * 255).astype(np.float32)
    copy = best_time(image.copy, budget=0.0)
    print(f"{n}² float32, same, direct strategy: compiled band loop vs NumPy's passes\n")
    print("| kernel | compiled ms | NumPy ms | NumPy / compiled | filter2D ms "
          "| compiled / filter2D | copy ms |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name in ("3x3 sharpen", "5x5 dense"):
        weights = kernels()[name][0]
        run = functools.partial(convolve, image, weights, padding="same", strategy="direct")
        compiled, numpy_t = compiled_and_numpy(run, cost, dataclasses)
        cv_t = None
        if cv2 is not None:
            k32 = weights.astype(np.float32)
            cv_t = best_time(
                functools.partial(cv2.filter2D, image, -1, k32, borderType=cv2.BORDER_CONSTANT),
                budget=1.0,
            )
        print(
            f"| {name} | {fmt_ms(compiled)} | {fmt_ms(numpy_t)} | {numpy_t / compiled:.1f}x "
            f"| {fmt_ms(cv_t)} | {fmt_ratio(compiled / cv_t if cv_t else None)} | {fmt_ms(copy)} |"
        )
    uint8_row(image, cost, dataclasses)
    print()
    breakdown_line(image)


def compiled_and_numpy(run, cost, dataclasses) -> tuple[float, float]:
    """Best times of ``run()`` through the compiled band loop and, with the cost
    model told there is none, through NumPy's passes."""
    compiled = best_time(run, budget=1.0)
    saved = cost.COSTS
    cost.COSTS = dataclasses.replace(saved, compiled=False)
    try:
        return compiled, best_time(run, budget=0.0)
    finally:
        cost.COSTS = saved


def uint8_row(image: np.ndarray, cost, dataclasses) -> None:
    """8-bit in, 8-bit out (the CLI's path): convolve_uint8, compiled (band loop and
    writer) and NumPy, against filter2D on the same uint8 image (it saturates too)."""
    pixels = image.astype(np.uint8)
    weights = kernels()["3x3 sharpen"][0]
    run = functools.partial(convolve_uint8, pixels, weights, padding="same")
    compiled, numpy_t = compiled_and_numpy(run, cost, dataclasses)
    cv_t = None
    if cv2 is not None:
        k32 = weights.astype(np.float32)
        theirs = functools.partial(cv2.filter2D, pixels, -1, k32, borderType=cv2.BORDER_CONSTANT)
        if np.abs(theirs().astype(int) - run().astype(int)).max() > 1:
            sys.exit("uint8 sharpen: filter2D disagrees with convcli by more than 1: invalid")
        cv_t = best_time(theirs, budget=1.0)
    print(
        f"| 3x3 sharpen, uint8 in and out | {fmt_ms(compiled)} | {fmt_ms(numpy_t)} "
        f"| {numpy_t / compiled:.1f}x | {fmt_ms(cv_t)} "
        f"| {fmt_ratio(compiled / cv_t if cv_t else None)} "
        f"| {fmt_ms(best_time(pixels.copy, budget=0.5))} |"
    )


def breakdown_line(image: np.ndarray) -> None:
    """Where a 3x3 at this size goes: the memory floor's parts, against both engines."""
    n = image.shape[0]
    weights = kernels()["3x3 sharpen"][0]
    fresh = best_time(lambda: np.empty(image.shape, image.dtype).fill(0), budget=0.5)
    read = best_time(image.max, budget=0.5)
    copy = best_time(image.copy, budget=0.5)
    ours = best_time(lambda: convolve(image, weights, padding="same"), budget=1.0)
    line = f"{n}² float32 3x3 sharpen: convcli {fmt_ms(ours)} ms"
    if cv2 is not None:
        k32 = weights.astype(np.float32)
        into = np.empty_like(image)
        cv_t = best_time(
            lambda: cv2.filter2D(image, -1, k32, borderType=cv2.BORDER_CONSTANT), budget=1.0
        )
        cv_into = best_time(
            lambda: cv2.filter2D(image, -1, k32, dst=into, borderType=cv2.BORDER_CONSTANT),
            budget=1.0,
        )
        line += f", filter2D {fmt_ms(cv_t)} ms ({fmt_ms(cv_into)} into a reused result)"
    print(
        f"{line}; the floor's parts: first touch of a fresh {image.nbytes >> 20} MiB result "
        f"{fmt_ms(fresh)} ms, one read of the image {fmt_ms(read)} ms, a copy {fmt_ms(copy)} ms\n"
    )


def answers_line() -> None:
    """No strategy changes the answer: the issue's NaN case and a big-endian image."""
    rng = np.random.default_rng(5)
    image = rng.random((600, 600))
    image[300, 300] = np.nan
    kernel = rng.normal(size=(31, 31))
    finite_choice = choose_strategy(image.shape, kernel, "same")
    counts = {
        s: int(np.isnan(convolve(image, kernel, padding="same", strategy=s)).sum())
        for s in ("auto", "direct", "separable", "fft")
    }
    swapped = (image * 0).astype(">f4")
    print(
        f"600², one NaN, 31x31 dense (auto picks {finite_choice} for a finite image): "
        f"NaN outputs by strategy {counts} (961 = 31², the windows over it); "
        f"'>f4' image -> {convolve(swapped, kernel).dtype} result\n"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the 4096² images")
    args = parser.parse_args(argv)
    print(f"machine: {machine()}\n")
    tutorial_table()
    print()
    engine_table([224, 1024] if args.quick else [224, 1024, 4096])
    print()
    compiled_table(1024 if args.quick else 4096)
    answers_line()
    memory_line(1024 if args.quick else 4096)


if __name__ == "__main__":
    main()
