"""Does the default -j pick well? The whole command, default vs -j 1 vs -j N, same run.

    python benchmarks/bench_jobs.py              # 50 small JPEGs, 60 photos 1600x1200

Issue 13's targets: for small images the default must never be more than 10%
slower than ``-j 1`` (starting a pool costs about 0.25 s, more than 50 small
images take), and for sixty 1600x1200 photos on 2 cores it must still be at
least 1.8x faster than ``-j 1``. Each case runs the installed console script
(start-up included, as a user sees it), rounds interleaved (each variant first
in turn) so that a change of machine load hits every variant alike; the median
of the rounds is reported. Read it on a quiet machine: with other work running,
2 workers cannot show their speed-up.
"""

from __future__ import annotations

import argparse
import os
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


def timed(args: list[str], out: Path) -> float:
    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    subprocess.run([SCRIPT, *args, str(out)], check=True, env={**os.environ, "NO_COLOR": "1"})
    return time.perf_counter() - start


def chosen(folder: Path, out: Path) -> int:
    shutil.rmtree(out, ignore_errors=True)
    done = subprocess.run(
        [SCRIPT, "apply", "-q", "-k", "sharpen", "--json", str(folder), str(out)],
        check=True,
        capture_output=True,
        text=True,
    )
    import json

    return int(json.loads(done.stdout)["options"]["jobs"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    cpus = usable_cpus()
    cases = [("50 small JPEGs 160x120", 50, (160, 120)), ("60 photos 1600x1200", 60, (1600, 1200))]
    print(f"usable CPUs: {cpus}; rounds: {args.rounds} (median)")
    print(f"| batch | default -j picks | default s | -j 1 s | -j {cpus} s | -j 1 / default |")
    print("| --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for label, count, size in cases:
            folder = root / f"in-{count}"
            folder.mkdir()
            make_photos(folder, count, size)
            base = ["apply", "-q", "-k", "sharpen", str(folder)]
            times: dict[str, list[float]] = {"default": [], "1": [], str(cpus): []}
            variants = {
                "default": base,
                "1": [*base[:-1], "-j", "1", base[-1]],
                str(cpus): [*base[:-1], "-j", str(cpus), base[-1]],
            }
            order = list(variants)
            for round_ in range(args.rounds):  # each variant first in turn: no order bias
                for key in order[round_ % 3 :] + order[: round_ % 3]:
                    times[key].append(timed(variants[key], root / "out"))
            med = {k: statistics.median(v) for k, v in times.items()}
            print(
                f"| {label} | {chosen(folder, root / 'out')} | {med['default']:.2f} "
                f"| {med['1']:.2f} | {med[str(cpus)]:.2f} | {med['1'] / med['default']:.2f}x |"
            )
    print(
        "targets: small, -j 1 / default >= 0.91 (default at most 10% slower); "
        "photos on 2 cores, >= 1.8x"
    )


if __name__ == "__main__":
    main()
