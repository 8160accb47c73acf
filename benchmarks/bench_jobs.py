"""Does the default -j pick well? The whole command, default vs -j 1 vs -j N, same run.

    python benchmarks/bench_jobs.py              # 50 small JPEGs, 60 photos 1600x1200
    python benchmarks/bench_jobs.py --rounds 7 --only photos

Issue 13's targets: for small images the default must never be more than 10%
slower than ``-j 1`` (starting a pool costs time that 50 small images do not
repay), and for sixty 1600x1200 photos on 2 cores it must still be at least
1.8x faster than ``-j 1``. Each case runs the installed console script
(start-up included, as a user sees it), rounds interleaved (each variant first
in turn) so that a change of machine load hits every variant alike; the median
of the rounds is reported. One untimed run of each variant comes first: it
writes convcli's ``.pyc`` files (as ``pip install .`` does; with
``PYTHONDONTWRITEBYTECODE`` set every run would compile convcli's modules
again, ~60 ms that count once per process) and reads the inputs into the page
cache.

Besides wall time, each variant's CPU time (user + sys of the whole process
tree: the command, its workers and any forkserver, gathered by making this
script their subreaper on Linux) is reported: that one holds on a busy
machine, and N workers that burn much more CPU than ``-j 1`` are overhead.
Wall ratios need a quiet machine (the load average is printed before and
after): with other work running, 2 workers cannot show their speed-up.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_batch import make_photos

from convcli.cpus import usable_cpus

SCRIPT = str(Path(sys.executable).with_name("convcli"))
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | {"NO_COLOR": "1"}
CASES = {
    "small": ("50 small JPEGs 160x120", 50, (160, 120)),
    "photos": ("60 photos 1600x1200", 60, (1600, 1200)),
}


def subreaper() -> bool:
    """Become the subreaper of this script's descendants (Linux), so that a
    forkserver and its workers, orphaned when the command exits, are reaped
    here and their CPU time counts in RUSAGE_CHILDREN."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        return ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) == 0  # SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


def timed(args: list[str], out: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the whole process tree) of one command."""
    shutil.rmtree(out, ignore_errors=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    process = subprocess.Popen([SCRIPT, *args, str(out)], env=ENV)
    if process.wait() != 0:
        raise SystemExit(f"bench_jobs: {' '.join(args)} failed")
    wall = time.perf_counter() - start
    while True:  # orphans that came to us (a forkserver, say): wait for them too
        try:
            os.wait()
        except ChildProcessError:
            break
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def chosen(folder: Path, out: Path) -> int:
    shutil.rmtree(out, ignore_errors=True)
    done = subprocess.run(
        [SCRIPT, "apply", "-q", "-k", "sharpen", "--json", str(folder), str(out)],
        check=True,
        capture_output=True,
        text=True,
        env=ENV,
    )
    return int(json.loads(done.stdout)["options"]["jobs"])


def load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", choices=sorted(CASES), help="one case")
    args = parser.parse_args(argv)
    cpus = usable_cpus()
    whole_tree = subreaper()
    print(
        f"usable CPUs: {cpus}; rounds: {args.rounds} (median); load average {load()} (1/5/15 min)"
    )
    if not whole_tree:
        print("(not Linux: CPU seconds miss the workers of a forkserver)")
    print(
        f"| batch | default -j picks | default s | -j 1 s | -j {cpus} s | -j 1 / default "
        f"| CPU s -j 1 / default / -j {cpus} |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for key in [args.only] if args.only else list(CASES):
            label, count, size = CASES[key]
            folder = root / f"in-{count}"
            folder.mkdir()
            make_photos(folder, count, size)
            base = ["apply", "-q", "-k", "sharpen", str(folder)]
            variants = {
                "default": base,
                "1": [*base[:-1], "-j", "1", base[-1]],
                str(cpus): [*base[:-1], "-j", str(cpus), base[-1]],
            }
            for variant in variants.values():  # untimed: .pyc written, inputs cached
                timed(variant, root / "out")
            walls: dict[str, list[float]] = {k: [] for k in variants}
            cpu: dict[str, list[float]] = {k: [] for k in variants}
            order = list(variants)
            for round_ in range(args.rounds):  # each variant first in turn: no order bias
                for name in order[round_ % 3 :] + order[: round_ % 3]:
                    wall, used = timed(variants[name], root / "out")
                    walls[name].append(wall)
                    cpu[name].append(used)
            med = {k: statistics.median(v) for k, v in walls.items()}
            used = " / ".join(
                f"{statistics.median(cpu[k]):.2f}" for k in ("1", "default", str(cpus))
            )
            print(
                f"| {label} | {chosen(folder, root / 'out')} | {med['default']:.2f} "
                f"| {med['1']:.2f} | {med[str(cpus)]:.2f} | {med['1'] / med['default']:.2f}x "
                f"| {used} |"
            )
    print(f"load average after: {load()}")
    print(
        "targets: small, -j 1 / default >= 0.91 (default at most 10% slower); "
        "photos on 2 cores, >= 1.8x"
    )


if __name__ == "__main__":
    main()
