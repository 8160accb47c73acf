"""Batch throughput: convcli's runner against a plain loop, measured in one run.

    python benchmarks/bench_batch.py            # 200 photo-like 1024x768 JPEGs
    python benchmarks/bench_batch.py --count 40 # quicker

Generates its own photos in a temporary folder, then filters them all with
grayscale + sharpen + ``same`` padding -> PNG four ways:

- ``plain loop``: what one would write by hand with the same libraries: open,
  ``ImageOps.grayscale``, ``convcli.convolve``, clip, ``Image.save`` with
  Pillow's defaults (PNG compression level 6), one image after another;
- ``convcli -j 1``: ``batch.plan`` + ``batch.run`` in this process;
- ``convcli -j N``: the same with N worker processes (N = the usable CPUs);
- and, image by image, convcli's own stages timed separately.

Prints images/s, ratios to the plain loop and to ``-j 1`` (all measured here,
now, on this machine: absolute numbers mean little, ratios a bit more), where
the time per image goes (decode, convert, convolve, encode) and the output
bytes. Checks that ``-j 1`` and ``-j N`` wrote identical bytes. Not a test:
nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageOps

from convcli import KERNELS, convolve
from convcli.batch import plan, run, usable_cpus
from convcli.options import Options


def make_photos(folder: Path, count: int, size: tuple[int, int] = (1024, 768)) -> list[Path]:
    """Photo-like JPEGs: soft gradients, shapes, texture and sensor noise."""
    width, height = size
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    paths = []
    for i in range(count):
        rng = np.random.default_rng(i)
        a, b, c = rng.uniform(0.2, 1.0, 3)
        base = np.stack(
            [
                90 + 80 * a * np.sin(x / (40 + 30 * b) + i),
                110 + 70 * b * np.cos(y / (50 + 20 * c)),
                80 + 60 * c * np.sin((x + y) / (70 + 25 * a)),
            ],
            axis=-1,
        )
        base += rng.normal(0, 8, (height, width, 1)).astype(np.float32)  # shared grain
        image = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8), "RGB")
        draw = ImageDraw.Draw(image)
        for _ in range(12):
            x0, y0 = rng.integers(0, width - 100), rng.integers(0, height - 100)
            w, h = rng.integers(30, 300, 2)
            colour = tuple(int(v) for v in rng.integers(0, 256, 3))
            shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
            shape((x0, y0, x0 + w, y0 + h), fill=colour, outline=(20, 20, 20))
        path = folder / f"photo{i:04d}.jpg"
        image.save(path, quality=90)
        paths.append(path)
    return paths


def plain_loop(paths: list[Path], out: Path, stages: dict[str, list[float]]) -> float:
    """The hand-written loop, timing each stage per image."""
    kernel = KERNELS["sharpen"].weights
    start = time.perf_counter()
    for path in paths:
        t0 = time.perf_counter()
        with Image.open(path) as image:
            image.load()
            t1 = time.perf_counter()
            gray = np.asarray(ImageOps.grayscale(image))
        t2 = time.perf_counter()
        result = convolve(gray, kernel, padding="same")
        t3 = time.perf_counter()
        pixels = np.clip(np.rint(result), 0, 255).astype(np.uint8)
        Image.fromarray(pixels).save(out / f"{path.stem}.png")
        t4 = time.perf_counter()
        for name, seconds in zip(stages, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            stages[name].append(seconds)
    return time.perf_counter() - start


def convcli_stages(paths: list[Path], out: Path, stages: dict[str, list[float]]) -> float:
    """convcli's own steps, one image after another, each timed.

    Decode and convert cannot be split inside ``load_image`` without reaching
    into it, so ``decode`` here is ``Image.open`` + ``load`` on the same file
    and ``convert`` is the rest of ``load_image`` (its checks, orientation,
    grayscale), by difference.
    """
    from convcli.imageio import load_image, save_image
    from convcli.pipeline import filter_image, map_range

    options = Options.build(KERNELS["sharpen"], padding="same")
    start = time.perf_counter()
    for path in paths:
        t0 = time.perf_counter()
        with Image.open(path) as image:
            image.load()
        t1 = time.perf_counter()
        gray = load_image(path)
        t2 = time.perf_counter()
        raw = filter_image(gray, options, path)
        t3 = time.perf_counter()
        pixels, _ = map_range(raw, options.write.output_range)
        save_image(pixels, out / f"{path.stem}.png")
        t4 = time.perf_counter()
        decode = t1 - t0
        for name, seconds in zip(
            stages, (decode, max(0.0, (t2 - t1) - decode), t3 - t2, t4 - t3), strict=True
        ):
            stages[name].append(seconds)
    # the decode was done twice above (once to time it): count the run without it
    return time.perf_counter() - start - sum(stages["decode"])


def convcli_batch(folder: Path, out: Path, jobs: int) -> float:
    options = Options.build(KERNELS["sharpen"], padding="same")
    start = time.perf_counter()
    batch = plan([folder], out, options)
    results = list(run(batch, options, jobs=jobs))
    seconds = time.perf_counter() - start
    failed = [r for r in results if not r.ok]
    if failed:
        sys.exit(f"bench: {len(failed)} failed, e.g. {failed[0].message}")
    return seconds


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*.png"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200, help="photos to generate (200)")
    parser.add_argument("--jobs", type=int, default=usable_cpus(), help="workers for -j N")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="convcli-bench-") as tmp:
        root = Path(tmp)
        photos = root / "photos"
        photos.mkdir()
        t = time.perf_counter()
        paths = make_photos(photos, args.count)
        print(
            f"{args.count} photo-like 1024x768 JPEGs generated in {time.perf_counter() - t:.1f} s; "
            f"{usable_cpus()} usable CPUs, load average {os.getloadavg()[0]:.1f}"
        )
        stage_names = ("decode", "convert", "convolve", "encode")
        plain_stages: dict[str, list[float]] = {n: [] for n in stage_names}
        ours_stages: dict[str, list[float]] = {n: [] for n in stage_names}
        for name in ("plain", "stages", "j1", "jN"):
            (root / name).mkdir()
        # interleave the order a little so a noisy neighbour hurts all alike
        times = {
            "plain loop": plain_loop(paths, root / "plain", plain_stages),
            "convcli -j 1": convcli_batch(photos, root / "j1", 1),
            f"convcli -j {args.jobs}": convcli_batch(photos, root / "jN", args.jobs),
        }
        convcli_stages(paths, root / "stages", ours_stages)
        plain = times["plain loop"]
        j1 = times["convcli -j 1"]
        print(f"\n{'run':<16}{'seconds':>9}{'images/s':>10}{'vs plain':>10}{'vs -j 1':>9}")
        for name, seconds in times.items():
            print(
                f"{name:<16}{seconds:>9.2f}{args.count / seconds:>10.1f}"
                f"{plain / seconds:>9.2f}x{j1 / seconds:>8.2f}x"
            )
        print(f"\n{'ms per image':<16}{'plain loop':>12}{'convcli':>10}  (median)")
        for name in stage_names:
            print(
                f"{name:<16}{statistics.median(plain_stages[name]) * 1000:>12.1f}"
                f"{statistics.median(ours_stages[name]) * 1000:>10.1f}"
            )
        total_plain = sum(statistics.median(v) for v in plain_stages.values()) * 1000
        total_ours = sum(statistics.median(v) for v in ours_stages.values()) * 1000
        print(f"{'total':<16}{total_plain:>12.1f}{total_ours:>10.1f}")
        same = all(
            (root / "j1" / p.name).read_bytes() == (root / "jN" / p.name).read_bytes()
            for p in (root / "j1").iterdir()
        )
        print(
            f"\noutput bytes: plain loop {folder_bytes(root / 'plain'):,} (Pillow's default "
            f"PNG level 6), convcli {folder_bytes(root / 'j1'):,}; "
            f"-j 1 and -j {args.jobs} identical: {'yes' if same else 'NO'}"
        )
        print("(timings on a shared machine are noisy; compare ratios from one run)")


if __name__ == "__main__":
    main()
