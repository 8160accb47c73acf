"""How many CPUs this process may use, and who uses them: the one place for both."""

from __future__ import annotations

import os

__all__ = ["BLAS_THREADS", "one_blas_thread", "usable_cpus"]

#: What OpenBLAS, OpenMP and MKL read for the size of their thread pools.
BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def usable_cpus() -> int:
    """CPUs this process may run on (affinity-aware where the OS says).

    >>> usable_cpus() >= 1
    True
    """
    count = getattr(os, "process_cpu_count", None)
    if count is not None:
        return int(count() or 1)
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def one_blas_thread() -> None:
    """Have NumPy's BLAS run on the calling thread, unless the user sized its pool.

    convcli parallelises itself: the band runner's threads and ``-j``'s worker
    processes already fill the CPUs, so a BLAS pool on top (OpenBLAS starts one
    thread per core when NumPy is imported) only competes with them. On 2 cores a
    filter bank's matrix products ran up to 7x slower with it (20 photos through a
    5x5x1x8 bank: 21 s against 3 s, under load), and the pool's start alone costs
    about 30 ms of CPU per process. The variables are read once, when NumPy loads
    its BLAS: the command line calls this first thing; worker processes inherit it.
    """
    if not any(name in os.environ for name in BLAS_THREADS):
        for name in BLAS_THREADS:
            os.environ[name] = "1"
