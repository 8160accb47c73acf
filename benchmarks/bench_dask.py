"""Dask: a batch on a 2-worker cluster against ``-j 2``, and what the cluster costs, in one run.

    python benchmarks/bench_dask.py            # 200 photos, 2,000 tiny images, 100,000 files
    python benchmarks/bench_dask.py --quick    # 40 photos, 500 tiny images, 10,000 files

1. **Photos.** The 200 photo-like 1024x768 JPEGs of bench_batch.py,
   grayscale + sharpen + ``same`` -> PNG, with ``-j 2`` (convcli's process
   pool) and on a ``LocalCluster`` of 2 single-threaded worker processes on
   127.0.0.1 (``--io shared`` and ``--io client``): rounds interleaved, the
   best of each kept. Overhead = Dask's time / ``-j 2``'s - 1 (target:
   at most 15%). The cluster's start-up is timed apart: a cluster outlives
   one batch. The outputs are checked byte for byte against ``-j 2``'s.
2. **Tiny images.** 8x8 PNGs: milliseconds per image with ``-j 1``,
   ``-j 2`` and on the cluster, with one job per task (Dask's own cost per
   task) and with convcli's tasks of several jobs (what a run does).
3. **Client memory.** ``convcli apply --scheduler tcp://...`` in a child
   process over 10,000 and 100,000 tiny files: its peak resident memory
   (``getrusage``), beside the peak of a child that only imports the same
   and plans the same batch: the plan (a list of jobs) grows with the
   batch; what the run adds on top of it must not.

Ratios measured here, now, on this machine; not a test, nothing asserted.
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_batch's photos

from bench_batch import make_photos

from convcli import KERNELS
from convcli.batch import plan, run
from convcli.batch.executors import dask as dask_executor
from convcli.batch.executors.cluster import open_cluster
from convcli.batch.executors.transfer import SharedFiles, ShippedFiles
from convcli.options import Options

SHARPEN = Options.build(KERNELS["sharpen"], padding="same")
PLAN_ONLY = """
import distributed  # noqa: F401  (imported by a cluster run too)
import sys
from convcli.batch import plan
from convcli.kernels import parse_kernel
from convcli.options import Options
plan([sys.argv[1]], sys.argv[2], Options.build(parse_kernel("sharpen"), padding="same"))
"""
# Peaks are measured one process down: a child's maxrss starts from its
# parent's at fork, so the benchmark itself (large by then) would count.
PEAK = """
import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)  # KiB on Linux
"""


def timed(folder: Path, out: Path, **how: object) -> float:
    batch = plan([folder], out, SHARPEN)
    start = time.perf_counter()
    for result in run(batch, SHARPEN, **how):  # type: ignore[arg-type]
        assert result.ok, result.message
    return time.perf_counter() - start


def same_bytes(a: Path, b: Path) -> bool:
    names = sorted(p.name for p in a.iterdir())
    return names == sorted(p.name for p in b.iterdir()) and all(
        (a / n).read_bytes() == (b / n).read_bytes() for n in names
    )


def tiny_files(folder: Path, count: int) -> None:
    folder.mkdir()
    Image.fromarray(np.arange(64, dtype=np.uint8).reshape(8, 8), "L").save(folder / "0.png")
    data = (folder / "0.png").read_bytes()
    for i in range(1, count):
        (folder / f"{i}.png").write_bytes(data)


def photos(root: Path, count: int, rounds: int) -> None:
    folder = root / "photos"
    folder.mkdir()
    make_photos(folder, count)
    start = time.perf_counter()
    with open_cluster(local=2, timeout=60) as executor:
        startup = time.perf_counter() - start
        transfers = {"shared": SharedFiles(), "client": ShippedFiles()}
        best: dict[str, float] = {}
        for round_ in range(rounds):
            for name in ("-j 2", "--io shared", "--io client"):
                out = root / f"{name.split()[-1]}-{round_}"
                if name == "-j 2":
                    seconds = timed(folder, out, jobs=2)
                else:
                    executor.transfer = transfers[name.split()[-1]]
                    seconds = timed(folder, out, executor=executor)
                best[name] = min(best.get(name, seconds), seconds)
        identical = all(
            same_bytes(root / f"2-{r}", root / f"{io}-{r}")
            for r in range(rounds)
            for io in ("shared", "client")
        )
    print(f"\n{count} photo-like 1024x768 JPEGs, sharpen, same -> PNG; best of {rounds} rounds")
    print(f"  LocalCluster of 2 worker processes started in {startup:.2f} s (not counted below)")
    base = best["-j 2"]
    for name, seconds in best.items():
        label = name if name == "-j 2" else f"dask, {name}"
        ratio = "" if name == "-j 2" else f"   overhead {seconds / base - 1:+.1%} (target <= +15%)"
        print(f"  {label:18} {seconds:7.2f} s  {count / seconds:6.1f} images/s{ratio}")
    print(f"  outputs identical to -j 2: {identical}")


def tiny(root: Path, count: int) -> None:
    folder = root / "tiny"
    tiny_files(folder, count)
    rows = [
        ("-j 1", timed(folder, root / "t-j1", jobs=1)),
        ("-j 2", timed(folder, root / "t-j2", jobs=2)),
    ]
    with open_cluster(local=2, timeout=60) as executor:
        most = dask_executor.MOST_PER_TASK
        try:
            dask_executor.MOST_PER_TASK = 1
            rows.append(("dask, 1 job per task", timed(folder, root / "t-d1", executor=executor)))
        finally:
            dask_executor.MOST_PER_TASK = most
        rows.append(("dask, convcli's tasks", timed(folder, root / "t-dN", executor=executor)))
    print(f"\n{count} tiny 8x8 PNGs (sharpen, same): wall time per image, 2 CPUs")
    for name, seconds in rows:
        print(f"  {name:22} {seconds / count * 1000:7.3f} ms")
    extra = (dict(rows)["dask, 1 job per task"] - dict(rows)["-j 2"]) / count * 1000
    print(f"  one job per task costs {extra:.1f} ms more per image than -j 2 (Dask's round trip)")


def memory(root: Path, counts: list[int]) -> None:
    print("\nclient memory, convcli apply -q --scheduler tcp://... (a child process), tiny files")
    with open_cluster(local=2, timeout=60) as executor:
        address = executor.client.scheduler.address
        for count in counts:
            folder = root / f"mem-{count}"
            tiny_files(folder, count)
            out = root / f"mem-out-{count}"
            tracemalloc.start()
            plan([folder], out, SHARPEN)
            planned = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            alone = subprocess.run(
                [sys.executable, "-c", PEAK, sys.executable, "-c", PLAN_ONLY, folder, out],
                capture_output=True,
                text=True,
                check=True,
            )
            baseline = int(alone.stdout.strip().splitlines()[-1]) / 1024
            start = time.perf_counter()
            args = ["apply", "-q", "-k", "sharpen", "-p", "same", "--scheduler", str(address)]
            done = subprocess.run(
                [sys.executable, "-c", PEAK, sys.executable, "-m", "convcli", *args, folder, out],
                capture_output=True,
                text=True,
                check=True,
            )
            seconds = time.perf_counter() - start
            peak = int(done.stdout.strip().splitlines()[-1]) / 1024
            print(
                f"  {count:>7,} files: peak {peak:6.1f} MiB; planning alone peaks at "
                f"{baseline:6.1f} MiB (its objects {planned / 2**20:5.1f} MiB): "
                f"the run adds {peak - baseline:+5.1f} MiB; {count / seconds:,.0f} files/s"
            )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller batches")
    args = parser.parse_args(argv)
    logging.getLogger("distributed").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="bench-dask-") as tmp:
        root = Path(tmp)
        os.environ["TMPDIR"] = tmp  # the workers' scratch space goes with the rest
        photos(root, 40 if args.quick else 200, 2 if args.quick else 3)
        tiny(root, 500 if args.quick else 2000)
        memory(root, [2000, 10_000] if args.quick else [10_000, 100_000])


if __name__ == "__main__":
    main()
