"""The command line end to end: start-up on one small image, and a batch of photos.

    python benchmarks/bench_cli.py              # 200 photo-like 1024x768 JPEGs
    python benchmarks/bench_cli.py --count 40   # quicker

1. One 224x224 JPEG through ``convcli apply -k sharpen`` in a fresh process,
   against the floor of any such tool, ``python -c 'import numpy, PIL.Image'``,
   and against what any Click + Pillow tool pays before its own code: Pillow
   decoding, graying and encoding the same image, alone and with click imported.
2. A batch (grayscale, ``sharpen``, ``same``, PNG out) through
   ``convcli apply -j 1`` and ``-j N`` (N = the usable CPUs), against a plain
   sequential Pillow loop with Pillow's default PNG settings, and against
   ImageMagick's ``mogrify`` (all cores, OpenMP) when the real ImageMagick is
   installed (``apt-get install imagemagick``; never a dependency).
3. The PNG encoder settings on the same results: time and bytes.

Everything runs on data generated here, in one run, and is reported as
ratios; wall-clock times are the best of a few runs. Not a test.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from convcli import KERNELS
from convcli.cpus import BLAS_THREADS
from convcli.engine import convolve
from convcli.imageio import png_settings, to_uint8

BIN = Path(sys.executable).parent
SHARPEN = KERNELS["sharpen"].weights


def photo(width: int, height: int, seed: int) -> Image.Image:
    """A photo-like RGB image: gradients, blobs at several scales, fine grain."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32) / max(width, height)
    channels = []
    for c in range(3):
        a, b = rng.uniform(2, 8, 2)
        base = 120 + 60 * np.sin(a * x + c) * np.cos(b * y) + 30 * np.sin(20 * x * y + c)
        channels.append(base)
    image = np.stack(channels, axis=-1)
    coarse = rng.integers(0, 256, (height // 32 + 1, width // 32 + 1, 3), dtype=np.uint8)
    blobs = Image.fromarray(coarse, "RGB").resize((width, height), Image.Resampling.BICUBIC)
    image += 0.4 * (np.asarray(blobs, np.float32) - 128)
    image += rng.normal(0, 5, (height, width, 1)).astype(np.float32)
    return Image.fromarray(np.clip(image, 0, 255).astype(np.uint8), "RGB")


def wall(command: list[str], runs: int) -> float:
    """Best wall time of ``runs`` runs of a command (which must succeed)."""
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - start)
    return best


def child(
    command: list[str], runs: int, env: dict[str, str] | None = None
) -> tuple[float, float, int]:
    """Best wall time, best CPU time (user + system) and largest peak RSS (bytes) of
    ``runs`` runs of a command, each measured on its own process (``os.wait4``).

    CPU time is the steadier figure on a busy machine: waiting for a core is not in it.
    """
    best_wall = best_cpu = float("inf")
    peak = 0
    for _ in range(runs):
        start = time.perf_counter()
        process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
        )
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = code = os.waitstatus_to_exitcode(status)
        if code:
            sys.exit(f"{command[0]} failed (exit {code}): benchmark invalid")
        best_wall = min(best_wall, time.perf_counter() - start)
        best_cpu = min(best_cpu, usage.ru_utime + usage.ru_stime)
        peak = max(peak, usage.ru_maxrss * 1024)  # kilobytes on Linux
    return best_wall, best_cpu, peak


def folder_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.glob("*.png"))


def real_mogrify() -> str | None:
    mogrify = shutil.which("mogrify")
    if mogrify is None:
        return None
    try:
        done = subprocess.run([mogrify, "-version"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return mogrify if "ImageMagick" in done.stdout else None


def compile_package() -> None:
    """Write convcli's .pyc files, as ``pip install`` does: with PYTHONDONTWRITEBYTECODE
    set (as on the machine these figures come from) an editable install would
    otherwise recompile every module on every run (~60 ms), unlike numpy's."""
    import convcli

    folder = Path(convcli.__file__).parent
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(folder)], check=True)


def single_image(tmp: Path, runs: int) -> None:
    compile_package()
    source = tmp / "small.jpg"
    photo(224, 224, 0).save(source, quality=90)
    convcli = str(BIN / "convcli")
    run = [convcli, "apply", "-f", "-k", "sharpen", str(source), str(tmp / "s.png")]
    # What any Click + Pillow tool pays before its own code: the same image decoded,
    # made gray and encoded by Pillow alone, then with click imported too; run as
    # convcli starts (one BLAS thread, cpus.one_blas_thread; no garbage collection,
    # cli.main), so that the difference is convcli's own code.
    job = (
        "import gc; gc.disable(); import numpy, PIL.Image as I; "
        f"I.fromarray(numpy.asarray(I.open({str(source)!r}).convert('L')))"
        f".save({str(tmp / 'p.png')!r})"
    )
    plain = dict(os.environ)
    one_blas = {**plain, **dict.fromkeys(BLAS_THREADS, "1")}
    floor = [sys.executable, "-c", "import numpy, PIL.Image"]
    pillow = [sys.executable, "-c", job]
    commands = [
        ("python -c 'import numpy, PIL.Image' (floor)", floor, plain),
        ("the floor with one BLAS thread", floor, one_blas),
        ("Pillow alone: open, gray, save PNG (as convcli starts)", pillow, one_blas),
        ("the same with click imported", [sys.executable, "-c", job + "; import click"], one_blas),
        ("convcli apply -k sharpen in.jpg out.png", run, plain),
        ("convcli apply -q ...", [*run[:2], "-q", *run[2:]], plain),
        ("convcli --help", [convcli, "--help"], plain),
    ]  # fmt: skip
    mogrify = real_mogrify()
    magick = Path(mogrify).with_name("convert") if mogrify else None
    if magick is not None and magick.exists():
        commands.append((
            "ImageMagick convert in.jpg -colorspace Gray -convolve sharpen out.png",
            [str(magick), str(source), "-colorspace", "Gray", "-convolve",
             "0,-1,0,-1,5,-1,0,-1,0", str(tmp / "m.png")],
            plain,
        ))  # fmt: skip
    print("## One 224x224 JPEG, fresh process (best of", runs, "rounds)\n")
    print(f"ImageMagick: {magick if magick else 'not installed (skipped)'}\n")
    print("| command | wall ms | / floor | CPU ms | / floor |")
    print("| --- | --- | --- | --- | --- |")
    # Rounds, each command once per round: a change of load hits every row alike.
    best: dict[str, tuple[float, float]] = {}
    for _ in range(runs):
        for label, command, env in commands:
            seconds, cpu, _ = child(command, 1, env)
            old = best.get(label, (float("inf"), float("inf")))
            best[label] = (min(old[0], seconds), min(old[1], cpu))
    floor_wall, floor_cpu = best[commands[0][0]]
    for label, _, _ in commands:
        seconds, cpu = best[label]
        print(
            f"| `{label}` | {seconds * 1000:.0f} | {seconds / floor_wall:.2f}x "
            f"| {cpu * 1000:.0f} | {cpu / floor_cpu:.2f}x |"
        )
    walls = {label: wall for label, (wall, _) in best.items()}
    own = walls["convcli apply -k sharpen in.jpg out.png"] - walls["the same with click imported"]
    print(
        f"\nconvcli's own share (apply minus click + Pillow doing the same image): "
        f"{own * 1000:.0f} ms = {own / floor_wall:.2f}x the floor\n"
    )


def colour(tmp: Path, runs: int) -> None:
    """A 4000x3000 photo through the fused path, gray and --color: time and peak RSS."""
    source = tmp / "big.jpg"
    # Made in another process: a child's peak RSS starts from its parent's at fork,
    # and this one would otherwise hold the gigabyte the photo took to make.
    make = f"import bench_cli; bench_cli.photo(4000, 3000, 7).save({str(source)!r}, quality=90)"
    subprocess.run([sys.executable, "-c", make], check=True, cwd=Path(__file__).parent)
    convcli = [str(BIN / "convcli"), "apply", "-q", "-f", "-k", "sharpen", "-p", "same"]
    gray = child([*convcli, str(source), str(tmp / "gray.png")], runs)
    rgb = child([*convcli, "--color", str(source), str(tmp / "rgb.png")], runs)
    print(f"## One 4000x3000 JPEG -> PNG, sharpen, same (best of {runs} runs)\n")
    print("| run | wall s | CPU s | peak RSS MB |")
    print("| --- | --- | --- | --- |")
    for label, (seconds, cpu, peak) in (("gray", gray), ("--color", rgb)):
        print(f"| {label} | {seconds:.2f} | {cpu:.2f} | {peak / 1e6:.0f} |")
    print(
        f"\n--color / gray: {rgb[0] / gray[0]:.2f}x wall, {rgb[1] / gray[1]:.2f}x CPU; "
        f"peak RSS {rgb[2] / 1e6:.0f} MB (decoded RGB image: {4000 * 3000 * 3 / 1e6:.0f} MB)\n"
    )


def plain_loop(sources: list[Path], out: Path) -> float:
    """What one writes by hand: open, grayscale, convolve, clip, save (Pillow defaults)."""
    out.mkdir()
    start = time.perf_counter()
    for source in sources:
        with Image.open(source) as image:
            gray = np.asarray(ImageOps.grayscale(image))
        result = to_uint8(convolve(gray, SHARPEN, padding="same"))
        Image.fromarray(result, "L").save(out / f"{source.stem}.png")
    return time.perf_counter() - start


def batch(tmp: Path, count: int) -> None:
    photos = tmp / "photos"
    photos.mkdir()
    for i in range(count):
        photo(1024, 768, i).save(photos / f"p{i:03d}.jpg", quality=88)
    sources = sorted(photos.glob("*.jpg"))
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    convcli = [str(BIN / "convcli"), "apply", "-q", "-k", "sharpen", "-p", "same"]
    rows = []
    loop = plain_loop(sources, tmp / "loop")
    rows.append(("plain loop, Pillow PNG defaults (1 process)", loop, folder_bytes(tmp / "loop")))
    for jobs in (1, cpus):
        out = tmp / f"j{jobs}"
        start = time.perf_counter()
        subprocess.run([*convcli, "-j", str(jobs), *map(str, sources), f"{out}/"], check=True)
        rows.append((f"convcli apply -j {jobs}", time.perf_counter() - start, folder_bytes(out)))
    mogrify = real_mogrify()
    if mogrify:
        out = tmp / "magick"
        out.mkdir()
        command = [mogrify, "-path", str(out), "-format", "png", "-colorspace", "Gray"]
        command += ["-convolve", "0,-1,0,-1,5,-1,0,-1,0", *map(str, sources)]
        start = time.perf_counter()
        subprocess.run(command, check=True)
        rows.append(
            ("ImageMagick mogrify (all cores)", time.perf_counter() - start, folder_bytes(out))
        )
    print(f"## Batch: {count} JPEGs of 1024x768 -> grayscale, sharpen, same, PNG\n")
    print(f"{cpus} usable CPUs; ImageMagick: {mogrify or 'not installed (skipped)'}\n")
    print("| run | s | images/s | vs plain loop | vs mogrify | output MB |")
    print("| --- | --- | --- | --- | --- | --- |")
    magick = rows[-1][1] if mogrify else None
    for label, seconds, size in rows:
        versus = f"{magick / seconds:.2f}x" if magick else "-"
        print(
            f"| {label} | {seconds:.2f} | {count / seconds:.1f} | {loop / seconds:.2f}x "
            f"| {versus} | {size / 1e6:.2f} |"
        )
    print()
    png_table(sorted((tmp / f"j{cpus}").glob("*.png"))[:20])


def png_table(outputs: list[Path]) -> None:
    """Encode the same filtered images with each setting: time and bytes."""
    arrays = []
    for path in outputs:
        with Image.open(path) as image:
            arrays.append(image.copy())
    settings = [
        ("Pillow default (zlib level 6)", {}),
        ("convcli default (level 6, Z_RLE)", png_settings(None)),
        ("--png-compression 1", png_settings(1)),
        ("--png-compression 9", png_settings(9)),
        ("--png-compression 0", png_settings(0)),
        ("Pillow optimize=True", {"optimize": True}),
    ]
    print(f"## PNG encoding of {len(arrays)} filtered 1024x768 images\n")
    print("| setting | ms per image | bytes vs Pillow default | speed vs Pillow default |")
    print("| --- | --- | --- | --- |")
    base_time = base_bytes = None
    for label, params in settings:
        best, size = float("inf"), 0
        for _ in range(3):
            size = 0
            start = time.perf_counter()
            for image in arrays:
                buffer = io.BytesIO()
                image.save(buffer, format="PNG", **params)
                size += buffer.tell()
            best = min(best, time.perf_counter() - start)
        if base_time is None:
            base_time, base_bytes = best, size
        print(
            f"| {label} | {best / len(arrays) * 1000:.1f} | {size / base_bytes - 1:+.2%} "
            f"| {base_time / best:.2f}x |"
        )
    print()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200, help="photos in the batch (200)")
    parser.add_argument("--runs", type=int, default=15, help="runs of the one-image timing (15)")
    args = parser.parse_args(argv)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    print(f"load average at start: {load}\n")
    with tempfile.TemporaryDirectory(prefix="convcli-bench-") as tmp:
        single_image(Path(tmp), args.runs)
        colour(Path(tmp), 3)
        batch(Path(tmp), args.count)


if __name__ == "__main__":
    main()
