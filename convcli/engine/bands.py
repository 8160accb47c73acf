"""The band runner: a strategy over row bands, from a reader to a sink, on threads.

A band of output rows needs only the padded rows under it plus the kernel's
halo (:meth:`Geometry.input_rows`), built on the fly by the reader into a
buffer that stays in the CPU cache, so each pixel is read from memory once
and written once. Bands are dealt out to threads round-robin (NumPy releases
the GIL in its array loops); each thread has its own scratch buffers, and the
sink receives finished bands in any order.

The thread count is explicit: ``threads=None`` means one thread for small
outputs (``CostModel.thread_min_pixels``) and :func:`convcli.cpus.usable_cpus`
otherwise. A caller that already runs one image per core (the batch runner's
worker processes) passes ``threads=1``.
"""

from __future__ import annotations

import numpy as np

from ..cpus import usable_cpus
from . import cost
from .base import Strategy, buffer
from .geometry import Geometry
from .reader import Reader
from .sinks import Sink

__all__ = ["run_bands", "thread_count"]


def thread_count(threads: int | None, pixels: int, bands: int) -> int:
    """Threads to use: ``threads`` (default by size, see above), never more than ``bands``.

    >>> thread_count(None, 100, 10), thread_count(4, 10**8, 3)
    (1, 3)
    """
    if threads is None:
        threads = 1 if pixels < cost.current().thread_min_pixels else usable_cpus()
    return max(1, min(threads, bands))


def run_bands(
    reader: Reader,
    strategy: Strategy,
    geometry: Geometry,
    out_shape: tuple[int, ...],
    sink: Sink,
    threads: int | None,
    dtype: np.dtype,
) -> None:
    """Compute every output row with ``strategy``, reading ``reader``, writing ``sink``.

    ``dtype`` is the working dtype of the bands a sink receives; ``out_shape``
    is ``(rows, cols)``, or ``(rows, cols, maps)`` for a filter bank.
    """
    oh, ow = out_shape[:2]
    rows = strategy.band_rows(reader.shape[1], ow)
    bands = [(r0, min(r0 + rows, oh)) for r0 in range(0, oh, rows)]
    workers = thread_count(threads, oh * ow, len(bands))

    def work(chunk: list[tuple[int, int]]) -> None:
        scratch: dict[str, np.ndarray] = {}
        # inf - inf is NaN and huge sums overflow: results, not errors (the
        # engine never prints, and a caller's warnings filter must not turn them
        # into exceptions half-way through a band).
        with np.errstate(invalid="ignore", over="ignore"):
            _bands(chunk, scratch)

    # The compiled loop reads the image through the reader's index maps itself:
    # no padded copy of each band (fused.Compiled.image_band).
    image_band = getattr(strategy, "image_band", None)

    def _bands(chunk: list[tuple[int, int]], scratch: dict[str, np.ndarray]) -> None:
        for r0, r1 in chunk:
            p0, p1 = geometry.input_rows(r0, r1)
            dst = sink.view(r0, r1)
            if dst is None:
                dst = buffer(scratch, "dst", (r1 - r0, *out_shape[1:]), dtype)
            if image_band is None or not image_band(reader, p0, p1, dst):
                strategy.band(reader.rows(p0, p1, scratch), dst, scratch)
            sink.write(r0, dst)

    if workers == 1:
        work(bands)
        return
    from concurrent.futures import ThreadPoolExecutor  # only large images pay the import

    chunks = [bands[i::workers] for i in range(workers)]
    with ThreadPoolExecutor(workers) as pool:
        for future in [pool.submit(work, chunk) for chunk in chunks]:
            future.result()
